import Kernel
import OCI

/// `boxwalk report`: a learner's results as one JSON file a teacher collects (docs/lessons.md,
/// "Progress and reports"), and `boxwalk class collect` reading such files back.
///
/// The file is `{"format": "boxwalk-report 1", "content": {...}, "digest": "sha256:..."}`. The
/// digest is SHA-256 over the bytes of `content` exactly as written: compact JSON, keys in a
/// fixed order. Collecting parses `content`, writes it again the same way and hashes that, so any
/// change to a figure, a name or a key order gives another digest and the report is listed as
/// altered. The hash goes through the project's one SHA-256 wrapper, OCI's `SHA256` (the one that
/// names image layers, hashing with swift-crypto: docs/architecture.md, "SHA-256"), so a report
/// and a layer digest are made the same way. It is a checksum, not a signature: it catches a report edited by hand or damaged
/// on the way, but nothing secret goes into it, so a learner who recomputes it after editing is
/// not caught. Nothing is sent anywhere; the teacher collects files.
public enum LearnerReport {
  public static let format = "boxwalk-report 1"

  /// Who wrote the report, where, and with what.
  public struct Origin: Equatable, Sendable {
    public var name: String
    public var host: String
    public var version: String
    /// The backends the lessons were done on (`sim, real`), or, before any, the one boxwalk
    /// would choose on this machine (`LearnerReport.backendNamed`).
    public var backend: String
    /// Seconds since 1970.
    public var written: Int

    public init(name: String, host: String, version: String, backend: String, written: Int) {
      self.name = name
      self.host = host
      self.version = version
      self.backend = backend
      self.written = written
    }
  }

  /// The `content` object: the origin, the course figures, then every lesson with its steps.
  public static func content(_ origin: Origin, _ lessons: [Lesson], progress: (String) -> LessonProgress?)
    -> JSONValue
  {
    let course = CourseProgress(lessons, progress: progress)
    var lessonValues: [JSONValue] = []
    for entry in course.entries {
      lessonValues.append(
        .object([
          ("id", .string(entry.id)), ("title", .string(entry.title)), ("state", .string(entry.state.rawValue)),
          ("steps_done", .number(entry.stepsDone)), ("steps_total", .number(entry.steps)),
          ("percent", .number(entry.percent)), ("hints", .number(entry.hints)),
          ("solutions", .number(entry.solutions)), ("checks_failed", .number(entry.checksFailed)),
          ("backends", .array(entry.backends.map(JSONValue.string))), ("steps", .array(entry.figures.map(\.json))),
        ]))
    }
    return .object([
      ("name", .string(origin.name)), ("host", .string(origin.host)), ("boxwalk", .string(origin.version)),
      ("backend", .string(origin.backend)), ("written", .number(origin.written)),
      ("lessons_done", .number(course.done)), ("lessons_total", .number(course.total)),
      ("percent", .number(course.percent)), ("steps_done", .number(course.stepsDone)),
      ("steps_total", .number(course.stepsTotal)), ("lessons", .array(lessonValues)),
    ])
  }

  /// The report's `backend`: every backend the lessons were worked on, in course order, or
  /// `fallback` when no lesson recorded one (progress of an older boxwalk, or none yet).
  public static func backendNamed(_ lessons: [Lesson], progress: (String) -> LessonProgress?, fallback: String)
    -> String
  {
    let used = CourseProgress(lessons, progress: progress).backends
    return used.isEmpty ? fallback : used.joined(separator: ", ")
  }

  /// `sha256:` and the hex SHA-256 of the content's compact JSON.
  public static func digest(_ content: JSONValue) -> String { SHA256.digest(content.encoded()) }

  /// The whole file: one JSON object on one line, then a newline.
  public static func document(_ content: JSONValue) -> String {
    let whole = JSONValue.object([
      ("format", .string(format)), ("content", content), ("digest", .string(digest(content))),
    ])
    return String(decoding: whole.encoded(), as: UTF8.self) + "\n"
  }

  /// One collected report: the row a teacher sees.
  public struct Collected: Equatable, Sendable {
    public var file: String
    public var name: String
    public var host: String
    public var backend: String
    public var version: String
    public var written: Int
    /// The digest in the file does not match its content: edited or damaged since it was written.
    public var altered: Bool
    public var lessonsDone: Int
    public var lessonsTotal: Int
    public var percent: Int
    public var stepsDone: Int
    public var stepsTotal: Int
    public var hints: Int
    public var solutions: Int
    public var checksFailed: Int
    /// Each lesson's id and percent of steps passed, in the report's order.
    public var lessons: [(id: String, percent: Int)]

    public static func == (a: Collected, b: Collected) -> Bool {
      a.file == b.file && a.name == b.name && a.altered == b.altered && a.percent == b.percent
        && a.lessons.map(\.id) == b.lessons.map(\.id) && a.lessons.map(\.percent) == b.lessons.map(\.percent)
        && a.written == b.written && a.stepsDone == b.stepsDone && a.hints == b.hints
    }
  }

  /// Why a file is not a report this version reads: one line for the teacher.
  public struct Unreadable: Error, Equatable, Sendable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
  }

  /// Reads a report file's bytes. A file whose digest does not match is still read (and marked
  /// altered): a teacher must see that it was changed, not lose the learner's row. A file that is
  /// not JSON, not a boxwalk report, or misses a figure is `Unreadable`.
  public static func read(_ bytes: [UInt8], file: String) throws(Unreadable) -> Collected {
    let whole: JSONValue
    do {
      whole = try JSONValue.parse(bytes)
    } catch {
      throw Unreadable("not JSON (byte \(error.offset))")
    }
    guard case .object = whole else { throw Unreadable("not a boxwalk report: not a JSON object") }
    guard let f = whole["format"]?.string else { throw Unreadable("not a boxwalk report: no \"format\"") }
    guard f == format else {
      throw Unreadable("format \(JSON.quote(f)) is not \(JSON.quote(format)), which this boxwalk reads")
    }
    guard let content = whole["content"], case .object = content else {
      throw Unreadable("not a boxwalk report: no \"content\" object")
    }
    guard let digest = whole["digest"]?.string else { throw Unreadable("not a boxwalk report: no \"digest\"") }
    func text(_ key: String) throws(Unreadable) -> String {
      guard let s = content[key]?.string else { throw Unreadable("\"content\" has no string \"\(key)\"") }
      return s
    }
    func number(_ key: String, in value: JSONValue? = nil) throws(Unreadable) -> Int {
      guard let n = (value ?? content)[key]?.int else { throw Unreadable("\"content\" has no number \"\(key)\"") }
      return n
    }
    guard let lessonValues = content["lessons"]?.array else { throw Unreadable("\"content\" has no \"lessons\" list") }
    var lessons: [(id: String, percent: Int)] = []
    var hints = 0
    var solutions = 0
    var checks = 0
    for value in lessonValues {
      guard let id = value["id"]?.string else { throw Unreadable("a lesson in \"lessons\" has no \"id\"") }
      lessons.append((id, try number("percent", in: value)))
      hints += try number("hints", in: value)
      solutions += try number("solutions", in: value)
      checks += try number("checks_failed", in: value)
    }
    return Collected(
      file: file, name: try text("name"), host: try text("host"), backend: try text("backend"),
      version: try text("boxwalk"), written: try number("written"), altered: digest != Self.digest(content),
      lessonsDone: try number("lessons_done"), lessonsTotal: try number("lessons_total"),
      percent: try number("percent"), stepsDone: try number("steps_done"), stepsTotal: try number("steps_total"),
      hints: hints, solutions: solutions, checksFailed: checks, lessons: lessons)
  }
}
