import Kernel

/// The lesson engine as the REPL sees it: a lab session with lessons around it.
///
/// It wraps a `Session` (composition, not a subclass) and speaks the same `TranscriptSession`
/// protocol, so the REPL loop, recordings and tests drive it exactly as they drive a bare session.
/// It answers the lesson and recording commands itself (`lessons`, `lesson ID`, `next`, `back`,
/// `hint`, `check`, `solution`, `reset`, `record`) and hands every other line to the session.
///
/// Undoing (`back`, `reset`) works the same on every backend: the lab is torn down, a fresh
/// session is made with `makeSession`, and the earlier steps are replayed quietly. A snapshot would
/// be faster on the simulator, but a real kernel cannot be snapshotted, and one way of undoing is
/// one way to get right.
public final class LessonRunner: TranscriptSession {
  /// The lab session lines go to. Replaced by a fresh one when the lab is rebuilt.
  public internal(set) var session: any LabSession
  public var lessons: [Lesson] { catalog.lessons }
  /// Lesson files that could not be read, shown by `lessons` (`path:line:col: message`).
  public var problems: [String] { catalog.problems }
  /// Read at the first command that needs a lesson, not at start: parsing the course took more
  /// than half of a REPL's start and end with nothing typed (the whole-container benchmark).
  private lazy var catalog: (lessons: [Lesson], problems: [String]) = loadCatalog()
  private let loadCatalog: () -> (lessons: [Lesson], problems: [String])
  let makeSession: () throws -> any LabSession
  let store: (any LessonProgressStore)?
  let files: (any LessonFileWriter)?
  /// The host's features (the names of `#require`) for a lesson's `requires:`; nil checks nothing.
  let features: Set<String>?
  /// Seconds since 1970, for the step records (when a step was started and passed). Lab reads
  /// no clock itself: the CLI gives it time(2); tests give a fixed time.
  let clock: () -> Int

  /// `--json`: every executed line prints one JSON object.
  var json: Bool
  /// Without a progress store, the welcome is shown once per runner.
  var welcomedHere = false

  /// The lesson in progress.
  var active: ActiveLesson?
  /// A `reset` waiting for its `yes`.
  var pendingReset: ResetScope?
  var ownFailures = 0
  var log = SessionLog()
  /// The transcript `record` writes after every command.
  var recordingPath: String?

  /// - Parameters:
  ///   - session: the lab session to start with.
  ///   - lessons: the lessons `lessons` lists and `lesson ID` starts.
  ///   - problems: lesson files left out because they did not parse, to show in `lessons`.
  ///   - makeSession: makes a fresh session on the same backend, for `lesson`, `back` and `reset`.
  ///   - progress: where progress is saved; nil keeps none.
  ///   - files: writes recordings; nil makes `record` an error.
  ///   - features: what this host offers, checked against a lesson's `requires:`.
  ///   - clock: the time now in seconds since 1970, for the step records.
  public convenience init(
    session: any LabSession, lessons: [Lesson], problems: [String] = [],
    makeSession: @escaping () throws -> any LabSession,
    progress: (any LessonProgressStore)? = nil, files: (any LessonFileWriter)? = nil, features: Set<String>? = nil,
    clock: @escaping () -> Int = { 0 }
  ) {
    self.init(
      session: session, catalog: { (lessons, problems) }, makeSession: makeSession, progress: progress, files: files,
      features: features, clock: clock)
  }

  /// The same, with the lessons read by `catalog` when a command first needs them.
  public init(
    session: any LabSession, catalog: @escaping () -> (lessons: [Lesson], problems: [String]),
    makeSession: @escaping () throws -> any LabSession,
    progress: (any LessonProgressStore)? = nil, files: (any LessonFileWriter)? = nil, features: Set<String>? = nil,
    clock: @escaping () -> Int = { 0 }
  ) {
    self.clock = clock
    self.session = session
    self.json = session.jsonMode
    self.features = features
    self.loadCatalog = catalog
    self.makeSession = makeSession
    self.store = progress
    self.files = files
  }

  // MARK: - TranscriptSession

  /// `boxwalk[web uts/hostname]> ` during a lesson: the current box, then lesson/step. Without a
  /// lesson, the session's own prompt. Either way `boxwalk[...]> `, which transcripts match.
  public var prompt: String {
    guard let a = active else { return session.prompt }
    let place = a.lesson.id + "/" + (a.index < a.lesson.steps.count ? a.lesson.steps[a.index].id : "done")
    return "boxwalk[" + (currentBox.map { $0 + " " } ?? "") + place + "]> "
  }

  public func execute(_ line: String) -> [String] {
    // A daemon's session may have been changed by another client since the last line (curl, a
    // second REPL): checks must read the lab as it is now.
    session.forgetCachedTree()
    let out = dispatch(line)
    if let error = writeRecording() { return out + error.lines }
    return out
  }

  func dispatch(_ line: String) -> [String] {
    if let scope = pendingReset {
      pendingReset = nil
      switch confirmation(line) {
      case true?: return finish(line, inTextMode { reset(scope) })
      case false?: return finish(line, .ok(["reset cancelled: nothing was changed"]))
      case nil: return ["reset cancelled: nothing was changed"] + dispatch(line)  // and the line runs as usual
      }
    }
    guard let words = try? WordSplitter.split(line), let first = words.first else { return runLogged(line) }
    let args = Array(words.dropFirst())
    let command: (() -> CommandResult)?
    switch first {
    case "lessons":
      command = { args.isEmpty ? .ok(self.listLessons()) : .failed(self.usage("lessons", "lessons takes no argument")) }
    case "lesson": command = { self.lessonCommand(args) }
    case "next": command = { self.noArguments(first, args) ?? self.next() }
    case "back": command = { self.noArguments(first, args) ?? self.back() }
    case "hint": command = { self.noArguments(first, args) ?? self.hint() }
    case "check": command = { self.noArguments(first, args) ?? self.check() }
    case "solution": command = { self.noArguments(first, args) ?? self.solution() }
    case "reset": command = { self.resetCommand(args) }
    case "record": command = { self.recordCommand(args) }
    case "help" where args.count == 1 && Self.helpTopics[args[0]] != nil:
      command = { .ok(Self.helpTopics[args[0]] ?? []) }
    default: command = nil
    }
    guard let command else { return runLogged(line) }
    return finish(line, inTextMode(command))
  }

  /// Runs a lesson command with the session printing text: in `--json` mode `finish` wraps the
  /// whole result in one object, so lab commands run by `next` show as readable lines inside it.
  func inTextMode(_ body: () -> CommandResult) -> CommandResult {
    session.jsonMode = false
    defer { session.jsonMode = json }
    return body()
  }

  public func close() { session.close() }

  // MARK: - REPL

  /// Set by `quit`.
  public var quitRequested: Bool { session.quitRequested }

  /// Commands that failed (lab commands, lesson commands used wrongly), for a piped session's exit
  /// status. A failing `check` is not a failure: it is the to-do list of an exercise.
  public var failures: Int { ownFailures }

  public var jsonMode: Bool {
    get { json }
    set {
      json = newValue
      session.jsonMode = newValue
    }
  }

  /// The current lesson and step ids, nil without a lesson (for tests and the CLI).
  public var position: (lesson: String, step: String?)? {
    guard let a = active else { return nil }
    return (a.lesson.id, a.index < a.lesson.steps.count ? a.lesson.steps[a.index].id : nil)
  }

  // MARK: - Delegation

  /// Runs one line in the session and logs it, unless it only ends the session.
  @discardableResult
  func runLogged(_ line: String, counting: Bool = true) -> [String] {
    let prompt = session.prompt
    let failuresBefore = session.failures
    var out = session.execute(line)
    let failed = session.failures > failuresBefore
    // The learner's own line, refused during an exercise: no answer before a hint was asked for.
    if failed, counting, let error = LabError.trailing(in: out) { out = withoutAnswer(out, error: error) }
    if failed, counting { ownFailures += 1 }
    let words = (try? WordSplitter.split(line)) ?? [line]
    if let first = words.first, first != "quit", first != "exit" {
      // The terminal's highlight is not part of the text a recording keeps.
      log.command(prompt: prompt, line: line, output: out.map(PictureStyle.withoutHighlight))
    }
    return out
  }

  /// The current box, read from the session's prompt (`boxwalk[web]> ` -> web).
  var currentBox: String? {
    let p = session.prompt
    guard let open = p.firstIndex(of: "["), let close = p.lastIndex(of: "]"), open < close else { return nil }
    return String(p[p.index(after: open)..<close])
  }

  // MARK: - Results

  /// What a lesson command did: printed lines, and whether it counts as a failed command.
  enum CommandResult {
    case ok([String])
    case failed(LabError, before: [String] = [])

    static func failed(_ e: LabError) -> CommandResult { .failed(e, before: []) }
  }

  /// Prints a result: text, or in `--json` mode one object per line, like the session's.
  func finish(_ line: String, _ result: CommandResult) -> [String] {
    var lines: [String]
    var error: String?
    switch result {
    case .ok(let out): lines = out
    case .failed(let e, let before):
      ownFailures += 1
      lines = before + e.lines
      error = e.headline
    }
    guard jsonMode else { return lines }
    var m = StateMap()
    m["prompt"] = .string(prompt)
    m["input"] = .string(line)
    m["ok"] = .bool(error == nil)
    if let error { m["error"] = .string(error) }
    if let a = active { m["lesson"] = .string(a.lesson.id) }
    m["output"] = .list(lines.map { .string($0) })
    return [JSON.encode(.map(m))]
  }

  func noArguments(_ command: String, _ args: [String]) -> CommandResult? {
    guard !args.isEmpty else { return nil }
    return .failed(usage(command, "\(command) takes no argument"))
  }

  func usage(_ command: String, _ message: String) -> LabError {
    LabError(
      message,
      [("usage", Self.usage(of: command)), ("see", "help \(command)"), ("state", "nothing was changed")])
  }

  /// `yes`/`y` confirm, `no`/`n` cancel, anything else is not an answer.
  func confirmation(_ line: String) -> Bool? {
    switch line.trimmingLeadingSpaces.lowercased().split(separator: " ").first.map(String.init) ?? "" {
    case "yes", "y": return true
    case "no", "n", "": return false
    default: return nil
    }
  }
}

/// A lesson in progress: where the learner is, and the trees `@start` and `@prev` refer to.
struct ActiveLesson {
  var lesson: Lesson
  /// The current step; `lesson.steps.count` once the lesson is complete.
  var index: Int
  /// Whether the current step's lab block has run.
  var labDone: Bool
  var hintsShown: Int
  var finished: Bool
  /// The state at the lesson start.
  var start: StateValue
  /// The state before the current step.
  var previous: StateValue
  /// What happened in each step reached so far (kept across restarts in the progress file).
  var records: [LessonStepRecord] = []
  /// The backends the lesson was worked on (kept across restarts in the progress file).
  var backends: [String] = []

  var step: LessonStep? { index < lesson.steps.count ? lesson.steps[index] : nil }

  var progress: LessonProgress {
    LessonProgress(
      lesson: lesson.id, step: step?.id, labDone: labDone, hintsShown: hintsShown, finished: finished,
      records: records, backends: backends)
  }

  /// Changes the current step's record (made when missing); nothing once the lesson is complete.
  mutating func record(_ change: (inout LessonStepRecord) -> Void) {
    guard let id = step?.id else { return }
    var p = progress
    p.update(id, change)
    records = p.records
  }
}

/// What `reset` undoes.
enum ResetScope: String {
  /// The learner's work in the current step: back to just after its lab block (or before the
  /// step, when its lab has not run).
  case step
  /// The whole lesson: back to its first step, in a fresh lab.
  case lesson
}
