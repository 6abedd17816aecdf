import ArgumentParser
import Kernel
import Lab

/// `boxwalk lessons`: every lesson with the learner's progress, then the course as a whole (done
/// out of total, a percentage, and the lesson that comes next). With `--json`, the same as one
/// JSON object, for scripts and class dashboards. A lesson file that does not parse is a bad input
/// file: it is reported with file:line:col and the exit status is 2.
struct LessonsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lessons",
    abstract: "List the lessons, with your progress in each and in the course.")

  @Flag(help: "Print one JSON object: done, total, percent, next, and each lesson's state, figures and step records.")
  var json = false

  func run() throws {
    let catalog = LessonCatalog.load()
    let store = FileProgressStore.standard()
    let progress: (String) -> LessonProgress? = { store?.load(lesson: $0) }
    if json {
      Terminal.detect().writeRaw(
        CourseProgress(catalog.lessons, progress: progress).json(problems: catalog.problems) + "\n")
    } else {
      var lines = LessonText.catalog(catalog.lessons, progress: progress, problems: [])
      if catalog.directory == nil {
        lines = ["no lessons found: set BOXWALK_LESSONS to a directory of lesson files, or run from the source tree"]
      }
      Terminal.detect().write(lines)
    }
    if !catalog.problems.isEmpty {
      throw ExitError(ExitStatus.usage, catalog.problems.map { "error: " + $0 })
    }
  }
}
