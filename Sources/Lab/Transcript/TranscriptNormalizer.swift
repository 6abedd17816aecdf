/// Makes an output line comparable, the same way on both sides (docs/transcripts.md): trailing
/// whitespace is ignored and runs of spaces count as one.
///
/// Editors strip trailing blanks and column widths change with the data (`ps` pads PIDs to the
/// widest one), so neither may fail a test (mitsuhiko/insta#88). Tabs count as spaces: a transcript
/// line cannot hold a tab, so output with tabs could otherwise never be matched literally.
enum TranscriptNormalizer {
  /// Collapses every run of spaces and tabs into one space and drops trailing whitespace (and a
  /// stray CR at the end, left by a program that writes CRLF).
  static func line(_ text: String) -> String {
    let trimmed = trimRight(text)
    // Most lines have nothing to collapse; rebuilding them scalar by scalar was a fifth of a
    // transcript replay on sim.
    guard hasRun(trimmed.utf8, ofTabs: true) else { return trimmed }
    return collapse(trimmed.utf8, tabs: true)
  }

  /// Collapses runs of spaces but keeps the trailing ones: for literal pieces of a pattern, where a
  /// space before a token is significant (`pid {{pid}}`).
  static func literal(_ text: String) -> String {
    guard hasRun(text.utf8, ofTabs: false) else { return text }
    return collapse(text.utf8, tabs: false)
  }

  /// Every run of spaces (and tabs, with `tabs`) becomes one space. Done on UTF-8 bytes: space
  /// and tab are ASCII, and no byte of a multi-byte character is below 0x80.
  private static func collapse(_ text: String.UTF8View, tabs: Bool) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var previousWasSpace = false
    for byte in text {
      let isSpace = byte == UInt8(ascii: " ") || (tabs && byte == UInt8(ascii: "\t"))
      if !isSpace {
        out.append(byte)
      } else if !previousWasSpace {
        out.append(UInt8(ascii: " "))
      }
      previousWasSpace = isSpace
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Splits what a session printed into lines (a defensive split on LF, should an element hold
  /// several), strips trailing whitespace and drops trailing empty lines, which are never
  /// significant.
  static func output(_ printed: [String]) -> [String] {
    var lines: [String] = []
    for element in printed {
      guard element.utf8.contains(UInt8(ascii: "\n")) else {
        lines.append(trimRight(element))
        continue
      }
      // Split on scalars: in Swift, CR LF is a single Character that is not equal to "\n".
      for piece in element.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
        lines.append(trimRight(String(String.UnicodeScalarView(piece))))
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines
  }

  static func trimRight(_ text: String) -> String {
    let scalars = text.unicodeScalars
    var end = scalars.endIndex
    while end > scalars.startIndex {
      let last = scalars.index(before: end)
      guard scalars[last] == " " || scalars[last] == "\t" || scalars[last] == "\r" else { break }
      end = last
    }
    return end == scalars.endIndex ? text : String(scalars[..<end])
  }

  /// Whether `text` has something to collapse: two spaces in a row, or (with `ofTabs`) a tab.
  static func hasRun(_ text: String.UTF8View, ofTabs: Bool) -> Bool {
    var previousWasSpace = false
    for byte in text {
      if ofTabs && byte == UInt8(ascii: "\t") { return true }
      let isSpace = byte == UInt8(ascii: " ")
      if isSpace && previousWasSpace { return true }
      previousWasSpace = isSpace
    }
    return false
  }
}
