/// What every lesson of the course must have, beyond what makes a lesson file valid (`boxwalk
/// lint --course`; lessons/README.md lists the bar). A draft from `lesson new` is a valid lesson
/// that does not meet it yet, so plain `lint` leaves these out.
///
/// Only what a program can see is checked here: the number of exercises and hints, a prediction
/// asked before the learner observes, a refusal, error or errno named in the text, the man pages
/// of the last step and the docker or runc behaviour. Whether each step holds one idea stays the author's
/// judgement.
extension LessonLinter {
  public static func courseBar(_ lesson: Lesson) -> [LessonFinding] {
    var out: [LessonFinding] = []
    func find(_ line: Int, _ message: String, fix: String) {
      out.append(LessonFinding(path: lesson.path, line: line, column: 1, message: message, fix: fix))
    }
    let exercises = lesson.steps.filter(\.isExercise)
    if exercises.count < 3 {
      find(
        lesson.idLine,
        "the lesson has \(exercises.count) exercise\(exercises.count == 1 ? "" : "s"); a course lesson has at least "
          + "three (steps with a check block)",
        fix: "turn an observation into an exercise: a check block on the state it should reach, hints and a solution")
    }
    for step in exercises where step.hints.count < 2 {
      find(
        step.check?.line ?? step.line,
        "step \(step.id): the exercise has \(step.hints.count) hint\(step.hints.count == 1 ? "" : "s"); give at "
          + "least two, the gentle one first and the explicit one last",
        fix: "add a hint block: one that points at the idea, one that names the command")
    }
    let prose = lesson.intro + lesson.steps.flatMap { $0.before + $0.after }
    // Text before a lab block shows before it runs; a step without one shows all its text first,
    // and the learner's own commands are what they observe.
    let predicts = lesson.steps.contains { step in
      step.before.contains { $0.lowercased().contains("predict") }
    }
    if !predicts {
      find(
        lesson.steps.first?.line ?? lesson.idLine,
        "no step asks the learner to predict before observing (\"Predict before you type `next`: ...\")",
        fix: "before a lab block, ask a question whose answer the block shows (\"Predict: ...\")")
    }
    if !prose.contains(where: Self.namesAMistake) {
      find(
        lesson.steps.first?.line ?? lesson.idLine,
        "no step stages a classic mistake: name the refusal, error or errno (EPERM, EINVAL, ...) the learner "
          + "meets, then the fix",
        fix: "stage the mistake on purpose: a lab or exercise step whose command is refused, and the text naming why")
    }
    if let last = lesson.steps.last, !(last.before + last.after).contains(where: Self.namesAManPage) {
      find(
        last.line, "step \(last.id): the last step names no man page to read next (a name and section: unshare(2))",
        fix: "end the last step with the man pages to read next, each as name(section)")
    }
    if !prose.contains(where: { $0.lowercased().contains("docker") || $0.contains("runc") }) {
      find(
        lesson.idLine, "the lesson never says which docker or runc behaviour it explains",
        fix: "say which docker flag or runc field does what the lesson built (docker run --hostname, ...)")
    }
    return out
  }

  /// An errno name (EPERM), a refusal, an error or a failure: what a staged mistake shows the
  /// learner, or the word the course uses for it ("the classic mistake").
  static func namesAMistake(_ line: String) -> Bool {
    let lower = line.lowercased()
    if ["refus", "error", "fails", "classic"].contains(where: { lower.contains($0) }) { return true }
    let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
    // errno(3) names are E and at least three more capitals or digits (EIO is the one shorter
    // name, and no lesson's mistake is an I/O error).
    return words.contains { w in w.count >= 4 && w.first == "E" && w.allSatisfy { $0.isUppercase || $0.isNumber } }
  }

  /// `name(N)`, a man page reference with a section from 1 to 8.
  static func namesAManPage(_ line: String) -> Bool {
    let chars = Array(line)
    var i = 0
    while i + 2 < chars.count {
      if chars[i] == "(", ("1"..."8").contains(chars[i + 1]), chars[i + 2] == ")", i > 0,
        chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_"
      {
        return true
      }
      i += 1
    }
    return false
  }
}
