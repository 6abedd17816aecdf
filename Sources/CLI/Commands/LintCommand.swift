import ArgumentParser
import Kernel
import Lab

/// `boxwalk lint [PATH...]`: validates lesson and transcript files (README.md, "Command line").
///
/// Lessons are parsed, checked block by block, and run on each backend asked for (the simulator by
/// default): every expect must hold after its lab block, every check must fail before its
/// solution and pass after. A backend this machine lacks, or a lesson whose `requires:` or
/// `no-rootless:` rules it out there, is a SKIP with the reason, never an ok. Transcripts are
/// parsed. Exit status: 2 when a file cannot be read or parsed (a bad input file), 1 when lint
/// found problems in files that parsed, 0 when everything is clean.
struct LintCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lint",
    abstract: "Check lesson (.md) and transcript files; lessons are proved on the simulator.")

  @Argument(help: "Files or directories (default: lessons/ and transcripts/).")
  var paths: [String] = []

  @Option(help: "sim, real, rootless or all (every backend this machine has): where lessons are proved.")
  var backend: String = "sim"

  @Flag(help: "Also hold each lesson to the course's bar (exercises, hints, a prediction, a mistake, man pages).")
  var course = false

  /// What the lint has found so far, over every file and backend.
  struct Tally {
    /// A file that is not a lesson or a transcript at all (exit status 2, as for a usage error).
    var badInput = false
    /// A lesson that does not hold (exit status 1).
    var problems = false
    var failed = 0
    var failedLessons = Set<String>()
    /// Lessons proved (ok) on at least one backend, and those skipped somewhere: a lesson skipped
    /// on every backend asked for counts as skipped, never as ok.
    var provedLessons = Set<String>()
    var skippedLessons = Set<String>()
  }

  func run() throws {
    let terminal = Terminal.detect()
    let backends = try Self.backends(backend)
    let (lessonPaths, transcriptPaths) = try Self.files(paths)
    var tally = Tally()
    let lessons = Self.readLessons(lessonPaths, terminal, &tally)
    let factory = LabSessionFactory()
    for backend in backends {
      let label = backends.count > 1 ? " on \(backend.rawValue)" : ""
      if let reason = factory.unavailableReason(for: backend) {
        // `--backend all` proves what the machine can; a backend named on its own must run.
        if backends.count == 1 {
          throw ExitError(ExitStatus.precondition, ["error: cannot lint on \(backend.rawValue): \(reason)"])
        }
        terminal.write(["skip \(backend.rawValue): \(reason)"])
        continue
      }
      lint(lessons, on: backend, label: label, features: factory.features(for: backend), terminal, &tally)
    }
    tally.failed += tally.failedLessons.count
    let skipped = tally.skippedLessons.subtracting(tally.provedLessons).subtracting(tally.failedLessons).count
    Self.checkTranscripts(transcriptPaths, terminal, &tally)
    let total = lessonPaths.count + transcriptPaths.count
    terminal.write([
      "\(total) file\(total == 1 ? "" : "s"): \(total - tally.failed - skipped) ok, "
        + (skipped > 0 ? "\(skipped) skipped, " : "") + "\(tally.failed) failed"
    ])
    if tally.badInput { throw ExitError(ExitStatus.usage, []) }
    if tally.problems { throw ExitError(ExitStatus.failed, []) }
  }

  /// The lessons read and parsed; one that cannot be is a failure of the input, said at once.
  static func readLessons(_ paths: [String], _ terminal: Terminal, _ tally: inout Tally) -> [Lesson] {
    var lessons: [Lesson] = []
    var lines: [String] = []
    for path in paths {
      switch LessonCatalog.read(path) {
      case .success(let lesson): lessons.append(lesson)
      case .failure(let problem):
        tally.badInput = true
        tally.failed += 1
        lines += ["FAIL \(path)", "error: " + problem.text]
      }
    }
    terminal.write(lines)
    return lessons
  }

  /// Proves the lessons on one backend: each runs in a fresh session, and every check must fail
  /// before its step's solution and pass after it. A lesson the backend cannot run (a feature it
  /// lacks, `no-rootless:`) is skipped there; with `--course`, the course's bar is checked too.
  func lint(
    _ lessons: [Lesson], on backend: Backend, label: String, features: Set<String>, _ terminal: Terminal,
    _ tally: inout Tally
  ) {
    var runnable: [Lesson] = []
    for lesson in lessons {
      if let reason = Self.skipReason(lesson, backend: backend, features: features) {
        terminal.write(["skip \(lesson.path)\(label): \(reason)"])
        tally.skippedLessons.insert(lesson.path)
      } else {
        runnable.append(lesson)
      }
    }
    if runnable.isEmpty { return }
    if backend != .sim { LabStartup.cleanUpAfterCrashes(backend, terminal: terminal) }
    var reports = LessonLinter.lint(runnable, makeSession: LabStartup.sessionFactory(backend, json: false))
    if course {
      for i in reports.indices {
        reports[i].findings += LessonLinter.courseBar(reports[i].lesson)
        reports[i].findings.sort { ($0.line, $0.column) < ($1.line, $1.column) }
      }
    }
    for report in reports {
      let lesson = report.lesson
      if report.findings.isEmpty {
        tally.provedLessons.insert(lesson.path)
        terminal.write([
          "ok   \(lesson.path)\(label): \(lesson.steps.count) steps, \(report.checksProven) check"
            + "\(report.checksProven == 1 ? "" : "s") fail before their solution and pass after"
        ])
      } else {
        tally.problems = true
        tally.failedLessons.insert(lesson.path)
        terminal.write(["FAIL \(lesson.path)\(label)"] + report.findings.flatMap(\.lines))
      }
    }
  }

  /// Transcripts are only parsed here (`boxwalk test` runs them): valid UTF-8 and the
  /// transcript format of docs/transcripts.md.
  static func checkTranscripts(_ paths: [String], _ terminal: Terminal, _ tally: inout Tally) {
    for path in paths {
      do {
        let bytes = try Files.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
          tally.badInput = true
          tally.failed += 1
          terminal.write(["FAIL \(path)", "error: \(path): not valid UTF-8"])
          continue
        }
        let file = try TranscriptFile.parse(path: path, text: text)
        terminal.write(["ok   \(path): \(file.allSteps.count) commands"])
      } catch let error as Files.Failure {
        tally.badInput = true
        tally.failed += 1
        terminal.write(["FAIL \(path)", "error: cannot read \(error.message)"])
      } catch {
        tally.badInput = true
        tally.failed += 1
        terminal.write(["FAIL \(path)", "error: \(error)"])
      }
    }
  }

  /// The backends `--backend` names: one, or `all` (sim, real, rootless).
  static func backends(_ name: String) throws(ExitError) -> [Backend] {
    if name == "all" { return Backend.allCases }
    guard let one = Backend(rawValue: name) else {
      throw ExitError(
        ExitStatus.usage,
        ["error: --backend takes sim, real, rootless or all, not \(quotedForTerminal(name))"])
    }
    return [one]
  }

  /// Why `lesson` cannot be proved on `backend`: a feature of `requires:` the backend lacks, or
  /// the lesson's own `no-rootless:` reason. Nil when it can.
  static func skipReason(_ lesson: Lesson, backend: Backend, features: Set<String>) -> String? {
    let missing = lesson.requires.filter { !features.contains($0.rawValue) }
    if !missing.isEmpty { return "needs " + missing.map(\.rawValue).joined(separator: " ") }
    if backend == .rootless, let reason = lesson.rootlessReason { return "not on rootless: " + reason }
    return nil
  }

  /// Lesson files (`*.md`) and transcripts (`*.transcript`) from the arguments, directories
  /// expanded and sorted. The default directories may be missing; a path the user named may not.
  static func files(_ paths: [String]) throws(ExitError) -> ([String], [String]) {
    let explicit = !paths.isEmpty
    var lessons: [String] = []
    var transcripts: [String] = []
    for p in explicit ? paths : ["lessons", "transcripts"] {
      if Files.isDirectory(p) {
        let dir = p.hasSuffix("/") ? String(p.dropLast()) : p
        do {
          lessons += try Files.list(dir, suffix: ".md").filter { $0 != "README.md" }.map { dir + "/" + $0 }
          transcripts += try Files.list(dir, suffix: ".transcript").map { dir + "/" + $0 }
        } catch {
          throw ExitError(ExitStatus.usage, ["error: cannot read \(error.message)"])
        }
      } else if p.hasSuffix(".md") {
        lessons.append(p)
      } else if p.hasSuffix(".transcript") {
        transcripts.append(p)
      } else if explicit {
        throw ExitError(
          ExitStatus.usage,
          ["error: \(p) is neither a directory, a lesson (.md) nor a transcript (.transcript)"])
      }
    }
    if lessons.isEmpty && transcripts.isEmpty {
      throw ExitError(
        ExitStatus.usage, ["error: no lesson or transcript files to lint", "  fix: name files or directories"])
    }
    return (lessons, transcripts)
  }
}
