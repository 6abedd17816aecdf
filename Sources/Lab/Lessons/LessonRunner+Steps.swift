import Kernel

/// The lesson commands: where the learner is, and moving through the steps.
extension LessonRunner {
  // MARK: - lessons, lesson ID

  func listLessons() -> [String] {
    LessonText.catalog(
      lessons,
      progress: { id in self.active?.lesson.id == id ? self.active?.progress : self.store?.load(lesson: id) },
      problems: problems)
  }

  /// The lesson after `lesson` in the course order (`lessons` lists them in that order), which the
  /// completion message names; nil after the last.
  func lesson(after lesson: Lesson) -> Lesson? {
    guard let i = lessons.firstIndex(where: { $0.id == lesson.id }), i + 1 < lessons.count else { return nil }
    return lessons[i + 1]
  }

  func lessonCommand(_ args: [String]) -> CommandResult {
    switch args.count {
    case 0:
      guard let a = active else { return .failed(usage("lesson", "lesson needs the id of a lesson")) }
      return .ok(
        LessonText.header(a.lesson)
          + LessonText.arrival(a.lesson, a.index, labDone: a.labDone, next: lesson(after: a.lesson)))
    case 1:
      return startLesson(args[0])
    default:
      return .failed(usage("lesson", "lesson takes one lesson id"))
    }
  }

  /// Starts a lesson in a fresh lab, or resumes it where the learner left it: the position is
  /// read from the progress store and the lab rebuilt by replaying the steps before it.
  func startLesson(_ id: String) -> CommandResult {
    guard let lesson = lessons.first(where: { $0.id == id }) else {
      let ids = lessons.map(\.id)
      var details: [(String, String)] = [("lessons", ids.isEmpty ? "none found" : ids.joined(separator: " "))]
      // A learner who reads lessons/02-pid.md types its file name; the id is in its front matter.
      let named = lessons.first { lesson in
        lesson.path.split(separator: "/").last.map { $0 == id || $0 == id + ".md" } ?? false
      }
      if let near = named?.id ?? Nearest.match(id, in: ids) {
        details.append(("did you mean", named.map { "\($0.id) (the id of \($0.path))" } ?? near))
      }
      details.append(("state", "nothing was changed"))
      return .failed(LabError("no lesson \(quotedForTerminal(id))", details))
    }
    if let features, case let missing = lesson.requires.filter({ !features.contains($0.rawValue) }), !missing.isEmpty {
      return .failed(
        LabError(
          "lesson \(lesson.id) needs \(missing.map(\.rawValue).joined(separator: " ")), which this backend lacks",
          [
            ("where", "\(lesson.path): requires: \(lesson.requires.map(\.rawValue).joined(separator: " "))"),
            ("fix", "boxwalk doctor says what this host lacks; --backend sim has everything"),
            ("state", "nothing was changed"),
          ]))
    }
    if let features, features.contains(Backend.rootless.rawValue), let reason = lesson.rootlessReason {
      return .failed(
        LabError(
          "lesson \(lesson.id) does not run on the rootless backend: \(reason)",
          [
            ("where", "\(lesson.path): no-rootless:"),
            ("fix", "run it as root (--backend real), or on --backend sim"),
            ("state", "nothing was changed"),
          ]))
    }
    var out: [String] = []
    if !(store?.welcomed ?? welcomedHere) {
      out += LessonText.welcome + [""]
      store?.markWelcomed()
      welcomedHere = true
    }
    let saved = store?.load(lesson: lesson.id)
    var index = 0
    var labDone = false
    var hints = 0
    if let saved, let stepID = saved.step {
      if let i = lesson.steps.firstIndex(where: { $0.id == stepID }) {
        index = i
        labDone = saved.labDone && lesson.steps[i].lab != nil
        hints = saved.hintsShown
      } else {
        out.append("the lesson changed since you left it at step \(stepID): starting from step 1")
      }
    }
    if boxCount > 0 {
      out.append("the lesson starts in a fresh lab: the boxes made before it are gone")
    }
    let trees: (start: StateValue, previous: StateValue)
    do {
      trees = try rebuild(lesson, to: index, labDone: labDone)
    } catch {
      active = nil
      return .failed(error, before: out)
    }
    var a = ActiveLesson(
      lesson: lesson, index: index, labDone: labDone, hintsShown: hints, finished: saved?.finished ?? false,
      start: trees.start, previous: trees.previous, records: saved?.records ?? [], backends: saved?.backends ?? [])
    markStarted(&a)
    active = a
    out += LessonText.header(lesson)
    if index > 0 || labDone {
      out.append("resuming at step \(index + 1): the lab was rebuilt by replaying the steps before it")
    } else {
      out += lesson.intro.isEmpty ? [] : [""] + lesson.intro.map(escapedForTerminal)
    }
    out += LessonText.arrival(lesson, index, labDone: labDone, next: self.lesson(after: lesson))
    return .ok(out + save())
  }

  /// Boxes in the lab now.
  var boxCount: Int { session.boxNames.count }

  // MARK: - next

  /// Runs the step's lab block and checks its expect block; on an exercise, checks the learner's
  /// work; and moves on when the step is done.
  func next() -> CommandResult {
    guard var a = active else { return .failed(noLesson("next")) }
    guard let step = a.step else { return .ok(LessonText.completed(a.lesson, next: lesson(after: a.lesson))) }
    var out: [String] = []
    if !a.labDone, let lab = step.lab {
      log.note("step \(a.lesson.id)/\(step.id): \(step.title)")
      if let failure = runCommands(lab.commands, in: a.lesson, into: &out) {
        return .failed(
          LabError(
            "the lab command \(quotedForTerminal(failure.text)) failed, so the step stopped",
            [
              ("where", "\(a.lesson.path):\(failure.line)"),
              ("why", "the lab is not in the state this step starts from"),
              ("fix", "reset step rebuilds the lab as it was before the step; then next"),
            ]), before: out)
      }
      a.labDone = true
      active = a
      out += LessonText.shell(step.shell)
      let failing = evaluate(step.expect).filter { !$0.passed }
      out += step.after.map(escapedForTerminal)
      if !failing.isEmpty {
        return .failed(LessonText.expectFailure(a.lesson, failing), before: out + save())
      }
      if step.isExercise { return .ok(out + LessonText.yourTurn + save()) }
    } else if step.isExercise {
      let outcomes = evaluate(step.check)
      out += LessonText.checkReport(outcomes)
      if outcomes.contains(where: { !$0.passed }) {
        a.record { $0.checksFailed += 1 }
        active = a
        return .ok(out + ["next moves on once every check passes; hint helps, solution shows the answer"] + save())
      }
    }
    advance(&a)
    active = a
    return .ok(out + LessonText.arrival(a.lesson, a.index, labDone: false, next: lesson(after: a.lesson)) + save())
  }

  /// Moves to the following step: its `@prev` is the state now. The step left behind is passed
  /// (its first pass is the one recorded); its hint count stays in its record, the new step's
  /// count starts at 0.
  func advance(_ a: inout ActiveLesson) {
    let now = clock()
    a.record { $0.passed = $0.passed ?? now }
    a.index += 1
    a.labDone = false
    a.hintsShown = 0
    a.previous = session.tree
    if a.index == a.lesson.steps.count { a.finished = true }
    markStarted(&a)
  }

  /// The current step's record says when the learner first arrived at it.
  func markStarted(_ a: inout ActiveLesson) {
    let now = clock()
    a.record { $0.started = $0.started ?? now }
  }

  /// Runs commands as if typed, each echoed after the session's prompt. Returns the first command
  /// that failed, or nil.
  func runCommands(_ commands: [LessonCommand], in lesson: Lesson, into out: inout [String]) -> LessonCommand? {
    for command in commands {
      out.append(session.prompt + escapedForTerminal(command.text))
      let before = session.failures
      out += runLogged(command.text, counting: false)
      if session.failures > before { return command }
    }
    return nil
  }

  func evaluate(_ block: LessonAssertionBlock?) -> [LessonAssertionOutcome] {
    guard let a = active else { return [] }
    return LessonAssertionEvaluator.evaluate(
      block, LessonTrees(now: session.tree, start: a.start, previous: a.previous))
  }

  // MARK: - back

  /// Restores the state before the step: before the current one when its lab has run, else
  /// before the one before it.
  func back() -> CommandResult {
    guard let a = active else { return .failed(noLesson("back")) }
    let target: Int
    if a.index >= a.lesson.steps.count {
      target = a.lesson.steps.count - 1
    } else if a.labDone {
      target = a.index
    } else if a.index == 0 {
      return .ok(["already at the start of lesson \(a.lesson.id): nothing to go back to"])
    } else {
      target = a.index - 1
    }
    return moveTo(
      target, labDone: false, headline: "back to step \(target + 1): the lab was rebuilt from the lesson start")
  }

  /// Rebuilds the lab for a position and shows where the learner is.
  func moveTo(_ index: Int, labDone: Bool, headline: String) -> CommandResult {
    guard var a = active else { return .failed(noLesson("back")) }
    let trees: (start: StateValue, previous: StateValue)
    do {
      trees = try rebuild(a.lesson, to: index, labDone: labDone)
    } catch {
      return .failed(error)
    }
    a.index = index
    a.labDone = labDone
    a.hintsShown = 0
    a.start = trees.start
    a.previous = trees.previous
    markStarted(&a)
    active = a
    return .ok(
      [headline] + LessonText.arrival(a.lesson, index, labDone: labDone, next: lesson(after: a.lesson)) + save())
  }

  // MARK: - hint, check, solution

  func hint() -> CommandResult {
    guard var a = active else { return .failed(noLesson("hint")) }
    guard let step = a.step else { return .ok(LessonText.completed(a.lesson, next: lesson(after: a.lesson))) }
    guard !step.hints.isEmpty else {
      return .ok([
        step.isExercise
          ? "this step has no hints: solution shows the answer" : "this step has nothing to solve: next runs it"
      ])
    }
    let n = step.hints.count
    if a.hintsShown >= n {
      return .ok(["that was the last hint (\(n) of \(n)): solution shows and runs the answer"])
    }
    let shown = step.hints[a.hintsShown]
    a.hintsShown += 1
    let seen = a.hintsShown
    a.record { $0.hints = max($0.hints, seen) }
    active = a
    return .ok(["hint \(a.hintsShown) of \(n):"] + shown.lines.map { "  " + escapedForTerminal($0) } + save())
  }

  func check() -> CommandResult {
    guard var a = active else { return .failed(noLesson("check")) }
    guard let step = a.step else { return .ok(LessonText.completed(a.lesson, next: lesson(after: a.lesson))) }
    guard step.isExercise else {
      return .ok([
        "this step has nothing to check: next " + (step.lab != nil && !a.labDone ? "runs its lab block" : "moves on")
      ])
    }
    if step.lab != nil, !a.labDone { return .ok(["next runs this step's lab block first; then check your work"]) }
    let outcomes = evaluate(step.check)
    let done = !outcomes.contains { !$0.passed }
    if done { return .ok(LessonText.checkReport(outcomes) + ["next moves on"]) }
    a.record { $0.checksFailed += 1 }
    active = a
    return .ok(LessonText.checkReport(outcomes) + save())
  }

  /// Shows the solution and runs it, then checks it.
  func solution() -> CommandResult {
    guard var a = active else { return .failed(noLesson("solution")) }
    guard let step = a.step else { return .ok(LessonText.completed(a.lesson, next: lesson(after: a.lesson))) }
    guard let solution = step.solution else {
      return .ok([
        "this step has no solution to show: next " + (step.lab != nil && !a.labDone ? "runs its lab block" : "moves on")
      ])
    }
    if step.lab != nil, !a.labDone { return .ok(["next runs this step's lab block first; then the solution"]) }
    var out = ["solution:"] + solution.commands.map { "  " + escapedForTerminal($0.text) }
    log.note("solution of step \(a.lesson.id)/\(step.id)")
    a.record { $0.solutions += 1 }
    active = a
    out += save()
    if let failure = runCommands(solution.commands, in: a.lesson, into: &out) {
      return .failed(
        LabError(
          "the solution's command \(quotedForTerminal(failure.text)) failed",
          [
            ("where", "\(a.lesson.path):\(failure.line)"),
            ("why", "the lab was changed before the solution ran"),
            ("fix", "reset step, then solution, runs it on the state the step starts from"),
          ]), before: out)
    }
    let outcomes = evaluate(step.check)
    let done = !outcomes.contains { !$0.passed }
    return .ok(out + LessonText.checkReport(outcomes) + (done ? ["next moves on"] : []))
  }

  // MARK: - reset

  func resetCommand(_ args: [String]) -> CommandResult {
    var scope = ResetScope.step
    var confirmed = false
    for arg in args {
      if arg == "--yes" || arg == "-y" {
        confirmed = true
      } else if let s = ResetScope(rawValue: arg) {
        scope = s
      } else {
        return .failed(usage("reset", "reset takes step or lesson, and --yes"))
      }
    }
    guard let a = active else { return .failed(noLesson("reset")) }
    if confirmed { return reset(scope) }
    pendingReset = scope
    let what: String
    switch scope {
    case .step:
      guard let step = a.step else { return .ok(["lesson \(a.lesson.id) is complete: reset lesson starts it again"]) }
      what =
        "reset step undoes what you did in step \(a.index + 1) (\(step.id)): the lab is rebuilt as it was "
        + (a.labDone ? "after the step's lab block" : "before the step")
    case .lesson:
      what = "reset lesson starts \(a.lesson.id) again at step 1, in a fresh lab"
    }
    return .ok([
      what, "type yes to go ahead; anything else cancels (reset \(scope.rawValue) --yes skips this question)",
    ])
  }

  func reset(_ scope: ResetScope) -> CommandResult {
    guard let a = active else { return .failed(noLesson("reset")) }
    switch scope {
    case .step:
      guard a.step != nil else { return .ok(["lesson \(a.lesson.id) is complete: reset lesson starts it again"]) }
      return moveTo(
        a.index, labDone: a.labDone, headline: "step \(a.index + 1) reset: the lab was rebuilt from the lesson start")
    case .lesson:
      return moveTo(0, labDone: false, headline: "lesson \(a.lesson.id) reset: a fresh lab, back at step 1")
    }
  }

  // MARK: - Rebuilding

  /// Tears the lab down and builds it again: a fresh session from `makeSession`, then every step
  /// before `index` replayed quietly (its lab block, and for an exercise its solution, which does
  /// what the learner did), then the lab block of step `index` when `labDone`. Returns the trees
  /// `@start` and `@prev` refer to.
  func rebuild(_ lesson: Lesson, to index: Int, labDone: Bool) throws(LabError) -> (
    start: StateValue, previous: StateValue
  ) {
    // Make the new session before closing the old one: if it cannot start, the learner keeps a
    // working lab.
    let fresh: any LabSession
    do {
      fresh = try makeSession()
    } catch let e as LabError {
      throw LabError("could not start a fresh lab: " + e.headline, e.details + [("state", "the lab is unchanged")])
    } catch {
      throw LabError("could not start a fresh lab", [("error", "\(error)"), ("state", "the lab is unchanged")])
    }
    session.close()
    session = fresh
    session.jsonMode = false
    log.clear()
    log.note("lesson \(lesson.id): \(lesson.title)")
    let start = session.tree
    for i in 0..<index {
      let step = lesson.steps[i]
      log.note("step \(lesson.id)/\(step.id): \(step.title)")
      try replay(step.lab, step, lesson)
      if step.isExercise {
        log.note("solution of step \(lesson.id)/\(step.id)")
        try replay(step.solution, step, lesson)
      }
    }
    let previous = session.tree
    if labDone, index < lesson.steps.count {
      log.note("step \(lesson.id)/\(lesson.steps[index].id): \(lesson.steps[index].title)")
      try replay(lesson.steps[index].lab, lesson.steps[index], lesson)
    }
    return (start, previous)
  }

  private func replay(_ block: LessonCommandBlock?, _ step: LessonStep, _ lesson: Lesson) throws(LabError) {
    for command in block?.commands ?? [] {
      let before = session.failures
      let out = runLogged(command.text, counting: false)
      guard session.failures == before else {
        throw LabError(
          "could not rebuild the lab: a command of step \(step.id) failed",
          [
            ("where", "\(lesson.path):\(command.line)"), ("command", escapedForTerminal(command.text)),
            ("error", out.first.map(escapedForTerminal) ?? "?"),
            ("state", "the lab holds the steps before it; lint the lesson, or reset lesson"),
          ])
      }
    }
  }

  // MARK: - Helpers

  func noLesson(_ command: String) -> LabError {
    LabError(
      "\(command) works inside a lesson, and none is running",
      [("fix", "lessons lists them; lesson ID starts one"), ("state", "nothing was changed")])
  }

  /// Saves the position; a failure is a warning, the lesson goes on.
  func save() -> [String] {
    guard let store, active != nil else { return [] }
    let backend = session.backend.rawValue
    if active?.backends.contains(backend) == false { active?.backends.append(backend) }
    guard let a = active else { return [] }
    do {
      try store.save(a.progress)
      return []
    } catch {
      return ["warning: progress not saved: " + error.headline]
    }
  }
}
