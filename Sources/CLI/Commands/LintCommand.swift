import ArgumentParser
import Kernel
import Lab

/// `boxwalk lint [PATH...]`: validates lesson and transcript files (SPEC §1).
///
/// Lessons are parsed, checked block by block, and run on the simulator: every expect must hold
/// after its lab block, every check must fail before its solution and pass after. Transcripts are
/// parsed. Exit status: 2 when a file cannot be read or parsed (a bad input file), 1 when lint
/// found problems in files that parsed, 0 when everything is clean.
struct LintCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lint",
    abstract: "Check lesson (.md) and transcript files; lessons are proved on the simulator.")

  @Argument(help: "Files or directories (default: lessons/ and transcripts/).")
  var paths: [String] = []

  func run() throws {
    let terminal = Terminal.detect()
    let (lessonPaths, transcriptPaths) = try Self.files(paths)
    var badInput = false
    var problems = false
    var failed = 0
    var lessons: [Lesson] = []
    var lines: [String] = []
    for path in lessonPaths {
      switch LessonCatalog.read(path) {
      case .success(let lesson): lessons.append(lesson)
      case .failure(let problem):
        badInput = true
        failed += 1
        lines += ["FAIL \(path)", "error: " + problem.text]
      }
    }
    terminal.write(lines)
    let reports = LessonLinter.lint(lessons, makeSession: LabStartup.sessionFactory(.sim, json: false))
    for report in reports {
      let lesson = report.lesson
      if report.findings.isEmpty {
        terminal.write([
          "ok   \(lesson.path): \(lesson.steps.count) steps, \(report.checksProven) check"
            + "\(report.checksProven == 1 ? "" : "s") fail before their solution and pass after"
        ])
      } else {
        problems = true
        failed += 1
        terminal.write(["FAIL \(lesson.path)"] + report.findings.map { $0.description })
      }
    }
    for path in transcriptPaths {
      do {
        let bytes = try Files.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
          badInput = true
          failed += 1
          terminal.write(["FAIL \(path)", "error: \(path): not valid UTF-8"])
          continue
        }
        let file = try TranscriptFile.parse(path: path, text: text)
        terminal.write(["ok   \(path): \(file.allSteps.count) commands"])
      } catch let error as Files.Failure {
        badInput = true
        failed += 1
        terminal.write(["FAIL \(path)", "error: cannot read \(error.message)"])
      } catch {
        badInput = true
        failed += 1
        terminal.write(["FAIL \(path)", "error: \(error)"])
      }
    }
    let total = lessonPaths.count + transcriptPaths.count
    terminal.write(["\(total) file\(total == 1 ? "" : "s"): \(total - failed) ok, \(failed) failed"])
    if badInput { throw ExitError(ExitStatus.usage, []) }
    if problems { throw ExitError(ExitStatus.failed, []) }
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
