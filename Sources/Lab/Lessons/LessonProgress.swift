import Kernel

/// Where a learner is in one lesson, saved after every step (lessons/README.md) and read back on
/// restart, and what happened in each step so far (docs/lessons.md, "Progress and reports").
///
/// Only the position is saved, never the lab itself: kernel objects do not survive a restart, so
/// resuming rebuilds the lab from the lesson start by replaying the earlier steps.
public struct LessonProgress: Equatable, Sendable {
  public var lesson: String
  /// The id of the current step, or nil when the lesson is complete.
  public var step: String?
  /// Whether the current step's lab block has run.
  public var labDone: Bool
  /// How many of the current step's hints were shown.
  public var hintsShown: Int
  /// Whether the learner ever reached the end of the lesson.
  public var finished: Bool
  /// One record per step the learner reached, in the order they were first reached.
  public var records: [LessonStepRecord]
  /// The backends the lesson was worked on (`sim`, `real`, `rootless`), in the order first
  /// used: a report names them, so a teacher knows a lesson was done on the simulator.
  public var backends: [String]

  public init(
    lesson: String, step: String?, labDone: Bool = false, hintsShown: Int = 0, finished: Bool = false,
    records: [LessonStepRecord] = [], backends: [String] = []
  ) {
    self.lesson = lesson
    self.step = step
    self.labDone = labDone
    self.hintsShown = hintsShown
    self.finished = finished
    self.records = records
    self.backends = backends
  }

  /// The record of `step`, if the learner ever reached it.
  public func record(_ step: String) -> LessonStepRecord? { records.first { $0.step == step } }

  /// Changes the record of `step`, making it first if there is none.
  public mutating func update(_ step: String, _ change: (inout LessonStepRecord) -> Void) {
    if let i = records.firstIndex(where: { $0.step == step }) {
      change(&records[i])
    } else {
      var record = LessonStepRecord(step: step)
      change(&record)
      records.append(record)
    }
  }

  /// A small line-based file, `key value` per line, that a person can read and edit. The step
  /// records come last, one `record` line each.
  public var encoded: String {
    var lines = [
      "# boxwalk lesson progress, written after every step; delete this file to start the lesson over",
      "format 2",
      "lesson \(lesson)",
      "step \(step ?? "-")",
      "lab-done \(labDone ? "yes" : "no")",
      "hints \(hintsShown)",
      "finished \(finished ? "yes" : "no")",
    ]
    if !backends.isEmpty { lines.append("backends " + backends.joined(separator: " ")) }
    if !records.isEmpty {
      lines.append(
        "# record STEP started TIME passed TIME hints N solutions N checks-failed N (TIME in seconds since 1970, - not yet)"
      )
    }
    lines += records.map(\.encoded)
    return lines.joined(separator: "\n") + "\n"
  }

  /// Reads `encoded` back (format 2, or format 1 of older versions, which has no records); nil
  /// when the text is not a progress file this version understands (the lesson then starts from
  /// its beginning: a lost position is better than a wrong one). Unknown keys are ignored, so a
  /// newer boxwalk can add some.
  public static func decode(_ text: String) -> LessonProgress? {
    var values: [String: String] = [:]
    var records: [LessonStepRecord] = []
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2 else { return nil }
      if parts[0] == "record" {
        guard let record = LessonStepRecord.decode(String(parts[1])),
          !records.contains(where: { $0.step == record.step })
        else { return nil }
        records.append(record)
      } else {
        values[String(parts[0])] = String(parts[1])
      }
    }
    guard values["format"] == "1" || values["format"] == "2", let lesson = values["lesson"],
      let step = values["step"], let hints = values["hints"].flatMap({ Int($0) }), hints >= 0
    else { return nil }
    // Only the names a backend has: the line is shown in a report.
    let backends = (values["backends"] ?? "").split(separator: " ").map(String.init).filter {
      Backend(rawValue: $0) != nil
    }
    return LessonProgress(
      lesson: lesson, step: step == "-" ? nil : step, labDone: values["lab-done"] == "yes", hintsShown: hints,
      finished: values["finished"] == "yes", records: records, backends: backends)
  }
}

/// What happened in one step of a lesson: the figures a teacher reads in a report.
public struct LessonStepRecord: Equatable, Sendable {
  public var step: String
  /// When the learner first arrived at the step and first passed it (moved past it with `next`),
  /// in seconds since 1970; nil before that.
  public var started: Int?
  public var passed: Int?
  /// The most hints of this step the learner has seen (`back` and `reset` start the count of
  /// the step again, but a hint once read stays read).
  public var hints: Int
  /// How many times `solution` showed and ran the answer.
  public var solutions: Int
  /// How many times `check`, or `next` on an exercise, found work left to do. Not a mark: a
  /// failing check is the to-do list of an exercise; a teacher reads it as effort.
  public var checksFailed: Int

  public init(
    step: String, started: Int? = nil, passed: Int? = nil, hints: Int = 0, solutions: Int = 0, checksFailed: Int = 0
  ) {
    self.step = step
    self.started = started
    self.passed = passed
    self.hints = hints
    self.solutions = solutions
    self.checksFailed = checksFailed
  }

  var encoded: String {
    "record \(step) started \(started.map(String.init) ?? "-") passed \(passed.map(String.init) ?? "-")"
      + " hints \(hints) solutions \(solutions) checks-failed \(checksFailed)"
  }

  /// `STEP started T passed T hints N solutions N checks-failed N`; pairs in any order, unknown
  /// ones ignored, a count that is not a number refuses the whole line.
  static func decode(_ text: String) -> LessonStepRecord? {
    let words = text.split(separator: " ").map(String.init)
    guard words.count % 2 == 1, let step = words.first, !step.isEmpty else { return nil }
    var record = LessonStepRecord(step: step)
    for i in stride(from: 1, to: words.count, by: 2) {
      let value = words[i + 1]
      let time: Int??
      if value == "-" { time = .some(nil) } else if let n = Int(value), n >= 0 { time = .some(n) } else { time = nil }
      switch words[i] {
      case "started":
        guard let time else { return nil }
        record.started = time
      case "passed":
        guard let time else { return nil }
        record.passed = time
      case "hints", "solutions", "checks-failed":
        guard let n = Int(value), n >= 0 else { return nil }
        if words[i] == "hints" {
          record.hints = n
        } else if words[i] == "solutions" {
          record.solutions = n
        } else {
          record.checksFailed = n
        }
      default: continue
      }
    }
    return record
  }
}

/// Where progress lives: files under `$XDG_STATE_HOME/boxwalk/progress/` in the CLI, memory in
/// tests. The lesson engine never touches the file system itself (Lab is pure).
public protocol LessonProgressStore: AnyObject {
  func load(lesson id: String) -> LessonProgress?
  /// Saves; the error is shown to the learner as a warning, the lesson goes on.
  func save(_ progress: LessonProgress) throws(LabError)
  /// Whether the first-run welcome was shown already.
  var welcomed: Bool { get }
  func markWelcomed()
}

/// Progress kept in memory: for tests, and for a learner with no home directory.
public final class MemoryLessonProgressStore: LessonProgressStore {
  public private(set) var saved: [String: LessonProgress] = [:]
  public private(set) var welcomed = false

  public init(welcomed: Bool = false) { self.welcomed = welcomed }

  public func load(lesson id: String) -> LessonProgress? { saved[id] }
  public func save(_ progress: LessonProgress) throws(LabError) { saved[progress.lesson] = progress }
  public func markWelcomed() { welcomed = true }
}

/// Writes files for `record`. The CLI implements it with write(2) and rename(2).
public protocol LessonFileWriter: AnyObject {
  func exists(_ path: String) -> Bool
  /// Replaces the file's content atomically.
  func write(_ path: String, _ text: String) throws(LabError)
}
