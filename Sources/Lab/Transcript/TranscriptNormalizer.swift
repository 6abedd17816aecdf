/// Makes an output line comparable, the same way on both sides (SPEC §6): trailing whitespace is
/// ignored and runs of spaces count as one.
///
/// Editors strip trailing blanks and column widths change with the data (`ps` pads PIDs to the
/// widest one), so neither may fail a test (mitsuhiko/insta#88). Tabs count as spaces: a transcript
/// line cannot hold a tab, so output with tabs could otherwise never be matched literally.
enum TranscriptNormalizer {
  /// Collapses every run of spaces and tabs into one space and drops trailing whitespace (and a
  /// stray CR at the end, left by a program that writes CRLF).
  static func line(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    var pendingSpace = false
    for scalar in trimRight(text).unicodeScalars {
      if scalar == " " || scalar == "\t" {
        pendingSpace = true
        continue
      }
      if pendingSpace { out.append(" ") }
      pendingSpace = false
      out.append(scalar)
    }
    return String(out)
  }

  /// Collapses runs of spaces but keeps the trailing ones: for literal pieces of a pattern, where a
  /// space before a token is significant (`pid {{pid}}`).
  static func literal(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    var previousWasSpace = false
    for scalar in text.unicodeScalars {
      let isSpace = scalar == " "
      if !(isSpace && previousWasSpace) { out.append(scalar) }
      previousWasSpace = isSpace
    }
    return String(out)
  }

  /// Splits what a session printed into lines (a defensive split on LF, should an element hold
  /// several), strips trailing whitespace and drops trailing empty lines, which are never
  /// significant.
  static func output(_ printed: [String]) -> [String] {
    var lines: [String] = []
    for element in printed {
      // Split on scalars: in Swift, CR LF is a single Character that is not equal to "\n".
      for piece in element.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
        lines.append(trimRight(String(String.UnicodeScalarView(piece))))
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines
  }

  static func trimRight(_ text: String) -> String {
    var scalars = Array(text.unicodeScalars)
    while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
    return String(String.UnicodeScalarView(scalars))
  }
}
