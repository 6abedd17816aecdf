import ArgumentParser
import LinuxBackend

/// `boxwalk cleanup`: remove what crashed sessions left on the host, from their ledgers.
struct CleanupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cleanup",
    abstract: "Remove what a crashed session left on the host (safe to run twice).")

  func run() throws {
    let lines = LedgerCleanup.run()
    Terminal(colour: false).write(lines.isEmpty ? ["nothing to clean up"] : lines)
  }
}
