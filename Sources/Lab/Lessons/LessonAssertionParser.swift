import Kernel

/// Reads one assertion line: `PATH OP VALUE`, optionally followed by `  ! message`.
///
/// Every error points at the column of the offending word, because an assertion that means
/// something other than what its author thinks is worse than none: it passes and proves nothing.
struct LessonAssertionParser {
  let path: String
  let line: Int
  /// Whether the line needs a message (check lines do: the learner reads it when it fails).
  let needsMessage: Bool

  /// `text` is the whole source line; assertions start at column 1 (blocks are not indented).
  func parse(_ text: String) throws(LessonParseError) -> LessonAssertion {
    let s = Array(text.unicodeScalars)
    var start = 0
    while start < s.count, s[start] == " " { start += 1 }
    let (bodyEnd, message) = try splitMessage(s, from: start)
    var end = bodyEnd
    while end > start, s[end - 1] == " " { end -= 1 }
    let body = Array(s[start..<end])
    let column = start + 1

    // PATH: up to the first space outside a quoted key (`web.mounts["/my dir"]` has one inside).
    var i = Self.firstUnquoted(body, from: 0) { body[$0] == " " }
    let pathText = String(String.UnicodeScalarView(body[..<i]))
    let statePath = try parsePath(pathText, column: column)

    // OP
    while i < body.count, body[i] == " " { i += 1 }
    let opStart = i
    while i < body.count, body[i] != " " { i += 1 }
    let opText = String(String.UnicodeScalarView(body[opStart..<i]))
    guard !opText.isEmpty else {
      throw error(
        column + opStart, "the assertion \(LessonParseError.quote(pathText)) has no operator",
        fix: "write PATH OP VALUE with OP one of " + Self.operatorList)
    }
    guard let op = LessonAssertion.Operator(rawValue: opText) else {
      let near = Nearest.match(opText, in: LessonAssertion.Operator.allCases.map(\.rawValue))
      throw error(
        column + opStart, "unknown operator \(LessonParseError.quote(opText))",
        fix: (near.map { "did you mean \($0)? " } ?? "") + "operators are " + Self.operatorList)
    }

    // VALUE
    while i < body.count, body[i] == " " { i += 1 }
    let valueStart = i
    var operand: LessonAssertion.Operand?
    if op.takesValue {
      guard valueStart < body.count else {
        throw error(
          column + opStart, "\(op.rawValue) needs a value after it",
          fix: "a quoted string, an integer, true, false, @start or @prev")
      }
      let (value, used) = try parseOperand(Array(body[valueStart...]), column: column + valueStart, op: op)
      operand = value
      i = valueStart + used
      while i < body.count, body[i] == " " { i += 1 }
      if i < body.count {
        throw error(
          column + i, "unexpected text after the value: \(LessonParseError.quote(rest(body, i)))",
          fix: "one assertion per line; a message for the learner goes after two spaces and !: \"  ! message\"")
      }
    } else if valueStart < body.count {
      throw error(
        column + valueStart, "\(op.rawValue) takes no value, got \(LessonParseError.quote(rest(body, valueStart)))",
        fix: "write PATH \(op.rawValue)")
    }
    if needsMessage, message == nil {
      throw error(
        column + body.count, "a check needs a message for the learner",
        fix: "end the line with two spaces, ! and what to do: \"  ! web still shares the host's UTS namespace\"")
    }
    return LessonAssertion(
      line: line, column: column, text: String(String.UnicodeScalarView(body)), path: statePath, op: op,
      operand: operand, message: message)
  }

  static let operatorList = LessonAssertion.Operator.allCases.map(\.rawValue).joined(separator: " ")

  /// Finds `  ! message`: a `!` outside quotes, after a space and followed by a space or the end
  /// (so `!=` is never mistaken for it). Returns where the assertion ends and the message.
  private func splitMessage(_ s: [Unicode.Scalar], from start: Int) throws(LessonParseError) -> (Int, String?) {
    let i = Self.firstUnquoted(s, from: start) { i in
      s[i] == "!" && i > start && s[i - 1] == " " && (i + 1 == s.count || s[i + 1] == " ")
    }
    guard i < s.count else { return (s.count, nil) }
    var m = i + 1
    while m < s.count, s[m] == " " { m += 1 }
    var e = s.count
    while e > m, s[e - 1] == " " { e -= 1 }
    guard m < e else {
      throw error(i + 1, "the message after ! is empty", fix: "say what the learner should do, or remove the !")
    }
    return (i, String(String.UnicodeScalarView(s[m..<e])))
  }

  /// The first index at or after `start` where `stop` holds, skipping everything inside double
  /// quotes (where a backslash escapes the next character); `s.count` if there is none.
  private static func firstUnquoted(_ s: [Unicode.Scalar], from start: Int, where stop: (Int) -> Bool) -> Int {
    var inQuotes = false
    var i = start
    while i < s.count {
      let c = s[i]
      if inQuotes {
        if c == "\\" {
          i += 1
        } else if c == "\"" {
          inQuotes = false
        }
      } else if c == "\"" {
        inQuotes = true
      } else if stop(i) {
        return i
      }
      i += 1
    }
    return s.count
  }

  private func parsePath(_ text: String, column: Int) throws(LessonParseError) -> StatePath {
    do {
      return try StatePath.parse(text)
    } catch {
      throw self.error(
        column + error.column - 1, "bad state path \(LessonParseError.quote(text)): \(error.reason)",
        fix: "paths look like web.hostname, web.ns.uts or web.mounts[\"/proc\"].fstype (docs/state-paths.md)")
    }
  }

  /// A value and how many scalars it used.
  private func parseOperand(_ s: [Unicode.Scalar], column: Int, op: LessonAssertion.Operator)
    throws(LessonParseError) -> (LessonAssertion.Operand, Int)
  {
    if s[0] == "{" {
      guard op == .contains else {
        throw error(
          column, "fields in {} go only after contains",
          fix: "write LIST contains {FIELD: VALUE, ...}: some element of the list has those fields")
      }
      let (fields, used) = try parseFields(s, column: column)
      return (.fields(fields), used)
    }
    if s[0] == "\"" {
      let (text, used) = try parseString(s, column: column)
      if op == .matches {
        do {
          _ = try Regex(text)
        } catch {
          throw self.error(
            column, "bad regex \(LessonParseError.quote(text)) for matches",
            fix: "write a Swift regex in a JSON string, with backslashes doubled: \"uts:[0-9]+\"")
        }
      }
      return (.literal(.string(text)), used)
    }
    if op == .matches {
      throw error(column, "matches needs a quoted regex", fix: "write PATH matches \"REGEX\"")
    }
    var end = 0
    while end < s.count, s[end] != " " { end += 1 }
    let word = String(String.UnicodeScalarView(s[..<end]))
    if word == "true" || word == "false" { return (.literal(.bool(word == "true")), end) }
    if let n = Int(word), word.first != "+" { return (.literal(.int(n)), end) }
    for (name, isStart) in [("@start", true), ("@prev", false)] where word.hasPrefix(name) {
      let after = String(word.dropFirst(name.count))
      if after.isEmpty { return (isStart ? .start(nil) : .previous(nil), end) }
      guard after.hasPrefix("("), after.hasSuffix(")"), after.count > 2 else {
        throw error(
          column, "bad reference \(LessonParseError.quote(word))",
          fix: "\(name) alone means the same path; \(name)(PATH) means another path, e.g. \(name)(host.hostname)")
      }
      let inner = String(after.dropFirst().dropLast())
      let p = try parsePath(inner, column: column + name.count + 1)
      return (isStart ? .start(p) : .previous(p), end)
    }
    throw error(
      column, "bad value \(LessonParseError.quote(word))",
      fix: "a value is a quoted string (\"lab-box\"), an integer, true, false, @start or @prev")
  }

  /// `{cmd: "sleep 700", ppid: 1}`, as `show` prints a map: each field a key (bare as in a state
  /// path, or a quoted string), a colon and a value (a quoted string, an integer, true or false),
  /// fields separated by commas. Returns the fields and how many scalars they used.
  private func parseFields(_ s: [Unicode.Scalar], column: Int) throws(LessonParseError) -> (StateMap, Int) {
    let example = "{cmd: \"sleep 700\", ppid: 1}"
    var fields = StateMap()
    var i = 1
    func skipSpaces() { while i < s.count, s[i] == " " { i += 1 } }
    while true {
      skipSpaces()
      if fields.isEmpty, i < s.count, s[i] == "}" {
        throw error(column, "{} names no field, so any element would do", fix: "name the fields to match: \(example)")
      }
      let keyStart = i
      var key = ""
      if i < s.count, s[i] == "\"" {
        let (text, used) = try parseString(Array(s[i...]), column: column + i)
        key = text
        i += used
      } else {
        while i < s.count, StatePath.isBareScalar(s[i]) { i += 1 }
        key = String(String.UnicodeScalarView(s[keyStart..<i]))
      }
      guard !key.isEmpty else {
        throw error(column + keyStart, "a field needs a name", fix: "write FIELD: VALUE, as in \(example)")
      }
      guard fields[key] == nil else {
        throw error(
          column + keyStart, "the field \(LessonParseError.quote(key)) is named twice", fix: "name each field once")
      }
      skipSpaces()
      guard i < s.count, s[i] == ":" else {
        throw error(
          column + i, "the field \(LessonParseError.quote(key)) needs a colon and a value", fix: "write \(example)")
      }
      i += 1
      skipSpaces()
      let valueStart = i
      if i < s.count, s[i] == "\"" {
        let (text, used) = try parseString(Array(s[i...]), column: column + i)
        fields[key] = .string(text)
        i += used
      } else {
        while i < s.count, s[i] != " ", s[i] != ",", s[i] != "}" { i += 1 }
        let word = String(String.UnicodeScalarView(s[valueStart..<i]))
        if word == "true" || word == "false" {
          fields[key] = .bool(word == "true")
        } else if let n = Int(word), word.first != "+" {
          fields[key] = .int(n)
        } else {
          throw error(
            column + valueStart,
            "bad value \(LessonParseError.quote(word)) for the field \(LessonParseError.quote(key))",
            fix: "a field's value is a quoted string, an integer, true or false")
        }
      }
      skipSpaces()
      guard i < s.count else {
        throw error(column, "the fields are not closed with }", fix: "end them with }: \(example)")
      }
      if s[i] == "}" { return (fields, i + 1) }
      guard s[i] == "," else {
        throw error(
          column + i, "expected , or } after the value of \(LessonParseError.quote(key))", fix: "write \(example)")
      }
      i += 1
    }
  }

  /// A JSON string literal (RFC 8259 §7), the same quoting `show` prints.
  private func parseString(_ s: [Unicode.Scalar], column: Int) throws(LessonParseError) -> (String, Int) {
    var out = String.UnicodeScalarView()
    var i = 1
    while i < s.count {
      let c = s[i]
      if c == "\"" { return (String(out), i + 1) }
      if c == "\\" {
        guard i + 1 < s.count else { break }
        let e = s[i + 1]
        switch e {
        case "\"", "\\", "/": out.append(e)
        case "n": out.append("\n")
        case "t": out.append("\t")
        case "u":
          let hex = s.count >= i + 6 ? String(String.UnicodeScalarView(s[(i + 2)..<(i + 6)])) : ""
          guard hex.count == 4, let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
            throw error(column + i, "bad \\u escape in a string", fix: "write \\u and four hex digits, e.g. \\u00e9")
          }
          out.append(scalar)
          i += 4
        default:
          throw error(
            column + i, "unknown escape \\\(e) in a string", fix: "escapes are \\\" \\\\ \\/ \\n \\t and \\uXXXX")
        }
        i += 2
        continue
      }
      out.append(c)
      i += 1
    }
    throw error(column, "a string is not closed with \"", fix: "end the string with a double quote")
  }

  private func rest(_ s: [Unicode.Scalar], _ from: Int) -> String {
    String(String.UnicodeScalarView(s[from...]))
  }

  private func error(_ column: Int, _ message: String, fix: String) -> LessonParseError {
    LessonParseError(path: path, line: line, column: column, message: message, fix: fix)
  }
}
