import ArgumentParser
import Glibc
import Kernel
import Lab

extension Backend: ExpressibleByArgument {}

/// `boxwalk [--backend sim|real|rootless] [--json]`: the REPL.
struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "The step-through REPL (the default command).")

  @Option(help: "sim, real or rootless (default: real as root, else rootless when user namespaces work, else sim).")
  var backend: Backend?

  @Flag(help: "Print one JSON object per command instead of text.")
  var json = false

  func run() throws {
    throw ExitError(Self.start(backend: backend, json: json), [])
  }

  /// Runs the REPL. `lesson` starts (or resumes) that lesson first, `record` starts recording to
  /// that file first; either failing exits 2 (bad usage) before any line is read.
  static func start(backend requested: Backend?, json: Bool, lesson: String? = nil, record: String? = nil) -> Int32 {
    let terminal = Terminal.detect()
    let backend = requested ?? BackendChoice.automatic()
    LabStartup.installSignalHandling()
    // With a daemon (--host, BOXWALK_HOST) the lab lives there and every line is a request; the
    // lessons, the progress file and recordings stay here, on the learner's side.
    let lab: LabSource
    do {
      lab = try LabSource.choose(backend, json: json, terminal: terminal)
    } catch {
      Terminal(colour: false).write(error.lines)
      return error.status
    }
    if !json, lab.client == nil { LabStartup.cleanUpAfterCrashes(backend, terminal: terminal) }
    // A client's session lives in the daemon: a signal must delete it there. At a terminal,
    // Ctrl-C only clears the line, as in-process.
    if lab.client != nil { ClientSignals.install(interrupt: isatty(STDIN_FILENO) != 1) }
    let session: any LabSession
    do {
      session = try lab.first()
    } catch {
      Terminal(colour: false).write(error.lines)
      return error.status
    }
    // The lesson engine wraps the session: lesson and record commands are its own, every other
    // line goes to the session. It reads the lessons when a command first needs them.
    let runner = LessonRunner(
      session: session,
      catalog: {
        let catalog = LessonCatalog.load()
        return (catalog.lessons, catalog.problems)
      },
      makeSession: lab.factory, progress: FileProgressStore.standard(),
      files: RecordingFiles(), features: lab.features, clock: { Int(time(nil)) })
    defer { runner.close() }
    let interactive = isatty(STDIN_FILENO) == 1
    if json {
      terminal.write(["{\"backend\":\"\(backend.rawValue)\"}"])
    } else {
      terminal.write([BackendChoice.describe(backend)])
      if interactive, lesson == nil {
        terminal.write(["type help for commands, lessons for lessons, quit or Ctrl-D to leave"])
      }
    }
    // `boxwalk record FILE` and `boxwalk lesson ID` are the REPL with one command typed first;
    // when that command fails (the file exists, no such lesson) nothing else runs.
    var first: [() -> [String]] = []
    if let record { first.append { runner.startRecording(to: record) } }
    if let lesson { first.append { runner.execute("lesson " + shellQuoted(lesson)) } }
    for command in first {
      let failuresBefore = runner.failures
      terminal.write(command())
      if runner.failures > failuresBefore { return ExitStatus.usage }
    }
    let reader: any LineReader =
      interactive
      ? ReadlineLineReader(historyFile: Paths.historyFile) { [runner] line, word in
        runner.completions(before: line, word: word)
      }
      : PlainLineReader()
    return ReplLoop(session: runner, reader: reader, terminal: terminal).run()
  }
}

/// Quotes a word for the REPL's POSIX-style word splitter: single quotes, with any single quote
/// written as '\''.
func shellQuoted(_ word: String) -> String {
  let safe =
    !word.isEmpty
    && word.unicodeScalars.allSatisfy { c in
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./".unicodeScalars.contains(c)
    }
  return safe ? word : "'" + word.replacingQuotes() + "'"
}

extension String {
  fileprivate func replacingQuotes() -> String {
    var out = ""
    for c in self { out += c == "'" ? "'\\''" : String(c) }
    return out
  }
}
