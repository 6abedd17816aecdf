/// Lines up the expected lines of a failed step with what was actually printed, for the failure
/// diff and for `--update`.
///
/// A plain text diff would report every `{{pid}}` line as changed, because the pattern text is not
/// the output text. This is an edit-distance alignment (a pattern-aware diff, as cram's
/// `_SequenceMatcher` technique does) where "equal" means "the pattern matches the line", `...`
/// absorbs any lines for free and a missing optional line costs nothing. The cheapest alignment has
/// the fewest `-` and `+` lines, so the diff shows only what really differs.
enum TranscriptAlignment {
  enum Op: Equatable {
    /// Expected line `expected` matched actual line `actual`.
    case matched(expected: Int, actual: Int)
    /// An `...` line, with the actual lines it absorbed.
    case anyLines(expected: Int, actual: [Int])
    /// An optional line that is not there, which is fine.
    case skippedOptional(expected: Int)
    /// An expected line no actual line matched.
    case removed(expected: Int)
    /// An actual line no expected line matched.
    case added(actual: Int)
  }

  /// `actual` must be normalized. Lines are compared with the bindings from before the step; a
  /// capture bound by one line is not carried to the next here (the exact search in
  /// `TranscriptMatcher.matchStep` does that), which is good enough to show where the step differs.
  static func align(
    _ expected: [TranscriptExpectedLine], _ actual: [String], _ bindings: TranscriptBindings,
    _ matcher: TranscriptMatcher
  ) -> [Op] {
    let n = expected.count
    let m = actual.count
    let unreachable = Int.max / 4
    var matches = [[Bool]](repeating: [Bool](repeating: false, count: m), count: n)
    for i in 0..<n {
      for j in 0..<m { matches[i][j] = matcher.match(expected[i], actual[j], bindings) != nil }
    }
    // cost[i][j]: the fewest -/+ lines to align expected[i...] with actual[j...].
    var cost = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
    for i in stride(from: n, through: 0, by: -1) {
      for j in stride(from: m, through: 0, by: -1) {
        if i == n {
          cost[i][j] = m - j
          continue
        }
        let insert = j < m ? 1 + cost[i][j + 1] : unreachable
        switch expected[i].kind {
        case .anyLines:
          cost[i][j] = min(cost[i + 1][j], j < m ? cost[i][j + 1] : unreachable)
        case .pattern(_, let optional):
          let delete = (optional ? 0 : 1) + cost[i + 1][j]
          let match = j < m && matches[i][j] ? cost[i + 1][j + 1] : unreachable
          cost[i][j] = min(match, delete, insert)
        }
      }
    }
    // Walk the cheapest path from the start, preferring a match, then a removal (so `-` lines come
    // before `+` lines, as diff(1) prints them), then an addition.
    var ops: [Op] = []
    var i = 0
    var j = 0
    while i < n || j < m {
      if i == n {
        ops.append(.added(actual: j))
        j += 1
        continue
      }
      switch expected[i].kind {
      case .anyLines:
        var absorbed: [Int] = []
        // Take a line only when stopping here would cost more (a lazy `...`).
        while j < m, cost[i][j] != cost[i + 1][j] {
          absorbed.append(j)
          j += 1
        }
        ops.append(.anyLines(expected: i, actual: absorbed))
        i += 1
      case .pattern(_, let optional):
        if j < m, matches[i][j], cost[i][j] == cost[i + 1][j + 1] {
          ops.append(.matched(expected: i, actual: j))
          i += 1
          j += 1
        } else if cost[i][j] == (optional ? 0 : 1) + cost[i + 1][j] {
          ops.append(optional ? .skippedOptional(expected: i) : .removed(expected: i))
          i += 1
        } else {
          ops.append(.added(actual: j))
          j += 1
        }
      }
    }
    return ops
  }

  /// The bindings the matched lines of an alignment make, in order, skipping any that disagree.
  /// A failed step still binds what it can, so one wrong line does not make every later use of a
  /// capture fail too.
  static func bindings(
    _ ops: [Op], _ expected: [TranscriptExpectedLine], _ actual: [String], _ start: TranscriptBindings,
    _ matcher: TranscriptMatcher
  ) -> TranscriptBindings {
    var running = start
    for case .matched(let i, let j) in ops {
      if let next = matcher.match(expected[i], actual[j], running) { running = next }
    }
    return running
  }
}
