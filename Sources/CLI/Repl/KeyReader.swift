import Glibc

/// The keys a demo waits for (`boxwalk replay --pause`), and the terminal mode it holds meanwhile.
protocol DemoKeys {
  /// Whether anybody can press a key; when not, the demo never waits.
  var enabled: Bool { get }
  /// Takes the terminal for the demo (see `KeyReader.hold`).
  func hold()
  /// Gives the terminal back, as it was before `hold`.
  func release()
  /// The next key that means something to the demo.
  func wait() -> DemoKey
}

enum DemoKey {
  /// Enter or space: run the command, or go on after `#pause`.
  case go
  /// s: do not show this command (it still runs quietly).
  case skip
  /// l: a live prompt at the demo's current state, until `resume`.
  case live
  /// q, Ctrl-C, Ctrl-D: end the demo, with teardown.
  case quit
}

/// Single key presses for `boxwalk replay` from a terminal.
///
/// For the whole demo the terminal is in non-canonical mode without echo (termios(3)): a key
/// counts without Enter, and nothing the presenter presses is echoed over the demo. If the mode
/// were set only while waiting, an Enter pressed while a command is still being typed would be
/// echoed by the terminal driver in the middle of the line and split it. ISIG is off too, so
/// Ctrl-C arrives as a byte (0x03) and ends the demo through teardown. When the input is not a
/// terminal there is nobody to press a key: the demo never waits.
final class KeyReader: DemoKeys {
  let fd: Int32
  let enabled: Bool
  private var saved: termios?

  init(fd: Int32, enabled: Bool) {
    self.fd = fd
    self.enabled = enabled
  }

  static func detect() -> KeyReader { KeyReader(fd: STDIN_FILENO, enabled: isatty(STDIN_FILENO) == 1) }

  func hold() {
    guard enabled, saved == nil else { return }
    var mode = termios()
    guard tcgetattr(fd, &mode) == 0 else { return }
    saved = mode
    mode.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
    withUnsafeMutableBytes(of: &mode.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    tcsetattr(fd, TCSANOW, &mode)
  }

  func release() {
    guard var mode = saved else { return }
    // TCSADRAIN: output already written (the demo's text) goes out in the mode it was written in.
    tcsetattr(fd, TCSADRAIN, &mode)
    saved = nil
  }

  func wait() -> DemoKey {
    guard enabled else { return .go }
    while true {
      var byte: UInt8 = 0
      let n = read(fd, &byte, 1)
      if n < 0, errno == EINTR {
        if replayInterrupted != 0 { return .quit }
        continue
      }
      guard n == 1 else { return .quit }
      switch byte {
      case UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "): return .go
      case UInt8(ascii: "s"), UInt8(ascii: "S"): return .skip
      case UInt8(ascii: "l"), UInt8(ascii: "L"): return .live
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
