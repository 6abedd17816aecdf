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
    // Root cleans the real backend's sessions; any other user its own rootless ones (SPEC §9).
    let lines = geteuid() == 0 ? LedgerCleanup.run() : LedgerCleanup.run(stateRoot: LinuxKernel.rootlessStateRoot())
    Terminal(colour: false).write(lines.isEmpty ? ["nothing to clean up"] : lines)
  }
}
