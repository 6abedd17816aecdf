import ArgumentParser
import Glibc
import LinuxBackend

/// `boxwalk cleanup`: remove what crashed sessions left on the host, from their ledgers.
struct CleanupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cleanup",
    abstract: "Remove what a crashed session left on the host (safe to run twice).")

  /// Set by boxwalk's own fatal-signal handler, which execs `cleanup --after-signal N SESSIONDIR`
  /// once it has killed the helpers: finish that one session's teardown and exit 128+N, as the
  /// signal would have. Not for people.
  @Option(name: .customLong("after-signal"), help: .hidden) var afterSignal: Int32?
  @Argument(help: .hidden) var session: String?

  func run() throws {
    if let signal = afterSignal, let session {
      _ = LedgerCleanup.cleanAfterSignal(session: session, signal: signal)
      Glibc.exit(128 + signal)
    }
    // Root cleans the real backend's sessions, and like any other user its own rootless ones
    // (root may run --backend rootless too), wherever rootlessStateRoot may have put them.
    var lines = geteuid() == 0 ? LedgerCleanup.run() : []
    for root in LinuxKernel.rootlessStateRoots() { lines += LedgerCleanup.run(stateRoot: root) }
    Terminal(colour: false).write(lines.isEmpty ? ["nothing to clean up"] : lines)
  }
}
