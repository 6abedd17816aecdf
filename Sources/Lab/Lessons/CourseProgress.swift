import Kernel
import OCI

/// Where a learner stands in the whole course: how many lessons are done, and which comes next.
/// Built from the saved progress of each lesson, in the catalog's order (the files' `NN-` order),
/// so `lessons` and `lessons --json` agree on every number.
public struct CourseProgress: Equatable, Sendable {
  /// One lesson's line: its state in the course.
  public struct Entry: Equatable, Sendable {
    public enum State: String, Sendable { case notStarted = "not-started", inProgress = "in-progress", done }
    public var id: String
    public var title: String
    public var steps: Int
    public var state: State
    /// The id and 1-based number of the step the learner is at; nil when not started, or done
    /// and not started again.
    public var step: String?
    public var stepNumber: Int?
    /// Steps the learner has passed at least once.
    public var stepsDone: Int
    /// Whole percent of the steps passed, rounded down.
    public var percent: Int { steps == 0 ? 0 : stepsDone * 100 / steps }
    /// Each step of the lesson, in order, with what the progress record kept of it.
    public var figures: [StepFigures] = []
    /// Hints shown, solutions run and checks that found work left, over every step recorded.
    public var hints = 0
    public var solutions = 0
    public var checksFailed = 0
    /// The backends the lesson was worked on, in the order first used.
    public var backends: [String] = []
  }

  /// One step and its record (nil when the learner never reached it).
  public struct StepFigures: Equatable, Sendable {
    public var id: String
    public var title: String
    public var record: LessonStepRecord?

    /// As `lessons --json` and a report write it: id, title, started, passed, hints, solutions,
    /// checks_failed (times in seconds since 1970, null before).
    public var json: JSONValue {
      .object([
        ("id", .string(id)), ("title", .string(title)),
        ("started", record?.started.map(JSONValue.number) ?? .null),
        ("passed", record?.passed.map(JSONValue.number) ?? .null),
        ("hints", .number(record?.hints ?? 0)), ("solutions", .number(record?.solutions ?? 0)),
        ("checks_failed", .number(record?.checksFailed ?? 0)),
      ])
    }
  }

  public var entries: [Entry]

  /// Lessons the learner reached the end of at least once.
  public var done: Int { entries.filter { $0.state == .done }.count }
  public var total: Int { entries.count }
  /// Whole percent, rounded down: 100 only when every lesson is done.
  public var percent: Int { total == 0 ? 0 : done * 100 / total }
  /// The first lesson, in course order, that is not done yet; nil when every lesson is done.
  /// A lesson the learner left half-way counts like any other: the course is walked in order.
  public var next: Entry? { entries.first { $0.state != .done } }
  /// Steps passed, and steps, over every lesson.
  public var stepsDone: Int { entries.reduce(0) { $0 + $1.stepsDone } }
  public var stepsTotal: Int { entries.reduce(0) { $0 + $1.steps } }
  public var stepsPercent: Int { stepsTotal == 0 ? 0 : stepsDone * 100 / stepsTotal }
  /// Every backend any lesson was worked on, in course order then first use.
  public var backends: [String] {
    var out: [String] = []
    for entry in entries { for b in entry.backends where !out.contains(b) { out.append(b) } }
    return out
  }

  public init(_ lessons: [Lesson], progress: (String) -> LessonProgress?) {
    entries = lessons.map { lesson in
      let p = progress(lesson.id)
      let index = p?.step.flatMap { id in lesson.steps.firstIndex { $0.id == id } }
      let state: Entry.State =
        p?.finished == true ? .done : index == nil ? .notStarted : .inProgress
      let records = p?.records ?? []
      return Entry(
        id: lesson.id, title: lesson.title, steps: lesson.steps.count, state: state,
        step: index.map { lesson.steps[$0].id }, stepNumber: index.map { $0 + 1 },
        stepsDone: Self.stepsDone(lesson, p),
        figures: lesson.steps.map { StepFigures(id: $0.id, title: $0.title, record: p?.record($0.id)) },
        hints: records.reduce(0) { $0 + $1.hints }, solutions: records.reduce(0) { $0 + $1.solutions },
        checksFailed: records.reduce(0) { $0 + $1.checksFailed }, backends: p?.backends ?? [])
    }
  }

  /// The steps of `lesson` passed at least once. A progress file of an older boxwalk has no step
  /// records: then a finished lesson counts every step, and one in progress the steps before the
  /// current one (the learner cannot be past a step without passing it).
  static func stepsDone(_ lesson: Lesson, _ p: LessonProgress?) -> Int {
    guard let p else { return 0 }
    if p.records.isEmpty {
      if p.finished { return lesson.steps.count }
      return p.step.flatMap { id in lesson.steps.firstIndex { $0.id == id } } ?? 0
    }
    return lesson.steps.filter { p.record($0.id)?.passed != nil }.count
  }

  /// The two lines under the lesson table.
  public var summary: [String] {
    guard total > 0 else { return [] }
    var out = [
      "progress: \(done)/\(total) lessons done (\(percent)%)",
      "steps: \(stepsDone)/\(stepsTotal) passed (\(stepsPercent)%)",
    ]
    if let n = next {
      switch (n.state, n.stepNumber, n.step) {
      case (.inProgress, let number?, let step?):
        out.append("next: lesson \(n.id) (\(n.title)), resuming at step \(number) (\(step))")
      default:
        out.append("next: lesson \(n.id) (\(n.title))")
      }
    } else {
      out.append("next: nothing left; every lesson is done (reset lesson in a lesson walks it again)")
    }
    return out
  }

  /// `boxwalk lessons --json`: one object, keys in a fixed order so the output is stable. Each
  /// lesson has its figures and every step's record (`step_records`), as a report has them.
  /// `problems` are lesson files that did not parse (`path:line:col: message`).
  public func json(problems: [String]) -> String {
    var out = "{\"done\":\(done),\"total\":\(total),\"percent\":\(percent)"
    out += ",\"steps_done\":\(stepsDone),\"steps_total\":\(stepsTotal),\"next\":"
    out += next.map { JSON.quote($0.id) } ?? "null"
    out += ",\"lessons\":["
    for (i, e) in entries.enumerated() {
      if i > 0 { out += "," }
      out += "{\"id\":\(JSON.quote(e.id)),\"title\":\(JSON.quote(e.title)),\"steps\":\(e.steps)"
      out += ",\"state\":\(JSON.quote(e.state.rawValue))"
      out += ",\"step\":" + (e.step.map(JSON.quote) ?? "null")
      out += ",\"step_number\":" + (e.stepNumber.map(String.init) ?? "null")
      out += ",\"steps_done\":\(e.stepsDone),\"percent\":\(e.percent)"
      out += ",\"hints\":\(e.hints),\"solutions\":\(e.solutions),\"checks_failed\":\(e.checksFailed)"
      out +=
        ",\"step_records\":" + String(decoding: JSONValue.array(e.figures.map(\.json)).encoded(), as: UTF8.self) + "}"
    }
    out += "],\"problems\":[" + problems.map(JSON.quote).joined(separator: ",") + "]}"
    return out
  }
}
