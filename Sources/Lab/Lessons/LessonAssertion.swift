import Kernel

/// One line of an `expect` or `check` block (lessons/README.md): `PATH OP VALUE  ! message`.
///
/// Assertions look only at the state tree, never at printed text: output wording may change
/// between versions and differs between backends in volatile places, the state does not.
public struct LessonAssertion: Equatable, Sendable {
  public enum Operator: String, CaseIterable, Sendable {
    /// The value at PATH equals VALUE.
    case equals = "=="
    /// PATH exists and its value differs from VALUE.
    case notEquals = "!="
    /// A string contains VALUE as a substring; a list has VALUE as an element, or with fields
    /// (`{cmd: "sleep 700", ppid: 1}`) an element that has them; a map has the key VALUE.
    case contains
    /// The whole value (a string, or a number or boolean as text) matches the regex VALUE.
    case matches
    /// PATH exists (no VALUE).
    case exists
    /// PATH does not exist (no VALUE): a box that was removed, a mount that was undone.
    case absent

    /// Whether the operator takes a VALUE.
    public var takesValue: Bool { self != .exists && self != .absent }
  }

  /// What the value at PATH is compared with.
  public enum Operand: Equatable, Sendable {
    /// A quoted string, an integer, `true` or `false`.
    case literal(StateValue)
    /// `@start`: the same path at the lesson start; `@start(PATH)`: another path then.
    case start(StatePath?)
    /// `@prev`: the same path before this step; `@prev(PATH)`: another path then.
    case previous(StatePath?)
    /// `{cmd: "sleep 700", ppid: 1}`, after `contains` only: some element of the list is a map
    /// with each of these fields equal to its value (its other fields may be anything). What a
    /// check means by "some process runs sleep 700 as a child of PID 1", whatever its place.
    case fields(StateMap)
  }

  /// The line and the column where the assertion starts, for messages.
  public let line: Int
  public let column: Int
  /// The assertion as written, without its message: what `check` and `lint` show.
  public let text: String
  public let path: StatePath
  public let op: Operator
  public let operand: Operand?
  /// The message after `  ! `: what the learner reads when the assertion fails.
  public let message: String?

  public init(
    line: Int, column: Int, text: String, path: StatePath, op: Operator, operand: Operand?, message: String?
  ) {
    self.line = line
    self.column = column
    self.text = text
    self.path = path
    self.op = op
    self.operand = operand
    self.message = message
  }
}
