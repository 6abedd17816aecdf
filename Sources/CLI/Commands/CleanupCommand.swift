import ArgumentParser
import Glibc
import LinuxBackend

/// `boxwalk cleanup`: remove what crashed sessions left on the host, from their ledgers.
struct CleanupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cleanup",
    abstract: "Remove what a crashed session left on the host (safe to run twice).")

  func run() throws {
    // Root cleans the real backend's sessions; any other user its own rootless ones (SPEC §9).
    let lines = geteuid() == 0 ? LedgerCleanup.run() : LedgerCleanup.run(stateRoot: LinuxKernel.rootlessStateRoot())
    Terminal(colour: false).write(lines.isEmpty ? ["nothing to clean up"] : lines)
  }
}
