/// Characters that must never reach the learner's terminal as they are.
///
/// A name comes from whoever made it: a box's program can name a file or set a hostname to any
/// bytes, and an image or a transcript from someone else can hold anything. Three kinds of
/// characters in such a name change what the terminal shows around them instead of showing
/// themselves:
///
/// - the C0 controls, DEL and the C1 controls (U+0080..U+009F): ESC and CSI start escape
///   sequences that move the cursor, rewrite the title or recolour the screen (console_codes(4));
/// - the bidirectional formatting characters of Unicode (UAX #9): U+202A..U+202E (embeddings and
///   overrides), U+2066..U+2069 (isolates), U+200E, U+200F and U+061C (marks). U+202E, RIGHT-TO-LEFT
///   OVERRIDE, makes `evil\u{202E}txt.sh` display as `eviltxt.sh` reversed, so a name can read as
///   another (the "Trojan Source" trick, CVE-2021-42574);
/// - U+2028 and U+2029, LINE and PARAGRAPH SEPARATOR, which some terminals and browsers break a
///   line at, so one name could look like two lines of output.
///
/// boxwalk escapes every one of them wherever it prints a name (file names as `\xNN` bytes,
/// quoted values as `\uNNNN`), and a command line holding one is refused.
public enum TerminalText {
  public static func isControl(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x20 || v == 0x7f || (v >= 0x80 && v < 0xa0) { return true }
    return isLayoutControl(c)
  }

  /// The bidirectional formatting characters and the line and paragraph separators.
  public static func isLayoutControl(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x061c, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069, 0x2028, 0x2029: true
    default: false
    }
  }
}
