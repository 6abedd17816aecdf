import Kernel

/// A refusal during an exercise, before the learner has asked for help.
///
/// Most refusals end with a `fix` line that names the command to type ("fix: unshare uts"). Outside
/// a lesson that is the quickest way on; inside an exercise it is often the exercise's answer,
/// given away before the learner has tried. Until the learner asks for a hint (or the solution),
/// such a fix line is replaced by an offer of `hint`: the headline and the rule that was broken
/// stay, so the learner still learns why the kernel (or the lab) said no.
extension LessonRunner {
  /// The offer that stands in for a fix line that would give an exercise away.
  static let hintOffer = ("hint", "this is part of the exercise: hint gives a hint, solution shows the answer")

  /// Whether the learner is working on an exercise (its lab block, if any, has run) and has seen
  /// neither a hint nor the solution of it, now or earlier.
  var exerciseUnaided: Bool {
    guard let a = active, let step = a.step, step.isExercise, a.labDone || step.lab == nil else { return false }
    let record = a.progress.records.first { $0.step == step.id }
    return a.hintsShown == 0 && (record?.hints ?? 0) == 0 && (record?.solutions ?? 0) == 0
  }

  /// The printed lines of a failed learner command, with any fix that names a command replaced
  /// by the offer of a hint. Text mode only: a `--json` line is left as the session printed it.
  func withoutAnswer(_ out: [String], error: LabError) -> [String] {
    guard exerciseUnaided, !jsonMode, out.count >= error.lines.count,
      Array(out.suffix(error.lines.count)) == error.lines
    else { return out }
    let commandWords = Set(CommandTable.firstWords)
    var changed = false
    var offered = false
    var details: [(String, String)] = []
    for detail in error.details {
      let first = detail.1.split(separator: " ").first.map(String.init) ?? ""
      guard detail.0 == "fix", commandWords.contains(first) else {
        details.append(detail)
        continue
      }
      changed = true
      if !offered { details.append(Self.hintOffer) }
      offered = true
    }
    guard changed else { return out }
    return Array(out.dropLast(error.lines.count)) + LabError(error.headline, details).lines
  }
}
