import Kernel

/// Why a transcript could not be parsed, and where (docs/architecture.md, "Errors"):
/// `path:line:col`, the rule that was broken with the offending text quoted, and how to fix it.
///
/// A bad transcript is bad input, not a failing test: the CLI prints this and exits 2, and no
/// step of the file runs. Guessing what the author meant would let a typo (`#requre root`) turn a
/// test that should skip into one that silently runs.
public struct TranscriptParseError: Error, Equatable, Sendable, CustomStringConvertible {
  public let path: String
  /// 1-based line number.
  public let line: Int
  /// 1-based column, counted in Unicode scalars (a tab counts as one column).
  public let column: Int
  /// One line naming the rule, with the offending text quoted and control bytes escaped.
  public let message: String
  /// How to fix it, when there is something useful to say.
  public let fix: String?

  public init(path: String, line: Int, column: Int, message: String, fix: String? = nil) {
    self.path = path
    self.line = line
    self.column = column
    self.message = message
    self.fix = fix
  }

  /// `path:line:col: message`, then `  fix: ...` on a second line when there is a fix.
  public var description: String {
    // The path too is shown escaped: a file name may hold any byte but "/" and NUL, and a lesson
    // pack could name a file with an escape sequence in it (terminal escapes are refused input).
    let head = "\(Self.visible(path)):\(line):\(column): \(message)"
    guard let fix else { return head }
    return head + "\n  fix: " + fix
  }

  /// Quotes text for a message: in double quotes, with control characters as `\xNN` so an
  /// invisible byte in the file becomes visible on the terminal.
  static func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      if TerminalText.isControl(scalar) {
        out += escaped(scalar)
      } else if scalar == "\"" || scalar == "\\" {
        out += "\\" + String(scalar)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// Text as it is, but with every control character (C0, DEL, C1, bidi) escaped: for names shown
  /// unquoted, such as paths at the start of a message.
  public static func visible(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: TerminalText.isControl) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if TerminalText.isControl(scalar) { out += escaped(scalar) } else { out.unicodeScalars.append(scalar) }
    }
    return out
  }

  /// `\xNN` for a control byte, `\u{NNNN}` for a layout character above U+00FF.
  static func escaped(_ scalar: Unicode.Scalar) -> String {
    scalar.value < 0x100
      ? "\\x" + hex2(scalar.value) : "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
  }

  static func hex2(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return digits.count < 2 ? "0" + digits : digits
  }
}
