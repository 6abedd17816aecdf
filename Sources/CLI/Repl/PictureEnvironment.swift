import Glibc
import Lab

extension PictureStyle {
  /// The style `draw` uses in this terminal. Box-drawing characters need a UTF-8 locale: the first
  /// of LC_ALL, LC_CTYPE and LANG that is set names it (locale(7)); without one, or with NO_COLOR
  /// (no-color.org), pictures are plain ASCII. The width is COLUMNS when set, else the terminal's
  /// (the TIOCGWINSZ ioctl, ioctl_tty(2)), else 80, so piped output does not depend on a window.
  /// Changed parts are highlighted with ANSI escapes only where the REPL uses colour at all.
  static func detect(terminal: Terminal) -> PictureStyle {
    func env(_ name: String) -> String? {
      guard let p = getenv(name), p.pointee != 0 else { return nil }
      return String(cString: p)
    }
    let locale = env("LC_ALL") ?? env("LC_CTYPE") ?? env("LANG") ?? "C"
    let lower = locale.lowercased()
    let utf8 = lower.contains("utf-8") || lower.contains("utf8")
    let charset: Charset = utf8 && env("NO_COLOR") == nil ? .unicode : .ascii
    var width = 80
    if let columns = env("COLUMNS").flatMap({ Int($0) }), columns > 0 {
      width = columns
    } else if isatty(STDOUT_FILENO) == 1 {
      var size = winsize()
      if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { width = Int(size.ws_col) }
    }
    return PictureStyle(charset: charset, width: width, ansi: terminal.colour)
  }
}
