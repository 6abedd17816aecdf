/// Decides whether actual output lines match expected lines (docs/transcripts.md).
///
/// Each expected line becomes one anchored regex: literal text escaped, every token replaced by
/// its regex. Matching is always against a whole line (never a substring: FileCheck users learned
/// that substring checks let several expectations hit one line, mull-project/FileCheck.py#52),
/// and `{{*}}` is non-greedy so it cannot eat text a later token needs.
///
/// A capture that is already bound is not a wildcard any more: its value goes into the regex as
/// literal text. The regex therefore depends on the bindings, so compiled regexes are cached by
/// their source text rather than by line.
///
/// One matcher belongs to one run; it is not shared between threads.
final class TranscriptMatcher {
  private var cache: [String: Regex<AnyRegexOutput>?] = [:]

  init() {}

  /// The bindings after `expected` matched `actual`, or nil when it does not match. `actual`
  /// must already be normalized (`TranscriptNormalizer.line`). An `...` line matches nothing here:
  /// it stands for lines, not for a line.
  func match(_ expected: TranscriptExpectedLine, _ actual: String, _ bindings: TranscriptBindings)
    -> TranscriptBindings?
  {
    guard case .pattern = expected.kind else { return nil }
    return match(expected.comparableParts, actual, bindings)
  }

  /// `parts` are an expected line's `comparableParts`: literal pieces already collapsed.
  func match(_ parts: [TranscriptPatternPart], _ actual: String, _ bindings: TranscriptBindings) -> TranscriptBindings?
  {
    // Most expected lines are plain text, or text and captures bound already. Their regex would
    // be that text escaped, and a whole match of it is string equality; compiling the regex cost
    // more than running the step (ten times more, on sim), so compare instead.
    if let text = Self.literalText(parts, bindings) { return text == actual ? bindings : nil }
    let (source, newNames) = Self.regexSource(parts, bindings)
    guard let regex = compiled(source), let found = try? regex.wholeMatch(in: actual) else { return nil }
    var result = bindings
    for (name, valueClass) in newNames {
      guard let value = found.output[Self.groupName(name)]?.substring else { return nil }
      // The same value under two names of a distinct class fails the line (see `bind`).
      guard result.bind(name, valueClass, String(value)) else { return nil }
    }
    return result
  }

  /// Matches a whole step: every expected line against the actual lines, in order, where `...`
  /// takes zero or more lines and an optional line may be missing. This is a small backtracking
  /// search (cram does the same): `...` first tries to take as few lines as possible, and the
  /// bindings travel along each path, so a capture bound on a path that failed is forgotten.
  /// Returns the bindings of the first alignment that works, or nil.
  func matchStep(_ expected: [TranscriptExpectedLine], _ actual: [String], _ bindings: TranscriptBindings)
    -> TranscriptBindings?
  {
    struct State: Hashable {
      var i: Int
      var j: Int
      var bindings: TranscriptBindings
    }
    // Positions already known to fail with these bindings: without this, a few `...` lines over
    // long output would explore the same positions again and again.
    var failed: Set<State> = []
    func attempt(_ i: Int, _ j: Int, _ b: TranscriptBindings) -> TranscriptBindings? {
      if i == expected.count { return j == actual.count ? b : nil }
      let state = State(i: i, j: j, bindings: b)
      if failed.contains(state) { return nil }
      var result: TranscriptBindings?
      switch expected[i].kind {
      case .anyLines:
        for k in j...actual.count {
          if let r = attempt(i + 1, k, b) {
            result = r
            break
          }
        }
      case .pattern(_, let optional):
        if j < actual.count, let b2 = match(expected[i].comparableParts, actual[j], b) {
          result = attempt(i + 1, j + 1, b2)
        }
        if result == nil, optional {
          result = attempt(i + 1, j, b)
        }
      }
      if result == nil { failed.insert(state) }
      return result
    }
    return attempt(0, 0, bindings)
  }

  /// The regex source for a pattern (its comparable parts) under the current bindings, and the
  /// capture names the regex will bind (in order). `c_NAME` group names keep captures apart from
  /// groups inside `{{re:}}`.
  static func regexSource(_ parts: [TranscriptPatternPart], _ bindings: TranscriptBindings) -> (
    String, [(String, TranscriptClass)]
  ) {
    var source = ""
    var newNames: [(String, TranscriptClass)] = []
    for part in parts {
      switch part {
      case .literal(let text):
        source += escape(text)
      case .token(.anyText):
        source += ".*?"
      case .token(.regex(let regex)):
        source += "(?:" + regex + ")"
      case .token(.value(let valueClass, nil)):
        source += "(?:" + valueClass.pattern + ")"
      case .token(.value(let valueClass, let name?)):
        if let bound = bindings[name] {
          source += escape(bound.value)
        } else if newNames.contains(where: { $0.0 == name }) {
          // Second use within the line that binds it: a backreference to the first.
          source += "\\k<" + groupName(name) + ">"
        } else {
          source += "(?<" + groupName(name) + ">" + valueClass.pattern + ")"
          newNames.append((name, valueClass))
        }
      }
    }
    return (source, newNames)
  }

  /// The one text a pattern stands for when all its parts are literal text or captures bound
  /// already (each written as `regexSource` writes it), or nil when it has a wildcard.
  static func literalText(_ parts: [TranscriptPatternPart], _ bindings: TranscriptBindings) -> String? {
    var text = ""
    for part in parts {
      switch part {
      case .literal(let literal): text += literal
      case .token(.value(_, let name?)):
        guard let bound = bindings[name] else { return nil }
        text += bound.value
      case .token: return nil
      }
    }
    return text
  }

  static func groupName(_ name: String) -> String { "c_" + name }

  /// Escapes the characters that mean something in a regex outside a character class.
  static func escape(_ text: String) -> String {
    var out = ""
    for character in text {
      if "\\^$.|?*+()[]{}".contains(character) { out += "\\" }
      out.append(character)
    }
    return out
  }

  private func compiled(_ source: String) -> Regex<AnyRegexOutput>? {
    if let cached = cache[source] { return cached }
    // The parser already checked every `{{re:}}` on its own; a failure here (a user regex whose
    // group names clash with ours, say) makes the line not match rather than crash the run.
    let regex = try? Regex(source)
    cache[source] = regex
    return regex
  }
}
