/// Where a learner is in one lesson, saved after every step (lessons/README.md) and read back on
/// restart.
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

  public init(lesson: String, step: String?, labDone: Bool = false, hintsShown: Int = 0, finished: Bool = false) {
    self.lesson = lesson
    self.step = step
    self.labDone = labDone
    self.hintsShown = hintsShown
    self.finished = finished
  }

  /// A small line-based file, `key value` per line, that a person can read and edit.
  public var encoded: String {
    [
      "# boxwalk lesson progress, written after every step; delete this file to start the lesson over",
      "format 1",
      "lesson \(lesson)",
      "step \(step ?? "-")",
      "lab-done \(labDone ? "yes" : "no")",
      "hints \(hintsShown)",
      "finished \(finished ? "yes" : "no")",
    ].joined(separator: "\n") + "\n"
  }

  /// Reads `encoded` back; nil when the text is not a progress file this version understands
  /// (the lesson then starts from its beginning: a lost position is better than a wrong one).
  /// Unknown keys are ignored, so a newer boxwalk can add some.
  public static func decode(_ text: String) -> LessonProgress? {
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2 else { return nil }
      values[String(parts[0])] = String(parts[1])
    }
    guard values["format"] == "1", let lesson = values["lesson"], let step = values["step"],
      let hints = values["hints"].flatMap({ Int($0) }), hints >= 0
    else { return nil }
    return LessonProgress(
      lesson: lesson, step: step == "-" ? nil : step, labDone: values["lab-done"] == "yes", hintsShown: hints,
      finished: values["finished"] == "yes")
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
