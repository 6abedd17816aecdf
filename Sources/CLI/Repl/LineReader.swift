/// Where the REPL gets its lines: GNU readline on a terminal, plain standard input otherwise
/// (pipes and tests). The loop above never knows which one it has.
public protocol LineReader: AnyObject {
  /// Whether lines come from a person at a terminal (then the REPL does not echo them).
  var isInteractive: Bool { get }
  /// The next line without its newline, or nil at end of input (Ctrl-D).
  func readLine(prompt: String) -> String?
  /// Remember a line for history (up-arrow, and the history file).
  func remember(_ line: String)
  /// Save history and restore the terminal.
  func finish()
}

/// Reads standard input line by line, for pipes, scripts and tests.
public final class PlainLineReader: LineReader {
  public init() {}
  public var isInteractive: Bool { false }
  public func readLine(prompt: String) -> String? { Swift.readLine(strippingNewline: true) }
  public func remember(_ line: String) {}
  public func finish() {}
}

/// Yields the given lines, for tests of the loop.
public final class ScriptedLineReader: LineReader {
  private var lines: [String]
  public init(_ lines: [String]) { self.lines = lines }
  public var isInteractive: Bool { false }
  public func readLine(prompt: String) -> String? { lines.isEmpty ? nil : lines.removeFirst() }
  public func remember(_ line: String) {}
  public func finish() {}
}
