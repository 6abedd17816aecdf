import ArgumentParser
import Kernel

/// `boxwalk record FILE`: the REPL, writing the session to FILE as a transcript after every
/// command (input and actual output), so that `boxwalk test FILE` replays it.
struct RecordCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "The REPL, writing the session as a transcript that boxwalk test replays.")

  @Argument(help: "The transcript to write; it must not exist yet.")
  var file: String

  @Option(help: "sim, real or rootless (default: real as root, else rootless when user namespaces work, else sim).")
  var backend: Backend?

  func run() throws {
    throw ExitError(ReplCommand.start(backend: backend, json: false, record: file), [])
  }
}
