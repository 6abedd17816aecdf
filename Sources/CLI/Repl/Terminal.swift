import Glibc

/// Writes the REPL's output. Every step's output is flushed at once, so another program can drive
/// the REPL through pipes (README.md, "Command line"). Colour only on a terminal, never with
/// NO_COLOR or TERM=dumb (no-color.org), and never inside text the learner or a file supplied.
public struct Terminal: Sendable {
  public let colour: Bool

  public init(colour: Bool) { self.colour = colour }

  public static func detect() -> Terminal {
    let tty = isatty(STDOUT_FILENO) == 1
    let noColour = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
    let dumb = getenv("TERM").map { String(cString: $0) == "dumb" } ?? true
    return Terminal(colour: tty && !noColour && !dumb)
  }

  /// Prints lines and flushes them. Returns false when standard output is gone (EPIPE: the
  /// reader of a pipe exited), so the REPL can tear down instead of being killed by SIGPIPE.
  @discardableResult
  public func write(_ lines: [String]) -> Bool {
    for line in lines { print(style(line)) }
    return fflush(nil) == 0
  }

  public func writeRaw(_ text: String) {
    print(text, terminator: "")
    fflush(nil)
  }

  /// Dims the syscall and shell labels and reddens `error:`, only at the start of a line.
  func style(_ line: String) -> String {
    guard colour else { return line }
    if line.hasPrefix("error:") { return "\u{1B}[1;31merror:\u{1B}[0m" + line.dropFirst(6) }
    for label in ["  syscall  ", "  boxwalk  ", "  shell    "] where line.hasPrefix(label) {
      return "\u{1B}[2m" + label + "\u{1B}[0m" + line.dropFirst(label.count)
    }
    return line
  }
}

/// Writes to standard error directly with write(2), unbuffered.
func writeStandardError(_ text: String) {
  var bytes = Array(text.utf8)
  _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
