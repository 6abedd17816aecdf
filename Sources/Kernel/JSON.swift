/// Just enough JSON for boxwalk's output: quoting strings the way `state --json` prints them and
/// encoding state values. Kept here (not Foundation's JSONEncoder) so the pure modules stay light
/// and the key order is the tree's order.
public enum JSON {
  /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control bytes escaped.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      // C0 controls, DEL and the C1 controls (U+0080..U+009F, which some terminals read as
      // escape sequences): escaped, so no value can drive the learner's terminal.
      // The bidirectional formatting characters and line separators (TerminalText) too: they
      // would reorder or break what is printed around the value.
      case _ where TerminalText.isControl(scalar):
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// Compact JSON for a state value; volatile values are included as plain values.
  public static func encode(_ value: StateValue) -> String {
    var out = ""
    write(value, into: &out)
    return out
  }

  private static func write(_ value: StateValue, into out: inout String) {
    switch value {
    case .string(let s): out += quote(s)
    case .int(let i): out += String(i)
    case .bool(let b): out += b ? "true" : "false"
    case .volatile(let v): write(v, into: &out)
    case .list(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        write(item, into: &out)
      }
      out += "]"
    case .map(let m):
      out += "{"
      for (i, (k, v)) in m.entries.enumerated() {
        if i > 0 { out += "," }
        out += quote(k) + ":"
        write(v, into: &out)
      }
      out += "}"
    }
  }
}
