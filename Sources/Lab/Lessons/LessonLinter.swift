import Kernel

/// `boxwalk lint` for lessons: what the parser cannot see (lessons/README.md, "Writing a lesson").
///
/// Structure (ids unique across lessons, every lab block with a shell block, every check with a
/// solution) is checked on the parsed lessons; the rest is proved by running each lesson on the
/// simulator with `LessonWalkthrough`. Planning is pure and separate from the run.
public enum LessonLinter {
  public struct Report: Sendable {
    public let lesson: Lesson
    public var findings: [LessonFinding]
    public var checksProven: Int
  }

  /// Lints lessons: each one's structure, the uniqueness of their ids, and a walkthrough in a
  /// session from `makeSession` (the simulator, for `boxwalk lint`).
  public static func lint(_ lessons: [Lesson], makeSession: () throws -> Session) -> [Report] {
    let duplicates = duplicateIDs(lessons)
    return lessons.map { lesson in
      var findings = structure(lesson) + duplicates.filter { $0.path == lesson.path }
      let walk = LessonWalkthrough.run(lesson, makeSession: makeSession)
      findings += walk.findings
      findings.sort { ($0.line, $0.column) < ($1.line, $1.column) }
      return Report(lesson: lesson, findings: findings, checksProven: walk.checksProven)
    }
  }

  /// What a lesson must have, block by block.
  public static func structure(_ lesson: Lesson) -> [LessonFinding] {
    var out: [LessonFinding] = []
    func find(_ line: Int, _ message: String, fix: String) {
      out.append(LessonFinding(path: lesson.path, line: line, column: 1, message: message, fix: fix))
    }
    for step in lesson.steps {
      if let lab = step.lab, step.shell == nil {
        find(
          lab.line, "step \(step.id): the lab block has no shell block (the same commands on a real Linux machine)",
          fix: "add a ```shell block after the lab block, with the shell commands that do the same on Linux")
      }
      // The REPL prints a step's shell block under its lab block's output ("on a real Linux
      // machine"), never where it sits in the file: without a lab block it is never shown, and
      // above the lab block it shows one step late, after text that introduced it (docs/lessons.md).
      if let shell = step.shell {
        if step.lab == nil {
          find(
            shell.line, "step \(step.id): a shell block without a lab block is never shown to the learner",
            fix: "put the commands in the text as a block indented by four spaces, or add the lab block they go with")
        } else if let lab = step.lab, shell.line < lab.line {
          find(
            shell.line,
            "step \(step.id): the shell block comes before the lab block, but shows only after the lab has run",
            fix: "move it after the lab block, or put the commands in the text as a block indented by four spaces")
        }
      }
      if let check = step.check, step.solution == nil {
        find(
          check.line, "step \(step.id): the check block has no solution block, so nothing proves it can pass",
          fix: "add a ```solution block with the commands of one correct answer, for lint to run")
      }
      if let solution = step.solution, step.check == nil {
        find(
          solution.line, "step \(step.id): a solution block without a check block: nothing says what it solves",
          fix: "add a ```check block with the state the solution must reach, or make the solution a ```lab block")
      }
      if let expect = step.expect, step.lab == nil {
        find(
          expect.line, "step \(step.id): an expect block without a lab block: expect holds after the lab runs",
          fix: "add the ```lab block whose result it describes, or turn the expect block into a ```check block")
      }
      if let hint = step.hints.first, step.check == nil {
        find(
          hint.line, "step \(step.id): hints without a check block: there is nothing for the learner to solve",
          fix: "add a ```check block (and a ```solution) to make the step an exercise, or remove the hints")
      }
    }
    return out
  }

  /// A lesson id used by two files: `lesson ID` and the progress file could only mean one.
  public static func duplicateIDs(_ lessons: [Lesson]) -> [LessonFinding] {
    var first: [String: Lesson] = [:]
    var out: [LessonFinding] = []
    for lesson in lessons {
      if let earlier = first[lesson.id] {
        out.append(
          LessonFinding(
            path: lesson.path, line: lesson.idLine, column: 1,
            message: "lesson id \(lesson.id) is also the id of \(earlier.path); ids must be unique",
            fix: "give one of the two lessons another id: in its front matter, id: followed by a new name"))
      } else {
        first[lesson.id] = lesson
      }
    }
    return out
  }
}
