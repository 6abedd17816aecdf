import ArgumentParser
import Glibc
import Kernel
import LinuxBackend

/// `boxwalk reset --all [--images] [--yes]`: removes boxwalk's state for the calling user, so a
/// lab machine is fresh for the next class: lesson progress, REPL history, the sessions crashed
/// runs left behind, and with --images the image store. It asks first; without a terminal to
/// ask on it refuses unless --yes says the caller (a script) means it.
struct ResetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reset",
    abstract: "Remove your boxwalk progress, history and leftover sessions (--images: the image store too).")

  @Flag(help: "Everything boxwalk keeps for you (required: there is no partial reset yet).")
  var all = false

  @Flag(help: "Also remove the image store (images, layers; busybox is rebuilt at first use).")
  var images = false

  @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask: for scripts.")
  var yes = false

  func run() throws {
    guard all else {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: reset needs --all",
          "  usage  boxwalk reset --all [--images] [--yes]",
          "  why    it removes every lesson's progress; inside a lesson, reset step and reset lesson undo less",
          "  state  nothing was changed",
        ])
    }
    let state = Paths.stateHome
    let progress = state.map { $0 + "/progress" }
    let history = Paths.historyFile(creating: false)
    var plan = ["reset --all removes, for \(ReportCommand.loginName()):"]
    plan.append("  lesson progress   " + (progress ?? "(no home directory: none kept)"))
    plan.append("  REPL history      " + (history ?? "(none kept)"))
    plan.append("  sessions left behind by crashed runs (running sessions are left alone)")
    if images { plan.append("  the image store   " + UserReset.imageStoreHome()) }
    if !yes {
      guard isatty(0) == 1 else {
        throw ExitError(
          ExitStatus.usage,
          plan + [
            "error: reset --all asks before it removes anything, and there is no terminal to ask on",
            "  fix    boxwalk reset --all --yes, when a script means it",
            "  state  nothing was changed",
          ])
      }
      Terminal.detect().write(plan)
      Terminal.detect().writeRaw("type yes to go ahead; anything else cancels: ")
      let answer = readLine(strippingNewline: true)?.lowercased() ?? ""
      guard answer == "yes" || answer == "y" else {
        throw ExitError(ExitStatus.failed, ["reset cancelled: nothing was changed"])
      }
    } else {
      Terminal.detect().write(plan)
    }
    var lines: [String] = []
    // Sessions first: the same cleanup as `boxwalk cleanup`, which leaves a running session
    // alone, so whatever it still uses stays.
    var sessions = geteuid() == 0 ? LedgerCleanup.run() : []
    for root in LinuxKernel.rootlessStateRoots() { sessions += LedgerCleanup.run(stateRoot: root) }
    lines += sessions.isEmpty ? ["no sessions left behind"] : sessions
    let running = sessions.filter { $0.hasSuffix(LedgerCleanup.runningMarker) }
    if let progress { lines.append(UserReset.remove(progress) ? "removed \(progress)" : "no progress at \(progress)") }
    if let history { lines.append(UserReset.remove(history) ? "removed \(history)" : "no history at \(history)") }
    var failed = false
    if images {
      if running.isEmpty {
        lines.append(UserReset.removeImageStore())
      } else {
        failed = true
        lines += [
          "error: the image store was kept: \(running.count) session\(running.count == 1 ? " is" : "s are") running, "
            + "and a running box's root filesystem is made of the store's layers",
          "  fix    quit those sessions, then boxwalk reset --all --images again",
        ]
      }
    }
    Terminal.detect().write(lines)
    if failed { throw ExitError(ExitStatus.failed, []) }
  }
}
