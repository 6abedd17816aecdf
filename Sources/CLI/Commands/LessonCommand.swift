import ArgumentParser
import Glibc
import Kernel
import Lab
import Simulator

/// `boxwalk lesson ID`: the REPL, at the start of lesson ID or where the learner left it.
/// `boxwalk lesson new ID --from FILE.transcript`: a lesson drafted from a recording.
struct LessonCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lesson",
    abstract: "Start lesson ID in the REPL, or resume it where you left it (lesson new ID --from T drafts one).")

  @Argument(help: "The lesson id (boxwalk lessons lists them), or new.")
  var id: String

  @Argument(help: "With new: the id of the lesson to draft.")
  var newID: String?

  @Option(help: "With new: the transcript (boxwalk record writes one) to draft the lesson from.")
  var from: String?

  @Option(help: "With new: the directory to write the lesson into (default: the lessons directory).")
  var dir: String?

  @Option(help: "sim, real or rootless (default: real as root, else rootless when user namespaces work, else sim).")
  var backend: Backend?

  @Flag(help: "Print one JSON object per command instead of text.")
  var json = false

  func run() throws {
    if id == "new" || newID != nil || from != nil || dir != nil {
      try LessonNew(id: id, newID: newID, from: from, dir: dir).run()
      return
    }
    throw ExitError(ReplCommand.start(backend: backend, json: json, lesson: id), [])
  }
}

/// `lesson new ID --from FILE.transcript [--dir DIR]`: replays the transcript's commands on the
/// simulator (LessonDraft) and writes DIR/NN-ID.md, NN one more than the highest number there.
/// It never overwrites a file: a draft over a teacher's lesson would lose their work.
struct LessonNew {
  var id: String
  var newID: String?
  var from: String?
  var dir: String?

  func usage(_ message: String, _ details: [String] = []) -> ExitError {
    ExitError(
      ExitStatus.usage,
      ["error: " + message] + details + [
        "  usage  boxwalk lesson new ID --from FILE.transcript [--dir DIR]", "  state  nothing was written",
      ])
  }

  func run() throws {
    guard id == "new", let newID else { throw usage("lesson new needs new, an id, and --from") }
    guard let from else { throw usage("lesson new needs --from FILE.transcript: the recording to draft from") }
    guard Self.isLessonID(newID) else {
      throw usage(
        "\(quotedForTerminal(newID)) is not a lesson id",
        ["  rule   ids match [a-z0-9][a-z0-9-]* (at most 40 characters): they appear in the prompt and in file names"])
    }
    let transcript: TranscriptFile
    do {
      let bytes = try Files.read(from)
      transcript = try TranscriptFile.parse(path: from, text: String(decoding: bytes, as: UTF8.self))
    } catch let e as Files.Failure {
      throw usage("cannot read \(escapedForTerminal(e.message))")
    } catch let e as TranscriptParseError {
      throw usage("\(escapedForTerminal(from)) is not a transcript: \(escapedForTerminal("\(e)"))")
    }
    let directory = dir ?? LessonCatalog.directory() ?? "lessons"
    guard Files.isDirectory(directory) else {
      throw usage("\(escapedForTerminal(directory)) is not a directory", ["  fix    --dir DIR names where to write"])
    }
    let existing = (try? Files.list(directory, suffix: ".md")) ?? []
    if let taken = existing.first(where: { $0.hasSuffix("-\(newID).md") || $0 == "\(newID).md" }) {
      throw usage(
        "a lesson file for \(newID) exists: \(escapedForTerminal(directory + "/" + taken))",
        ["  rule   lesson new never overwrites a lesson", "  fix    choose another id, or move that file away"])
    }
    let number = (existing.compactMap { Int($0.prefix { $0.isNumber }) }.max() ?? 0) + 1
    let path = directory + "/" + (number < 10 ? "0" : "") + "\(number)-\(newID).md"
    let session: Session
    do {
      session = try Session(kernel: try BackendChoice.make(.sim))
    } catch {
      throw ExitError(ExitStatus.internalError, ["error: cannot start the simulator: \(error)"])
    }
    defer { session.close() }
    let text = LessonDraft.make(
      id: newID, title: "Draft of \(newID), from \(Self.baseName(from))", transcript: transcript, session: session)
    do {
      try Files.create(path, text)
    } catch {
      throw ExitError(
        ExitStatus.failed, ["error: cannot write \(escapedForTerminal(error.message))", "  state  nothing was written"])
    }
    Terminal.detect().write([
      "wrote \(escapedForTerminal(path)): one step per command of \(escapedForTerminal(from))",
      "next: write its text, make the learner's steps exercises (check, hint, solution), then boxwalk lint \(escapedForTerminal(path))",
    ])
  }

  static func isLessonID(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 40 else { return false }
    let ok = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    return ok(first) && s.unicodeScalars.allSatisfy { ok($0) || $0 == "-" }
  }

  static func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
}
