import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// The built `boxwalk` binary running as a child of the test, driven through pipes the way a script
/// drives it (a piped REPL echoes each command as `PROMPT COMMAND` before its output and
/// flushes after every step). The test knows its PID, so it can signal exactly this process and
/// nothing else.
final class SafetyRepl {
  let pid: pid_t
  private var input: Int32
  private var outputFD: Int32
  /// Everything the REPL printed so far (stdout and stderr, interleaved as written).
  private(set) var output = ""
  private var exitStatus: Int32?

  /// How long any single wait may take before the test gives up and kills the child. A stuck REPL
  /// would otherwise hang `swift test`; this bounds a hang, it does not measure speed.
  static let patience: Double = 30

  private init(pid: pid_t, input: Int32, output: Int32) {
    self.pid = pid
    self.input = input
    self.outputFD = output
  }

  deinit {
    if exitStatus == nil {
      _ = Glibc.kill(pid, SIGKILL)
      _ = wait()
    }
    if input >= 0 { close(input) }
    if outputFD >= 0 { close(outputFD) }
  }

  /// posix_spawn(3) `boxwalk ARGS` with NO_COLOR=1, standard input and output on pipes.
  static func start(_ arguments: [String]) throws -> SafetyRepl {
    var toChild: [Int32] = [-1, -1]
    var fromChild: [Int32] = [-1, -1]
    guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw POSIXError(.EMFILE) }
    // Our ends must not leak into anything else this test process spawns (nor into the helpers).
    for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
    posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fromChild[1], 2)
    let argv = [CommandLineTests.binDir + "/boxwalk"] + arguments
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in cEnv { free(p) } }
    // The child must start the way a shell starts it: every signal at its default action and
    // none blocked. posix_spawn(3) otherwise passes on this thread's signal mask (and any
    // SIG_IGN), and a test runner thread may block signals: SIGTERM would then stay pending forever.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    var all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
    close(toChild[0])
    close(fromChild[1])
    guard rc == 0 else {
      close(toChild[1])
      close(fromChild[0])
      throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO)
    }
    return SafetyRepl(pid: pid, input: toChild[1], output: fromChild[0])
  }

  /// Sends command lines.
  func send(_ lines: [String]) {
    var bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeMutableBytes { write(input, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }  // the REPL is gone; what it printed says why
      offset += n
    }
  }

  /// Sends `lines`, then a comment line, and waits until the REPL echoes the comment: the REPL
  /// echoes a line before running it and handles lines in order, so by then every line before it
  /// has finished and its output is here. Returns the output of `lines`.
  @discardableResult
  func run(_ lines: [String], marker: String = "sync") throws -> [String] {
    let start = output.endIndex
    let comment = "# \(marker) \(UUID().uuidString)"
    send(lines + [comment])
    guard readUntil({ $0.contains("> " + comment + "\n") }) else {
      throw SafetyReplError(message: "no echo of \(comment) in time; output so far:\n\(output)")
    }
    let text = output[start...]
    let upToMarker = text[..<(text.range(of: comment)?.lowerBound ?? text.endIndex)]
    var result = upToMarker.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    result.removeLast()  // the prompt that echoes the marker
    return result
  }

  /// Reads output until `done(output)` holds or the REPL closes its output. False if it never held.
  func readUntil(_ done: (String) -> Bool) -> Bool {
    var waited = 0.0
    var buffer = [UInt8](repeating: 0, count: 65536)
    while !done(output) {
      var poller = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, 100)
      if ready == 0 {
        waited += 0.1
        if waited > Self.patience { return false }
        continue
      }
      if ready < 0 {
        if errno == EINTR { continue }
        return false
      }
      let n = read(outputFD, &buffer, buffer.count)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return done(output) }
      output += String(decoding: buffer[0..<n], as: UTF8.self)
    }
    return true
  }

  /// kill(2) this child, and only it.
  func signal(_ signal: Int32) { _ = Glibc.kill(pid, signal) }

  /// End of input: the REPL tears down and exits.
  func closeInput() {
    if input >= 0 { close(input) }
    input = -1
  }

  enum Ending: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    var description: String {
      switch self {
      case .exited(let code): "exit status \(code)"
      case .signalled(let sig): "killed by signal \(sig)"
      }
    }
  }

  /// waitpid(2) for the REPL, then reads what is left of its output (bounded: helpers that still
  /// hold the write end die with their parent, PR_SET_PDEATHSIG).
  @discardableResult
  func wait() -> Ending {
    if exitStatus == nil {
      var status: Int32 = 0
      var waited = 0.0
      while true {
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid { break }
        if rc < 0 && errno != EINTR { break }
        if waited > Self.patience {
          // A REPL that ignores its end of input is a bug; do not hang the whole test run on it.
          Issue.record("boxwalk (pid \(pid)) did not exit; killing it")
          _ = Glibc.kill(pid, SIGKILL)
        }
        usleep(10_000)
        waited += 0.01
      }
      exitStatus = status
      _ = readUntil { _ in false }
    }
    let status = exitStatus ?? 0
    return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
  }

  /// The boxwalk-helper processes this REPL started (its children named boxwalk-helper), as
  /// (pid, start time) so a later check cannot be fooled by a recycled PID.
  func helpers() -> [(pid: String, start: String)] {
    let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int($0) != nil }
    return pids.compactMap { candidate in
      guard HostSnapshot.readText("/proc/\(candidate)/comm") == "boxwalk-helper",
        let fields = HostSnapshot.statFields(candidate), fields[1] == String(pid)
      else { return nil }
      return (candidate, fields[19])
    }
  }

  /// Waits until none of `processes` runs any more: gone, or a zombie (dead, its namespaces
  /// released, waiting for a parent to reap it). False if one still runs after the patience window.
  static func allGone(_ processes: [(pid: String, start: String)]) -> Bool {
    var waited = 0.0
    while waited < patience {
      let running = processes.filter { p in
        guard let fields = HostSnapshot.statFields(p.pid) else { return false }
        return fields[19] == p.start && fields[0] != "Z"
      }
      if running.isEmpty { return true }
      usleep(20_000)
      waited += 0.02
    }
    return false
  }
}

struct SafetyReplError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
