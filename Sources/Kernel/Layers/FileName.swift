/// File names as boxwalk prints them and uses them in state paths.
///
/// To the kernel a file name is any bytes but "/" and NUL (path_resolution(7)); it need not be
/// UTF-8, and a box can create any of them (`touch "$(printf 'a\377b')"`). Decoding such a name
/// as UTF-8 would replace the odd bytes with U+FFFD: the name shown would then reach no file, and
/// two different names could show alike. So a name is escaped much as `ls -b` does it, one-to-one:
/// a byte that is not part of valid UTF-8, every control byte, and the bytes of a C1 control or a
/// bidirectional formatting character (TerminalText), is written `\xNN` (two lowercase hex
/// digits). A backslash is doubled only where it would otherwise read as the start
/// of an escape (before another backslash, or before `x` and two hex digits), so every name that
/// is plain text, the ones a learner types, is shown exactly as typed, on every backend.
public enum FileName {
  public static func escaped(_ bytes: some Collection<UInt8>) -> String {
    // First each byte or UTF-8 sequence as text, a literal backslash left as nil; then each
    // backslash doubled where the text after it would otherwise read as an escape.
    let b = Array(bytes)
    var units: [String?] = []
    var i = 0
    while i < b.count {
      let c = b[i]
      if c == UInt8(ascii: "\\") {
        units.append(nil)
        i += 1
      } else if c < 0x20 || c == 0x7f {
        units.append(hex(c))
        i += 1
      } else if c < 0x80 {
        units.append(String(Unicode.Scalar(c)))
        i += 1
      } else if let (text, length) = scalar(b, at: i) {
        // A C1 control or a bidirectional formatting character (TerminalText) is valid UTF-8
        // but would drive the terminal or reorder the line: its bytes are escaped.
        if let s = text.unicodeScalars.first, TerminalText.isControl(s) {
          units += b[i..<(i + length)].map(hex)
        } else {
          units.append(text)
        }
        i += length
      } else {
        units.append(hex(c))
        i += 1
      }
    }
    var out = ""
    for (k, unit) in units.enumerated() {
      if let unit {
        out += unit
      } else {
        let after = units[(k + 1)...].prefix(3).map { $0 ?? "\\" }.joined()
        out += startsEscape(Array(after.utf8), at: 0) ? "\\\\" : "\\"
      }
    }
    return out
  }

  /// The bytes an escaped name stands for: the inverse of `escaped` (a backslash not followed by
  /// `\` or `xNN` stands for itself).
  ///
  /// `escaped(bytes(text))` is the one spelling of a name boxwalk uses in paths and state.
  public static func bytes(_ escaped: String) -> [UInt8] {
    let u = Array(escaped.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < u.count {
      if u[i] == UInt8(ascii: "\\"), i + 1 < u.count {
        if u[i + 1] == UInt8(ascii: "\\") {
          out.append(u[i])
          i += 2
          continue
        }
        if u[i + 1] == UInt8(ascii: "x"), i + 3 < u.count, isHex(u[i + 2]), isHex(u[i + 3]),
          let v = UInt8(String(decoding: u[(i + 2)...(i + 3)], as: UTF8.self), radix: 16)
        {
          out.append(v)
          i += 4
          continue
        }
      }
      out.append(u[i])
      i += 1
    }
    return out
  }

  /// Whether the bytes at `i` would make a preceding backslash read as an escape: a backslash,
  /// or `x` and two hex digits.
  private static func startsEscape(_ b: [UInt8], at i: Int) -> Bool {
    guard i < b.count else { return false }
    if b[i] == UInt8(ascii: "\\") { return true }
    return b[i] == UInt8(ascii: "x") && i + 2 < b.count && isHex(b[i + 1]) && isHex(b[i + 2])
  }

  private static func isHex(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
      || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
  }

  private static func hex(_ c: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return "\\x" + String(digits[Int(c >> 4)]) + String(digits[Int(c & 0xf)])
  }

  /// One valid multi-byte UTF-8 sequence at `i` (no overlong form, no surrogate), and its length.
  private static func scalar(_ b: [UInt8], at i: Int) -> (String, Int)? {
    let lead = b[i]
    let length =
      lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0
    guard length > 0, i + length <= b.count else { return nil }
    guard let text = String(validating: b[i..<(i + length)], as: UTF8.self) else { return nil }
    return (text, length)
  }
}
