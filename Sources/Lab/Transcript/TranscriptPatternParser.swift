import Kernel

/// Reads one expected output line into literal text and `{{...}}` tokens (docs/transcripts.md).
///
/// Everything outside `{{` `}}` is literal, so output full of regex metacharacters (`[1]`, `*`,
/// `(?)`, JSON braces) can be pasted in as it is; only `{{` is special. A token is one of
/// `{{*}}`, `{{class}}`, `{{class:NAME}}` or `{{re:REGEX}}`.
///
/// A regex may itself contain braces (`a{2}`): inside `{{re:` the token ends at the first `}}` where
/// the regex's own unescaped braces are balanced, so `{{re:[0-9]{4}}}` is the regex `[0-9]{4}`.
struct TranscriptPatternParser {
  /// A capture name used by the line, with the column of its token (for consistency errors).
  struct Capture {
    var name: String
    var valueClass: TranscriptClass
    var column: Int
  }

  struct Result {
    var kind: TranscriptExpectedLine.Kind
    var captures: [Capture]
  }

  let path: String
  let line: Int
  /// The column of the first character of `text` in the file (3, after the two-space indent).
  let firstColumn: Int

  func parse(_ text: String) throws(TranscriptParseError) -> Result {
    // `...` may be indented like the output around it (`    ...` under an indented table): runs
    // of spaces count as one anyway, and a lone literal `...` line is rare (write {{re:\.\.\.}}).
    if Self.isEllipsis(text) { return Result(kind: .anyLines, captures: []) }
    var body = text
    var optional = false
    if body.hasSuffix(" (?)") {
      optional = true
      body = String(body.dropLast(4))
      while body.last == " " { body.removeLast() }
      // `... (?)` says nothing more than `...`, which already allows zero lines.
      if Self.isEllipsis(body) { return Result(kind: .anyLines, captures: []) }
    }
    let (parts, captures) = try parseParts(Array(body.unicodeScalars))
    return Result(kind: .pattern(parts, optional: optional), captures: captures)
  }

  private func parseParts(_ s: [Unicode.Scalar]) throws(TranscriptParseError) -> ([TranscriptPatternPart], [Capture]) {
    var parts: [TranscriptPatternPart] = []
    var captures: [Capture] = []
    var literal = String.UnicodeScalarView()
    var i = 0
    while i < s.count {
      guard s[i] == "{", i + 1 < s.count, s[i + 1] == "{" else {
        literal.append(s[i])
        i += 1
        continue
      }
      if !literal.isEmpty {
        parts.append(.literal(String(literal)))
        literal = String.UnicodeScalarView()
      }
      let start = i
      let contentStart = i + 2
      let isRegex = hasPrefix(s, at: contentStart, "re:")
      guard let end = tokenEnd(s, from: isRegex ? contentStart + 3 : contentStart, regex: isRegex) else {
        throw error(
          at: start, "unterminated token: \"{{\" without a closing \"}}\"",
          fix: "close the token, or write {{re:\\{\\{}} to match a literal \"{{\"")
      }
      let content = String(String.UnicodeScalarView(s[contentStart..<end]))
      let token = try parseToken(content, at: start)
      if case .value(let valueClass, let name?) = token {
        captures.append(Capture(name: name, valueClass: valueClass, column: firstColumn + start))
      }
      parts.append(.token(token))
      i = end + 2
    }
    if !literal.isEmpty { parts.append(.literal(String(literal))) }
    return (parts, captures)
  }

  /// The index of the `}}` closing a token whose content starts at `from`.
  private func tokenEnd(_ s: [Unicode.Scalar], from: Int, regex: Bool) -> Int? {
    var depth = 0
    var i = from
    while i < s.count {
      if regex && s[i] == "\\" {
        i += 2  // an escaped character, `\{` or `\}` included, never opens or closes anything
        continue
      }
      if depth == 0, s[i] == "}", i + 1 < s.count, s[i + 1] == "}" { return i }
      if regex && s[i] == "{" { depth += 1 }
      if regex && s[i] == "}" { depth = max(0, depth - 1) }
      i += 1
    }
    return nil
  }

  private func parseToken(_ content: String, at start: Int) throws(TranscriptParseError) -> TranscriptToken {
    if content == "*" { return .anyText }
    if content.hasPrefix("re:") {
      let source = String(content.dropFirst(3))
      if source.isEmpty {
        throw error(at: start, "empty regex in \"{{re:}}\"", fix: "write a regex after \"re:\", or use {{*}}")
      }
      do {
        _ = try Regex(source)
      } catch {
        throw self.error(
          at: start, "invalid regex \(TranscriptParseError.quote(source)): \(error)",
          fix: "Swift Regex syntax (like PCRE); escape literal characters with a backslash")
      }
      return .regex(source)
    }
    let pieces = content.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let className = String(pieces[0])
    guard let valueClass = TranscriptClass(rawValue: className) else {
      let near = Nearest.match(className, in: TranscriptClass.names).map { "did you mean \($0)? " } ?? ""
      throw error(
        at: start, "unknown class \(TranscriptParseError.quote(className)) in \"{{\(content)}}\"",
        fix: near + "classes are " + TranscriptClass.names.joined(separator: " ") + "; or use {{*}} or {{re:REGEX}}")
    }
    guard pieces.count == 2 else { return .value(valueClass, name: nil) }
    let name = String(pieces[1])
    guard Self.isCaptureName(name) else {
      throw error(
        at: start, "bad capture name \(TranscriptParseError.quote(name)) in \"{{\(content)}}\"",
        fix: "a capture name is letters, digits and underscores, such as {{\(className):HOST_UTS}}")
    }
    return .value(valueClass, name: name)
  }

  /// `...` alone on the line, after any number of spaces.
  static func isEllipsis(_ text: String) -> Bool {
    text.drop(while: { $0 == " " }) == "..."
  }

  /// `[A-Za-z0-9_]+`: safe inside a regex group name and easy to read in a bindings line.
  static func isCaptureName(_ name: String) -> Bool {
    !name.isEmpty
      && name.unicodeScalars.allSatisfy {
        $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
      }
  }

  private func hasPrefix(_ s: [Unicode.Scalar], at i: Int, _ prefix: String) -> Bool {
    let p = Array(prefix.unicodeScalars)
    return i + p.count <= s.count && Array(s[i..<(i + p.count)]) == p
  }

  private func error(at index: Int, _ message: String, fix: String? = nil) -> TranscriptParseError {
    TranscriptParseError(path: path, line: line, column: firstColumn + index, message: message, fix: fix)
  }
}
