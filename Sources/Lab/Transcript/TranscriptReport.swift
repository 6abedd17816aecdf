/// The text `boxwalk test` prints (docs/transcripts.md): one line per file × backend, a diff per
/// failing step, and a summary line last, so a CI log can be read from the bottom up.
public enum TranscriptReport {
  /// For a pass: `PASS path [backend=sim]`. For a skip: `SKIP path [backend=real]: reason`.
  /// For a failure: `FAIL path [backend=sim]`, then for each failing step its location and input
  /// (`path:27: boxwalk[web]> hostname`), the unified diff of expected against actual, and the
  /// captures bound so far (`bindings: ORIG=ci-runner-7`): FileCheck prints the values of the
  /// variables involved in a failed match for the same reason, they are usually the clue.
  public static func lines(for result: TranscriptResult) -> [String] {
    // A file name may hold control bytes; shown escaped, it cannot drive the terminal.
    let path = TranscriptParseError.visible(result.path)
    let head = "\(path) [backend=\(result.backend.rawValue)]"
    switch result.outcome {
    case .pass:
      return ["PASS " + head]
    case .skip(let reason):
      return ["SKIP " + head + ": " + reason]
    case .error(let message):
      return ["FAIL " + head + ": " + message]
    case .fail(let failures):
      var out = ["FAIL " + head]
      for failure in failures {
        out.append("\(path):\(failure.line): \(failure.input)")
        out += failure.diff
        if !failure.bindings.isEmpty { out.append("bindings: " + failure.bindings) }
      }
      return out
    }
  }

  /// Counts of passed, failed and skipped file × backend results.
  public static func counts(_ results: [TranscriptResult]) -> (passed: Int, failed: Int, skipped: Int) {
    var passed = 0
    var failed = 0
    var skipped = 0
    for result in results {
      switch result.outcome {
      case .pass: passed += 1
      case .fail, .error: failed += 1
      case .skip: skipped += 1
      }
    }
    return (passed, failed, skipped)
  }

  /// The last line of `boxwalk test`: `N passed, N failed, N skipped`. `unreadable` files (ones
  /// that could not be read or parsed, so never ran) count as failed.
  public static func summary(_ results: [TranscriptResult], unreadable: Int = 0) -> String {
    let c = counts(results)
    return "\(c.passed) passed, \(c.failed + unreadable) failed, \(c.skipped) skipped"
  }
}
