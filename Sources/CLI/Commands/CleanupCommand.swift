import ArgumentParser
import Glibc
import LinuxBackend

/// `boxwalk cleanup`: remove what crashed sessions left on the host, from their ledgers.
struct CleanupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cleanup",
    abstract: "Remove what a crashed session left on the host (safe to run twice).")

  func run() throws {
    // Root cleans the real backend's sessions, and like any other user its own rootless ones
    // (root may run --backend rootless too), wherever rootlessStateRoot may have put them.
    var lines = geteuid() == 0 ? LedgerCleanup.run() : []
    for root in LinuxKernel.rootlessStateRoots() { lines += LedgerCleanup.run(stateRoot: root) }
    Terminal(colour: false).write(lines.isEmpty ? ["nothing to clean up"] : lines)
  }
}
