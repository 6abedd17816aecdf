import ArgumentParser
import Kernel
import Lab

/// `boxwalk lesson ID`: the REPL, at the start of lesson ID or where the learner left it.
struct LessonCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lesson",
    abstract: "Start lesson ID in the REPL, or resume it where you left it.")

  @Argument(help: "The lesson id (boxwalk lessons lists them).")
  var id: String

  @Option(help: "sim, real or rootless (default: real as root, else rootless when user namespaces work, else sim).")
  var backend: Backend?

  @Flag(help: "Print one JSON object per command instead of text.")
  var json = false

  func run() throws {
    throw ExitError(ReplCommand.start(backend: backend, json: json, lesson: id), [])
  }
}
