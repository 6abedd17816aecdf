import ArgumentParser
import Kernel
import Lab

/// `boxwalk lessons`: every lesson with the learner's progress (SPEC §1). A lesson file that does
/// not parse is a bad input file: it is reported with file:line:col and the exit status is 2.
struct LessonsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lessons",
    abstract: "List the lessons, with your progress in each.")

  func run() throws {
    let catalog = LessonCatalog.load()
    let store = FileProgressStore.standard()
    var lines = LessonText.catalog(catalog.lessons, progress: { store?.load(lesson: $0) }, problems: [])
    if catalog.directory == nil {
      lines = ["no lessons found: set BOXWALK_LESSONS to a directory of lesson files, or run from the source tree"]
    }
    Terminal.detect().write(lines)
    if !catalog.problems.isEmpty {
      throw ExitError(ExitStatus.usage, catalog.problems.map { "error: " + $0 })
    }
  }
}
