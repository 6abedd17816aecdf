import Kernel

/// What the lesson engine prints: the welcome, a step's text on arrival, check reports and the
/// lesson list. Pure functions of the lesson and the results, so tests compare whole outputs.
public enum LessonText {
  static let welcome = [
    "welcome to boxwalk lessons.",
    "  Each step explains one idea. next runs the step's lab commands and shows what the kernel did.",
    "  Some steps are exercises: you type the commands. check says what is not done yet; failing",
    "  checks are expected while you work, they are a to-do list, not a mark. hint gives one hint",
    "  at a time, solution shows and runs the answer, back and reset undo. Your place is saved",
    "  after every step: boxwalk lesson ID brings you back to it.",
  ]

  static func header(_ lesson: Lesson) -> [String] {
    let n = lesson.steps.count
    return ["lesson \(lesson.id): \(lesson.title) (\(n) step\(n == 1 ? "" : "s"))"]
  }

  /// The text shown when the learner arrives at step `index`: title, prose, and what to do.
  /// With `labDone` (resuming an exercise, or after `reset step`), the prose after the lab block
  /// follows, and the exercise.
  static func arrival(_ lesson: Lesson, _ index: Int, labDone: Bool, next: Lesson?) -> [String] {
    guard index < lesson.steps.count else { return completed(lesson, next: next) }
    let step = lesson.steps[index]
    var out = ["", "step \(index + 1) of \(lesson.steps.count): \(step.title)"]
    out += step.before.map(escapedForTerminal)
    if labDone, step.lab != nil {
      out.append("(its lab block has run)")
      out += step.after.map(escapedForTerminal)
      out += step.isExercise ? yourTurn : ["next moves on"]
    } else if let lab = step.lab {
      out.append("next runs:")
      out += lab.commands.map { "  " + $0.text }
    } else if step.isExercise {
      out += yourTurn
    } else {
      out.append("next moves on")
    }
    return out
  }

  /// After the lab block of an exercise step, or on arrival at one without a lab block.
  static let yourTurn = [
    "your turn: check says what is left to do, hint helps, solution shows the answer;",
    "next moves on once check passes",
  ]

  /// The end of a lesson names the one that follows it in the course, so a learner never has to
  /// look the next id up; after the last lesson it says the course is done.
  static func completed(_ lesson: Lesson, next: Lesson?) -> [String] {
    let onward =
      next.map { "next: lesson \($0.id) (\(escapedForTerminal($0.title))) starts the next lesson." }
      ?? "that was the last lesson of the course: lessons shows what you have done."
    return [
      "",
      "lesson \(lesson.id) complete: all \(lesson.steps.count) steps done. The lab is still yours to explore;",
      "lessons lists the others, reset lesson starts this one again.",
      onward,
    ]
  }

  /// `shell` blocks: the same thing on a real Linux machine, shown and never run.
  static func shell(_ block: LessonTextBlock?) -> [String] {
    guard let block else { return [] }
    return ["on a real Linux machine:"] + block.lines.map { "  " + escapedForTerminal($0) }
  }

  /// The failing checks, each with its message and what the state holds (state paths only:
  /// checks never look at printed text).
  static func checkReport(_ outcomes: [LessonAssertionOutcome]) -> [String] {
    let failing = outcomes.filter { !$0.passed }
    if failing.isEmpty {
      return [
        "check: \(outcomes.count == 1 ? "it passes" : outcomes.count == 2 ? "both pass" : "all \(outcomes.count) pass")"
      ]
    }
    var out = ["check: \(outcomes.count - failing.count) of \(outcomes.count) pass"]
    for f in failing {
      out.append("  not yet: " + escapedForTerminal(f.assertion.message ?? f.assertion.text))
      out.append("    " + escapedForTerminal(f.assertion.text) + ": " + f.found)
    }
    return out
  }

  /// Expect blocks hold unless the lab and the lesson disagree: a learner changed the lab before
  /// `next`, or the lesson is wrong (lint catches that on the simulator).
  static func expectFailure(_ lesson: Lesson, _ failing: [LessonAssertionOutcome]) -> LabError {
    var details: [(String, String)] = failing.map { f in
      (
        "\(lesson.path):\(f.assertion.line):\(f.assertion.column)",
        escapedForTerminal(f.assertion.text) + ": " + f.found
      )
    }
    details.append(("why", "the lab is not in the state this lesson expects after the step"))
    details.append(("fix", "reset step, then next, runs the step again from a clean state"))
    return LabError("this step's expect block does not hold", details)
  }

  /// `lessons`: every lesson with the learner's progress.
  public static func catalog(
    _ lessons: [Lesson], progress: (String) -> LessonProgress?, problems: [String]
  ) -> [String] {
    var out: [String] = []
    if lessons.isEmpty {
      out.append("no lessons found")
    } else {
      let course = CourseProgress(lessons, progress: progress)
      var rows = [["ID", "TITLE", "DONE", "PROGRESS"]]
      for (lesson, entry) in zip(lessons, course.entries) {
        rows.append([
          lesson.id, lesson.title, "\(entry.stepsDone)/\(entry.steps) \(entry.percent)%",
          status(lesson, progress(lesson.id)),
        ])
      }
      out += DiffTable.table(rows)
      out += course.summary
      out.append("lesson ID starts a lesson, or resumes it where you left it")
    }
    out += problems.map { "warning: " + $0 }
    return out
  }

  static func status(_ lesson: Lesson, _ p: LessonProgress?) -> String {
    guard let p else { return "not started" }
    guard let id = p.step, let index = lesson.steps.firstIndex(where: { $0.id == id }) else {
      return p.finished ? "done" : "not started"
    }
    let at = "at step \(index + 1) (\(id))"
    return p.finished ? "done; again " + at : at
  }
}
