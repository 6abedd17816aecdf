import ArgumentParser

/// `boxwalk test [PATH...] [--backend sim|real|both] [--update]`: transcripts as golden tests.
struct TestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Replay transcripts as golden tests; prints 'N passed, N failed, N skipped' last.")

  @Argument(help: "Transcript files or directories (default: transcripts/).")
  var paths: [String] = []

  @Option(help: "sim, real, rootless or both (sim and real).")
  var backend: String = "sim"

  @Flag(help: "Rewrite expectations from a sim run (still exits non-zero).")
  var update = false

  func run() throws {
    throw ExitError(ExitStatus.internalError, ["error: not wired yet"])
  }
}
