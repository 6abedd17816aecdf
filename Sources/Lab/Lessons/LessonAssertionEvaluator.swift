import Kernel

/// The three state trees an assertion may look at: now, at the lesson start (`@start`) and
/// before the current step (`@prev`).
public struct LessonTrees: Sendable {
  public var now: StateValue
  public var start: StateValue
  public var previous: StateValue

  public init(now: StateValue, start: StateValue, previous: StateValue) {
    self.now = now
    self.start = start
    self.previous = previous
  }
}

/// Whether one assertion holds, and what the state says when it does not.
public struct LessonAssertionOutcome: Equatable, Sendable {
  public let assertion: LessonAssertion
  public let passed: Bool
  /// What was found, in state-path terms: `web.hostname is "vm"`, `db does not exist`.
  public let found: String
}

/// Evaluates assertions against state trees. Pure: the same trees always give the same answer,
/// which is what lets `lint` prove a lesson on the simulator.
public enum LessonAssertionEvaluator {
  public static func evaluate(_ a: LessonAssertion, _ trees: LessonTrees) -> LessonAssertionOutcome {
    let (passed, found) = judge(a, trees)
    return LessonAssertionOutcome(assertion: a, passed: passed, found: found)
  }

  public static func evaluate(_ block: LessonAssertionBlock?, _ trees: LessonTrees) -> [LessonAssertionOutcome] {
    (block?.assertions ?? []).map { evaluate($0, trees) }
  }

  private static func judge(_ a: LessonAssertion, _ trees: LessonTrees) -> (Bool, String) {
    let path = a.path.description
    let value = trees.now.value(at: a.path).map(plain)
    switch a.op {
    case .exists:
      return value == nil ? (false, "\(path) does not exist") : (true, "\(path) exists")
    case .absent:
      return value == nil ? (true, "\(path) does not exist") : (false, "\(path) exists")
    default:
      break
    }
    guard let value else { return (false, "\(path) does not exist") }
    if case .fields(let wanted)? = a.operand { return someElement(of: value, has: wanted, path) }
    let shown = "\(path) is \(describe(value))"
    let expected: StateValue
    switch resolve(a, trees) {
    case .success(let v): expected = v
    case .failure(let why): return (false, shown + "; " + why)
    }
    switch a.op {
    case .equals:
      return (value == expected, shown + reference(a, expected))
    case .notEquals:
      return (value != expected, shown + reference(a, expected))
    case .contains:
      switch value {
      case .string(let s):
        guard case .string(let needle) = expected else { return (false, shown + "; contains on text needs a string") }
        return (s.contains(needle), shown)
      case .list(let items):
        return (items.contains(expected), shown)
      case .map(let m):
        guard case .string(let key) = expected else { return (false, shown + "; contains on a map needs a key string") }
        return (m[key] != nil, shown)
      default:
        return (false, shown + "; contains needs text, a list or a map")
      }
    case .matches:
      guard case .string(let pattern) = expected, let regex = try? Regex(pattern) else {
        return (false, shown + "; matches needs a regex string")
      }
      let text: String
      switch value {
      case .string(let s): text = s
      case .int, .bool: text = value.scalarText
      default: return (false, shown + "; matches needs text, a number or a boolean")
      }
      return ((try? regex.wholeMatch(in: text)) != nil, shown)
    case .exists, .absent:
      return (false, shown)
    }
  }

  /// `contains {FIELD: VALUE, ...}`: whether some element of the list is a map with each field
  /// equal to its value. What it found shows each element by the fields asked for only: the
  /// others (host PIDs among them) say nothing about the check and differ between runs.
  private static func someElement(of value: StateValue, has wanted: StateMap, _ path: String) -> (Bool, String) {
    guard case .list(let items) = value else {
      return (false, "\(path) is \(describe(value)); contains with fields needs a list")
    }
    let passed = items.contains { item in
      guard case .map(let m) = item else { return false }
      return wanted.entries.allSatisfy { m[$0.0] == $0.1 }
    }
    let shown = items.map { item -> StateValue in
      guard case .map(let m) = item else { return item }
      return .map(StateMap(wanted.keys.compactMap { key in m[key].map { (key, $0) } }))
    }
    let keys = wanted.keys
    let named = keys.count == 1 ? keys[0] : keys.dropLast().joined(separator: ", ") + " and " + keys[keys.count - 1]
    return (passed, "\(path) is \(describe(.list(shown))) (its \(named))")
  }

  private enum Resolved {
    case success(StateValue)
    case failure(String)
  }

  /// The value an operand stands for: a literal, or a path read in the start or previous tree.
  private static func resolve(_ a: LessonAssertion, _ trees: LessonTrees) -> Resolved {
    switch a.operand {
    case .literal(let v)?: return .success(v)
    case .start(let p)?:
      let path = p ?? a.path
      guard let v = trees.start.value(at: path) else {
        return .failure("\(path) did not exist at the lesson start")
      }
      return .success(plain(v))
    case .previous(let p)?:
      let path = p ?? a.path
      guard let v = trees.previous.value(at: path) else {
        return .failure("\(path) did not exist before this step")
      }
      return .success(plain(v))
    case .fields(let m)?: return .success(.map(m))
    case nil:
      return .failure("no value to compare with")
    }
  }

  /// For references, what they stood for: `(@start was "vm")`.
  private static func reference(_ a: LessonAssertion, _ expected: StateValue) -> String {
    switch a.operand {
    case .start?: return " (@start was \(describe(expected)))"
    case .previous?: return " (@prev was \(describe(expected)))"
    default: return ""
    }
  }

  /// One line for a value: scalars as `show` prints them, lists and maps short.
  static func describe(_ v: StateValue) -> String {
    switch v.unwrapped {
    case .map(let m): return m.isEmpty ? "{}" : "{" + m.keys.joined(separator: ", ") + "}"
    default: return escapedForTerminal(v.scalarText)
    }
  }

  /// The value with every `volatile` wrapper removed (the values themselves kept): an assertion
  /// compares what the kernel holds, however it is displayed.
  static func plain(_ v: StateValue) -> StateValue {
    switch v {
    case .volatile(let inner): return plain(inner)
    case .list(let items): return .list(items.map(plain))
    case .map(let m): return .map(StateMap(m.entries.map { ($0.0, plain($0.1)) }))
    default: return v
    }
  }
}
