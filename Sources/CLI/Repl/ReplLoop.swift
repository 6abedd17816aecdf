import Lab

/// The read-eval-print loop: reads a line, runs it in the session, prints what it printed.
/// When input is not a terminal, each command is echoed after its prompt first, so a piped
/// session reads like a transcript (README.md, "Command line").
public struct ReplLoop {
  let session: any ReplSession
  let reader: any LineReader
  let terminal: Terminal

  public init(session: any ReplSession, reader: any LineReader, terminal: Terminal) {
    self.session = session
    self.reader = reader
    self.terminal = terminal
  }

  /// Runs until end of input or `quit`; returns the exit status (README.md, "Command line"): 0, or
  /// 1 when a piped session had a failing command.
  public func run() -> Int32 {
    while !session.quitRequested {
      let prompt = session.prompt
      guard let line = reader.readLine(prompt: prompt) else {
        if reader.isInteractive { terminal.writeRaw("\n") }
        break
      }
      reader.remember(line)
      if !reader.isInteractive && !session.jsonMode {
        terminal.write([prompt + escapedForTerminal(line)])
      }
      // Nobody is reading any more (a closed pipe): stop, and let the caller tear down.
      guard terminal.write(session.execute(line)) else { break }
    }
    reader.finish()
    return (!reader.isInteractive && session.failures > 0) ? 1 : 0
  }
}
