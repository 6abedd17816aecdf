/// Whom a step acts on, and whose namespaces a helper holds: a box, the lab's host (its host
/// side's network namespace, and the host's image store), or the lab's outside. Code compares
/// these cases, never names: "host" and "outside" are names only in formats, the state tree's
/// top-level keys and the ledger's `helper host ...` and `helper outside ...` records
/// (docs/state-paths.md), which is why no box may have them (Names.reservedBoxNames).
public enum Owner: Hashable, Sendable {
  case box(String)
  case labHost
  case outside

  /// The owner a ledger record or a state tree key names.
  public init(name: String) {
    switch name {
    case NetSide.host.name: self = .labHost
    case OutsideNet.name: self = .outside
    default: self = .box(name)
    }
  }

  /// The network namespace a net step names (`host:`, `outside:` or a box's own).
  public init(_ side: NetSide) {
    switch side {
    case .host: self = .labHost
    case .box(let b): self = .box(b)
    case .outside: self = .outside
    }
  }

  /// The name formats write: the box's, `host` or `outside`.
  public var name: String {
    switch self {
    case .box(let b): b
    case .labHost: NetSide.host.name
    case .outside: OutsideNet.name
    }
  }

  /// The box's name; nil for the lab's host and outside.
  public var box: String? {
    if case .box(let b) = self { return b }
    return nil
  }
}
