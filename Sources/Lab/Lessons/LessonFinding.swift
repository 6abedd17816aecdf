/// One thing `lint` found wrong with a lesson, at a place in its file (file:line:col, which
/// editors jump to, docs/architecture.md, "Errors"), and what the teacher can do about it.
public struct LessonFinding: Equatable, Sendable, CustomStringConvertible {
  public let path: String
  public let line: Int
  public let column: Int
  public let message: String
  /// How to fix it, in the teacher's terms (a block to add, an assertion to change).
  public let fix: String

  public init(path: String, line: Int, column: Int, message: String, fix: String) {
    self.path = path
    self.line = line
    self.column = column
    self.message = message
    self.fix = fix
  }

  public var description: String { "\(path):\(line):\(column): \(message)" }

  /// What `boxwalk lint` prints: the place and the message, then the fix.
  public var lines: [String] { [description, "  fix: " + fix] }
}
