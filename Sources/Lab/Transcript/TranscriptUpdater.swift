/// `boxwalk test --update`: rewrites a transcript's expectations from what a run printed
/// (docs/transcripts.md).
///
/// Only the expected lines of failing steps change, and only where they no longer match:
/// - prose, directives, `#if` structure, blank lines and passing steps are written back verbatim;
/// - in a failing step, expected lines that still match keep their text, so the author's `{{*}}`,
///   `...`, optional lines and captures survive;
/// - lines that no longer match are replaced by the actual line, where any value equal to a
///   capture bound at that point becomes that capture's `{{class:NAME}}` again, so the author's
///   names survive too;
/// - a step that expected nothing but printed something gets its output filled in;
/// - a wrong prompt is replaced by the one the session showed.
///
/// Give it a `sim` run: the sim is deterministic, so what it writes passes again. Steps in `#if`
/// branches that did not run stay as they were.
///
/// An update never passes: the CLI still prints the failures and exits non-zero after writing,
/// so an update run can never turn CI green by accident (assert-rs/snapbox#30).
public struct TranscriptUpdater {
  public init() {}

  /// The new text of `file`, from `result`, a run of that same file. Returns the text unchanged
  /// when every step passed or the run was skipped.
  public func rewrite(_ file: TranscriptFile, using result: TranscriptResult) -> String {
    var replacements: [Int: (last: Int, lines: [String])] = [:]
    let matcher = TranscriptMatcher()
    for run in result.steps where !run.passed {
      replacements[run.step.line] = (run.step.lastLine, block(run, matcher))
    }
    var out: [String] = []
    var number = 1
    while number <= file.sourceLines.count {
      if let replacement = replacements[number] {
        out += replacement.lines
        number = replacement.last + 1
      } else {
        out.append(file.sourceLines[number - 1])
        number += 1
      }
    }
    return out.joined(separator: "\n") + (file.endsWithNewline ? "\n" : "")
  }

  /// The new lines of one failing step, from its input line to its last output line.
  private func block(_ run: TranscriptStepRun, _ matcher: TranscriptMatcher) -> [String] {
    let step = run.step
    var lines: [String] = []
    let promptMatches = TranscriptNormalizer.trimRight(run.actualPrompt) == TranscriptNormalizer.trimRight(step.prompt)
    lines.append(
      "  " + (promptMatches ? step.input : TranscriptRunner.inputLine(prompt: run.actualPrompt, command: step.command)))
    let normalized = run.actual.map(TranscriptNormalizer.line)
    let ops = TranscriptAlignment.align(step.expected, normalized, run.bindingsBefore, matcher)
    for op in ops {
      switch op {
      case .matched(let i, _), .anyLines(let i, _), .skippedOptional(let i):
        lines.append(TranscriptRunner.indent(step.expected[i].text))
      case .removed:
        break
      case .added(let j):
        lines.append(TranscriptRunner.indent(Self.express(run.actual[j], run.bindingsAfter)))
      }
    }
    return lines
  }

  /// Writes an actual output line as an expected line that matches it: bound values become their
  /// captures, and anything the transcript syntax would misread is escaped with `{{re:}}`.
  ///
  /// A value shorter than 3 characters stays literal (a PID `1` or an exit status `0` would turn
  /// up everywhere), and a value only counts where it stands alone, not inside a longer word or
  /// number.
  static func express(_ actual: String, _ bindings: TranscriptBindings) -> String {
    let text = Array(actual.unicodeScalars).map { $0 == "\t" ? " " : $0 }
    var candidates: [(name: String, binding: TranscriptBindings.Binding, scalars: [Unicode.Scalar])] = []
    for name in bindings.names {
      guard let binding = bindings[name], binding.value.unicodeScalars.count >= 3 else { continue }
      candidates.append((name, binding, Array(binding.value.unicodeScalars)))
    }
    // Longer values first, so `10.0.0.12` is not taken for `10.0.0.1` plus `2`.
    candidates.sort { $0.scalars.count > $1.scalars.count }

    enum Piece {
      case literal([Unicode.Scalar])
      case token(String)
    }
    var pieces: [Piece] = []
    var literal: [Unicode.Scalar] = []
    var i = 0
    scan: while i < text.count {
      for candidate in candidates where startsValue(text, at: i, candidate.scalars) {
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        literal = []
        pieces.append(.token("{{\(candidate.binding.valueClass.rawValue):\(candidate.name)}}"))
        i += candidate.scalars.count
        continue scan
      }
      literal.append(text[i])
      i += 1
    }
    if !literal.isEmpty { pieces.append(.literal(literal)) }

    var out = ""
    for (index, piece) in pieces.enumerated() {
      switch piece {
      case .token(let token):
        out += token
      case .literal(let scalars):
        let nextStartsBrace: Bool
        if index + 1 < pieces.count, case .token = pieces[index + 1] {
          nextStartsBrace = true
        } else {
          nextStartsBrace = false
        }
        out += escapeLiteral(scalars, followedByBrace: nextStartsBrace)
      }
    }
    return escapeWholeLine(out)
  }

  /// Whether `value` occurs at `i` on its own: not preceded or followed by a letter, digit or `_`.
  private static func startsValue(_ text: [Unicode.Scalar], at i: Int, _ value: [Unicode.Scalar]) -> Bool {
    guard i + value.count <= text.count, Array(text[i..<(i + value.count)]) == value else { return false }
    func isWord(_ s: Unicode.Scalar) -> Bool {
      s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
    }
    if let first = value.first, isWord(first), i > 0, isWord(text[i - 1]) { return false }
    if let last = value.last, isWord(last), i + value.count < text.count, isWord(text[i + value.count]) { return false }
    return true
  }

  /// Literal text with the only special sequence, `{{`, made harmless: a `{` followed by another
  /// `{` becomes `{{re:\{}}`. Control characters become `{{re:\x{NN}}}`, since a transcript may
  /// not contain them (see `TranscriptSourceLines`).
  private static func escapeLiteral(_ scalars: [Unicode.Scalar], followedByBrace: Bool) -> String {
    var out = ""
    for (k, scalar) in scalars.enumerated() {
      let nextIsBrace = k + 1 < scalars.count ? scalars[k + 1] == "{" : followedByBrace
      if scalar == "{" && nextIsBrace {
        out += "{{re:\\{}}"
      } else if TranscriptSourceLines.isControl(scalar) {
        out += "{{re:\\x{\(String(scalar.value, radix: 16, uppercase: true))}}}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Whole-line forms the parser would read as something else: `...` (any lines), a ` (?)` suffix
  /// (optional line) and a leading `boxwalk>` or `boxwalk[` (an input line).
  private static func escapeWholeLine(_ line: String) -> String {
    let trimmed = TranscriptNormalizer.trimRight(line)
    if TranscriptPatternParser.isEllipsis(trimmed) { return trimmed.dropLast(3) + "{{re:\\.\\.\\.}}" }
    var out = trimmed
    if out.hasSuffix(" (?)") { out = String(out.dropLast(3)) + "{{re:\\(\\?\\)}}" }
    if out.hasPrefix("boxwalk>") || out.hasPrefix("boxwalk[") { out = "{{re:b}}" + out.dropFirst() }
    return out
  }
}
