import Kernel

/// Splits transcript text into lines, and refuses bytes that have no business in a text file.
///
/// Transcripts are UTF-8 with LF line ends (docs/transcripts.md). A checkout on Windows turns LF
/// into CRLF, which breaks naive golden tests over and over (aiiie/cram#9, mitsuhiko/insta#171), so
/// CRLF is accepted and read as LF. Anything else invisible is refused with its line and column: a
/// lone CR (a terminal would overwrite the start of the line with what follows it), NUL, escape
/// sequences pasted from a coloured terminal. These would make an expectation that no one can see
/// in an editor.
enum TranscriptSourceLines {
  struct Split {
    var lines: [String]
    var endsWithNewline: Bool
  }

  static func split(path: String, text: String) throws(TranscriptParseError) -> Split {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var line = 1
    var column = 1
    let scalars = Array(text.unicodeScalars)
    var index = 0
    // A byte order mark is an editor's way of saying "UTF-8"; it is not part of the first line.
    if scalars.first == "\u{FEFF}" { index = 1 }
    while index < scalars.count {
      let scalar = scalars[index]
      switch scalar {
      case "\n":
        lines.append(String(current))
        current = String.UnicodeScalarView()
        line += 1
        column = 1
      case "\r" where index + 1 < scalars.count && scalars[index + 1] == "\n":
        // CRLF: the LF (next iteration) ends the line.
        break
      case "\r":
        throw TranscriptParseError(
          path: path, line: line, column: column,
          message: "carriage return (\\r) not followed by a line feed",
          fix: "save the file with LF line endings; a lone CR hides the text before it on a terminal")
      case "\t":
        // Tabs are judged by the parser, which knows what kind of line this is.
        current.append(scalar)
        column += 1
      default:
        if isControl(scalar) {
          throw TranscriptParseError(
            path: path, line: line, column: column,
            message: "control character \(TranscriptParseError.escaped(scalar)) in a transcript",
            fix: "remove it; transcripts are plain UTF-8 text (write {{re:\\x{1B}}} to match an escape byte in output)")
        }
        current.append(scalar)
        column += 1
      }
      index += 1
    }
    let endsWithNewline = current.isEmpty && !lines.isEmpty
    if !current.isEmpty { lines.append(String(current)) }
    return Split(lines: lines, endsWithNewline: endsWithNewline)
  }

  /// What `TerminalText` keeps off the terminal (C0, DEL, C1, bidi and line separators), minus
  /// tab and LF, which are a text file's own.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar != "\t" && scalar != "\n" && TerminalText.isControl(scalar)
  }
}
