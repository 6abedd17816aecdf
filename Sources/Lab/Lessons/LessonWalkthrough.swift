import Kernel

/// Walks a lesson from its start to its end in a fresh session, the way a learner who always
/// takes the solution would: each lab block and then its expect block; each check block before
/// its solution (it must fail: a check that already passes proves nothing) and after it (every
/// assertion must pass). `lint` runs it on the simulator; tests run it on the real kernel too.
public enum LessonWalkthrough {
  public struct Result: Sendable {
    public var findings: [LessonFinding] = []
    /// Check blocks shown to fail before their solution and pass after it.
    public var checksProven = 0
    /// Whether every step ran (a failing command stops the walk: later steps would only fail
    /// for the same reason).
    public var completed = false
  }

  public static func run(_ lesson: Lesson, makeSession: () throws -> Session) -> Result {
    var result = Result()
    func find(_ line: Int, _ column: Int, _ message: String, fix: String) {
      result.findings.append(
        LessonFinding(path: lesson.path, line: line, column: column, message: message, fix: fix))
    }
    let session: Session
    do {
      session = try makeSession()
    } catch {
      find(
        1, 1, "could not start a session to run the lesson: \(error)",
        fix: "boxwalk doctor says what this backend lacks here; --backend sim proves the lesson on the simulator")
      return result
    }
    defer { session.close() }
    session.jsonMode = false
    let start = session.tree

    /// Runs commands; the first that fails is a finding and stops the walk.
    func run(_ block: LessonCommandBlock?, _ what: String, _ step: LessonStep) -> Bool {
      for command in block?.commands ?? [] {
        let before = session.failures
        let out = session.execute(command.text)
        if session.failures > before {
          var error = out.first.map(escapedForTerminal) ?? "it failed"
          // The error's own suggestion (a misspelt command or name), which is most often the fix.
          if let near = out.dropFirst().first(where: { $0.hasPrefix("  did you mean:") }) {
            let suggestion = String(near.drop { $0 != ":" }.dropFirst().drop { $0 == " " })
            error += " (did you mean " + escapedForTerminal(suggestion) + "?)"
          }
          find(
            command.line, 1, "step \(step.id): this \(what) command fails: \(error)",
            fix: "run the step's commands in boxwalk repl --backend sim to see why; change the command, or an"
              + " earlier step so that the lab is ready for it")
          return false
        }
      }
      return true
    }

    /// For an assertion on a path the lab does not have (a typo, most often): the nearest path it
    /// has, as `show` names it in the REPL.
    func nearest(_ outcome: LessonAssertionOutcome) -> String {
      let path = outcome.assertion.path
      guard outcome.assertion.op != .absent, session.tree.value(at: path) == nil else { return "" }
      let text = path.description
      let known = session.tree.allPaths().map(\.description)
      guard let near = Nearest.match(text, in: known, maxDistance: max(3, text.count / 2)) else { return "" }
      return " (did you mean \(near)?)"
    }

    for step in lesson.steps {
      let previous = session.tree
      func trees() -> LessonTrees { LessonTrees(now: session.tree, start: start, previous: previous) }
      guard run(step.lab, "lab", step) else { return result }
      for outcome in LessonAssertionEvaluator.evaluate(step.expect, trees()) where !outcome.passed {
        find(
          outcome.assertion.line, outcome.assertion.column,
          "step \(step.id): expect does not hold after the lab block: \(outcome.found)\(nearest(outcome))",
          fix: "make the assertion say what the lab block really leaves (show PATH in the REPL prints it), or"
            + " change the lab block")
      }
      guard let check = step.check else { continue }
      let before = LessonAssertionEvaluator.evaluate(check, trees())
      let failedBefore = before.contains { !$0.passed }
      if !failedBefore {
        find(
          check.line, 1,
          "step \(step.id): the check block already passes before its solution, so it proves nothing",
          fix: "make at least one assertion depend on the learner's work: a value the solution changes,"
            + " compared with @start or @prev")
      }
      // Without a solution the learner's work cannot be stood in for; later steps would fail for
      // that reason alone (the structural finding says so).
      guard let solution = step.solution else { return result }
      guard run(solution, "solution", step) else { return result }
      let after = LessonAssertionEvaluator.evaluate(check, trees())
      for outcome in after where !outcome.passed {
        find(
          outcome.assertion.line, outcome.assertion.column,
          "step \(step.id): check still fails after the solution: \(outcome.found)\(nearest(outcome))",
          fix: "make the assertion accept what the solution leaves (any correct route must pass), or fix the"
            + " solution")
      }
      if failedBefore, !after.contains(where: { !$0.passed }) { result.checksProven += 1 }
    }
    result.completed = true
    return result
  }
}
