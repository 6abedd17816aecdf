/// Words for the shell lines boxwalk prints (`shell ...`, and a cgroup action's command): each
/// line can be pasted into a POSIX shell (bash for $'...') and does what the step did.
public enum ShellWord {
  /// Quotes a word for a POSIX shell when it needs it, scalar by scalar (a quote followed by a
  /// combining mark is still a quote). A word with control characters uses bash's $'...' quoting
  /// with \xNN escapes, so the printed line can be pasted and never drives the terminal.
  public static func quote(_ s: String) -> String {
    let safe =
      !s.isEmpty
      && s.unicodeScalars.allSatisfy {
        ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
          || "-_.,:/=@+".unicodeScalars.contains($0)
      }
    if safe { return s }
    let isControl = TerminalText.isControl
    if s.unicodeScalars.contains(where: isControl) {
      var out = "$'"
      for c in s.unicodeScalars {
        if isControl(c) {
          for byte in String(c).utf8 { out += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16) }
        } else if c == "'" || c == "\\" {
          out += "\\" + String(c)
        } else {
          out.unicodeScalars.append(c)
        }
      }
      return out + "'"
    }
    var out = "'"
    for c in s.unicodeScalars {
      if c == "'" { out += "'\\''" } else { out.unicodeScalars.append(c) }
    }
    return out + "'"
  }
}
