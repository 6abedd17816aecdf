/// The values named captures (`{{host:ORIG}}`) have taken so far in one run of one file on one
/// backend.
///
/// The first match binds the name; every later use must see the same text. That is how a
/// transcript says "the hostname is back to what it was" without knowing what it was. The scope is
/// file × backend: each run starts empty, so values from the sim never leak into a real run.
public struct TranscriptBindings: Hashable, Sendable {
  public struct Binding: Hashable, Sendable {
    public let valueClass: TranscriptClass
    public let value: String
  }

  /// Names in the order they were bound, so reports read in file order.
  public private(set) var names: [String] = []
  private var values: [String: Binding] = [:]

  public init() {}

  public subscript(name: String) -> Binding? { values[name] }

  public var isEmpty: Bool { names.isEmpty }

  /// Binds `name`, unless that would break the distinct-value rule: for classes whose values each
  /// name one kernel object (`inode ip4 mac veth`), two names may not hold the same value.
  /// Returns false (and binds nothing) in that case, or when `name` already holds another value.
  public mutating func bind(_ name: String, _ valueClass: TranscriptClass, _ value: String) -> Bool {
    if let existing = values[name] { return existing.value == value }
    if valueClass.isDistinct {
      for other in names where values[other]?.valueClass == valueClass && values[other]?.value == value {
        return false
      }
    }
    names.append(name)
    values[name] = Binding(valueClass: valueClass, value: value)
    return true
  }

  /// `ORIG=ci-runner-7 C1=31337`, for failure reports (values with spaces are quoted).
  public var summary: String {
    names.compactMap { name in
      guard let value = values[name]?.value else { return nil }
      let shown = value.contains(" ") || value.isEmpty ? "\"" + value + "\"" : value
      return name + "=" + shown
    }.joined(separator: " ")
  }
}
