import Kernel

/// Splits a command line into words the way a POSIX shell does (sh(1), "Quoting"): single quotes
/// keep everything literally, double quotes allow `\"` `\\` `\$` and `` \` `` escapes, a backslash
/// outside quotes escapes the next character, and `#` at the start of a word begins a comment.
/// There is no expansion of any kind: `$HOME` and `*` stay as typed.
public enum WordSplitter {
  public struct Failure: Error, Equatable, Sendable {
    /// 1-based column of the offending character.
    public var column: Int
    public var reason: String
  }

  public static func split(_ line: String) throws(Failure) -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var column = 0
    var it = line.unicodeScalars.makeIterator()
    enum Quote { case none, single, double }
    var quote = Quote.none
    var quoteColumn = 0

    // NUL and control bytes never reach a command: they would be invisible in every echo, a NUL
    // would cut a name short at the C boundary (sethostname(2) takes a C string; "ok\0/../x" is
    // "ok" there), and ESC starts terminal escape sequences. A backslash does not make them
    // acceptable: `hostname \<ESC>` is refused like a bare ESC (control
    // characters and terminal escapes are never accepted input).
    func checked(_ c: Unicode.Scalar, _ column: Int) throws(Failure) -> Unicode.Scalar {
      if c != "\t" && TerminalText.isControl(c) {
        throw Failure(column: column, reason: "control byte \(escapeScalar(c)) is not allowed in a command")
      }
      return c
    }

    while let next = it.next() {
      column += 1
      let c = try checked(next, column)
      switch quote {
      case .single:
        if c == "'" { quote = .none } else { word.unicodeScalars.append(c) }
      case .double:
        if c == "\"" {
          quote = .none
        } else if c == "\\" {
          guard let escaped = it.next() else { throw Failure(column: column, reason: "a backslash ends the line") }
          column += 1
          let n = try checked(escaped, column)
          if n == "\"" || n == "\\" || n == "$" || n == "`" {
            word.unicodeScalars.append(n)
          } else {
            word.unicodeScalars.append(c)
            word.unicodeScalars.append(n)
          }
        } else {
          word.unicodeScalars.append(c)
        }
      case .none:
        if c == " " || c == "\t" {
          if inWord { words.append(word); word = ""; inWord = false }
        } else if c == "#" && !inWord {
          return words
        } else if c == "'" {
          quote = .single; quoteColumn = column; inWord = true
        } else if c == "\"" {
          quote = .double; quoteColumn = column; inWord = true
        } else if c == "\\" {
          guard let escaped = it.next() else { throw Failure(column: column, reason: "a backslash ends the line") }
          column += 1
          word.unicodeScalars.append(try checked(escaped, column)); inWord = true
        } else {
          word.unicodeScalars.append(c); inWord = true
        }
      }
    }
    if quote != .none {
      throw Failure(column: quoteColumn, reason: "the quote opened here is not closed")
    }
    if inWord { words.append(word) }
    return words
  }

  /// `\x07`-style escape for a control scalar, so error messages never carry raw control bytes.
  /// Past U+00FF (a bidirectional formatting character) it is `\u202e`, four digits, so it
  /// cannot be read as `\x20` followed by text.
  public static func escapeScalar(_ c: Unicode.Scalar) -> String {
    let hex = String(c.value, radix: 16)
    if c.value > 0xff { return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex }
    return "\\x" + (hex.count < 2 ? "0" + hex : hex)
  }
}

/// Text from a learner or a file, made safe to print: control bytes (ESC of ANSI/OSC sequences,
/// NUL, CR...) become `\xNN` and bidirectional formatting characters `\uNNNN` (TerminalText),
/// so nothing typed can drive the terminal or reorder a line.
public func escapedForTerminal(_ s: String) -> String {
  var out = ""
  for c in s.unicodeScalars {
    // Tab is harmless on a terminal (programs print tables with it); every other control is not.
    if c != "\t" && TerminalText.isControl(c) {
      out += WordSplitter.escapeScalar(c)
    } else {
      out.unicodeScalars.append(c)
    }
  }
  return out
}

/// A value from a learner or a file in double quotes for an error message, each control or
/// bidirectional formatting character escaped once (`"x\u001b[31m"`), as JSON writes it.
public func quotedForTerminal(_ s: String) -> String { JSON.quote(s) }
