import Glibc

/// Single key presses for `boxwalk replay`: Enter (or space) goes on, s skips, q quits.
///
/// The terminal is put in non-canonical mode without echo for the one read (termios(3)), so a
/// key counts without Enter and nothing is echoed over the demo, then restored at once. ISIG is
/// off too, so Ctrl-C arrives as a byte (0x03) and ends the demo through teardown. When standard
/// input is not a terminal there is nobody to press a key: the demo never waits.
struct KeyReader {
  enum Key {
    case go
    case skip
    case quit
  }

  let enabled: Bool

  static func detect() -> KeyReader { KeyReader(enabled: isatty(STDIN_FILENO) == 1) }

  func wait() -> Key {
    guard enabled else { return .go }
    var saved = termios()
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return .go }
    var raw = saved
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
    while true {
      var byte: UInt8 = 0
      let n = read(STDIN_FILENO, &byte, 1)
      if n < 0, errno == EINTR {
        if replayInterrupted != 0 { return .quit }
        continue
      }
      guard n == 1 else { return .quit }
      switch byte {
      case UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "): return .go
      case UInt8(ascii: "s"), UInt8(ascii: "S"): return .skip
      case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03, 0x04: return .quit
      default: continue
      }
    }
  }
}

/// Set by SIGINT during a replay; the player stops at the next character or command and tears
/// the lab down. A store to a word-sized global is async-signal-safe.
nonisolated(unsafe) var replayInterrupted: Int32 = 0

/// Ctrl-C while a command is being typed ends the demo through teardown instead of killing it.
func installReplayInterruptHandler() {
  var action = sigaction()
  action.__sigaction_handler.sa_handler = { _ in replayInterrupted = 1 }
  sigemptyset(&action.sa_mask)
  action.sa_flags = 0
  sigaction(SIGINT, &action, nil)
}
