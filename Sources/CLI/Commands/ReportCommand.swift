import ArgumentParser
import Glibc
import Kernel
import Lab

/// `boxwalk report [--name N] [--out FILE]`: the learner's results as one JSON file for the
/// teacher to collect (docs/lessons.md, "Progress and reports"). Nothing is sent anywhere.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write your lesson results as one JSON file for your teacher to collect.")

  @Option(help: "Your name in the report (default: your login name).")
  var name: String?

  @Option(help: "The file to write (default: boxwalk-report-NAME.json in this directory).")
  var out: String?

  @Option(
    help:
      "The backend to name in the report (default: those the lessons were done on, else the one boxwalk would choose here)."
  )
  var backend: Backend?

  func run() throws {
    let learner = name ?? Self.loginName()
    // The name becomes part of the default file name and a row of the teacher's table: a plain
    // name, so neither a path nor a terminal escape can ride in on it.
    if Names.checkName(learner, limit: 64) != nil {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: \(quotedForTerminal(learner)) is not a name for a report",
          "  rule   a name is a letter or digit, then letters, digits, '.', '_' or '-', at most 64 bytes",
          "  fix    --name NAME (for example --name ada.lovelace)",
          "  state  nothing was written",
        ])
    }
    let catalog = LessonCatalog.load()
    guard catalog.directory != nil else {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: no lessons found, so there is nothing to report",
          "  fix    set BOXWALK_LESSONS to the lessons directory, or run from the source tree",
          "  state  nothing was written",
        ])
    }
    let store = FileProgressStore.standard()
    let origin = LearnerReport.Origin(
      name: learner, host: Self.hostName(), version: BoxwalkCommand.configuration.version,
      backend: backend?.rawValue
        ?? LearnerReport.backendNamed(
          catalog.lessons, progress: { store?.load(lesson: $0) }, fallback: BackendChoice.automatic().rawValue),
      written: Int(time(nil)))
    let content = LearnerReport.content(origin, catalog.lessons) { store?.load(lesson: $0) }
    let path = out ?? "boxwalk-report-\(learner).json"
    do {
      // A new temporary file (O_CREAT|O_EXCL|O_NOFOLLOW) renamed over the path: a link planted
      // at either name is never followed, even when root writes the report.
      try Files.write(path, LearnerReport.document(content))
    } catch {
      throw ExitError(
        ExitStatus.failed,
        ["error: cannot write the report: \(error.message)", "  state  nothing was written"])
    }
    let course = CourseProgress(catalog.lessons) { store?.load(lesson: $0) }
    Terminal.detect().write([
      "wrote \(escapedForTerminal(path)): \(escapedForTerminal(learner)), \(course.done)/\(course.total) lessons, "
        + "\(course.stepsDone)/\(course.stepsTotal) steps",
      "give this file to your teacher; boxwalk class collect reads it",
    ])
  }

  /// The login name of the real user (getpwuid(3) of getuid(2)), else $USER, else "learner".
  static func loginName() -> String {
    if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return Paths.env("USER") ?? "learner"
  }

  /// gethostname(2).
  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }
}
