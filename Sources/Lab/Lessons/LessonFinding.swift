/// One thing `lint` found wrong with a lesson, at a place in its file (file:line:col,
/// docs/architecture.md, "Errors").
public struct LessonFinding: Equatable, Sendable, CustomStringConvertible {
  public let path: String
  public let line: Int
  public let column: Int
  public let message: String

  public init(path: String, line: Int, column: Int, message: String) {
    self.path = path
    self.line = line
    self.column = column
    self.message = message
  }

  public var description: String { "\(path):\(line):\(column): \(message)" }
}
