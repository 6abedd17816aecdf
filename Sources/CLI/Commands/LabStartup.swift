import Glibc
import Kernel
import Lab
import LinuxBackend

/// Starting a lab session, shared by the REPL, `lesson`, `record` and `replay`: the signal
/// handlers that guarantee teardown, a cleanup after a crashed session, and fresh sessions.
enum LabStartup {
  /// SIGTERM and SIGHUP tear down (kill every helper, remove the ledger) and exit 143 or 129. A
  /// closed output pipe (`boxwalk | head`) must end the session through teardown, not kill it
  /// with SIGPIPE and leave its ledger behind: SIGPIPE is ignored and writes see EPIPE.
  static func installSignalHandling() {
    _ = FatalSignalTeardown.install()
    if isatty(STDIN_FILENO) != 1 { _ = FatalSignalTeardown.installForInterrupt() }
    signal(SIGPIPE, SIG_IGN)
  }

  /// On the real and rootless backends, a session that crashed left its ledger behind: clean up
  /// after it and say so (README.md, "Command line"). Each backend has its own state root
  /// (docs/security.md, "Where sessions live").
  static func cleanUpAfterCrashes(_ backend: Backend, terminal: Terminal) {
    let stateRoot: String
    switch backend {
    case .real where geteuid() == 0: stateRoot = "/run/boxwalk"
    case .rootless: stateRoot = LinuxKernel.rootlessStateRoot()
    case .real, .sim: return
    }
    if backend == .rootless, let note = LinuxKernel.rootlessStateRootNote() { terminal.write(["note: " + note]) }
    let cleaned = LedgerCleanup.run(stateRoot: stateRoot, reportLive: false)
    if !cleaned.isEmpty { terminal.write(["cleaned up after a crashed session:"] + cleaned.map { "  " + $0 }) }
    let tidied = LinuxKernel.tidyImageStore(rootless: backend == .rootless)
    if !tidied.isEmpty { terminal.write(["image store:"] + tidied.map { "  " + $0 }) }
  }

  /// A fresh session on `backend`; the error carries the lines to print and the exit status.
  /// - Parameter ephemeralImages: on the real and rootless backends, an image store of the
  ///   session's own (busybox alone at the start, removed with the session) instead of the
  ///   machine's.
  static func session(_ backend: Backend, json: Bool, ephemeralImages: Bool = false) throws(ExitError) -> Session {
    let kernel = try BackendChoice.make(backend, ephemeralImages: ephemeralImages)
    do {
      let session = try Session(kernel: kernel, json: json)
      // Pictures follow this terminal (transcript tests make their sessions elsewhere, plain).
      session.pictureStyle = PictureStyle.detect(terminal: Terminal.detect())
      return session
    } catch {
      kernel.teardown()
      throw ExitError(ExitStatus.precondition, ["error: could not read the kernel state: \(error)"])
    }
  }

  /// The factory the lesson engine rebuilds labs with: the same backend, errors as `LabError`.
  ///
  /// A lesson's lab is rebuilt by replaying its commands (`lesson`, `back`, `reset`, and `lint`
  /// walking it on each backend), so its images must be rebuilt with it: each lab gets an image
  /// store of its own, holding busybox alone, as the simulator's does. With the machine's store,
  /// a replayed `commit web-v1` would find the image it made the first time and fail, and a
  /// check that an image exists would pass before the learner made it.
  static func sessionFactory(_ backend: Backend, json: Bool) -> () throws -> Session {
    {
      do throws(ExitError) {
        return try session(backend, json: json, ephemeralImages: true)
      } catch {
        let head = error.lines.first.map { $0.hasPrefix("error: ") ? String($0.dropFirst(7)) : $0 } ?? "failed"
        throw LabError(head, error.lines.dropFirst().map { ("detail", $0.trimmed) })
      }
    }
  }
}
