/// Builds the state tree of SPEC §4 from raw kernel facts. Shared by every backend, so the tree's
/// shape and labels cannot differ between them. It keeps the labeler for the whole session.
public struct StateTreeBuilder: Sendable {
  public private(set) var labeler = Labeler()

  public init() {}

  public mutating func build(_ facts: KernelFacts) -> StateValue {
    var seen: [NamespaceKind: Set<UInt64>] = [:]
    var root = StateMap()
    // The host first, so that every one of its namespaces is label 0.
    root["host"] = .map(processMap(facts.host, hostPIDKey: nil, seen: &seen))
    for box in facts.boxes {
      root[box.name] = .map(processMap(box.process, hostPIDKey: "host_pid", seen: &seen))
    }
    labeler.retain(only: seen)
    return .map(root)
  }

  private mutating func processMap(
    _ p: ProcessFacts, hostPIDKey: String?, seen: inout [NamespaceKind: Set<UInt64>]
  ) -> StateMap {
    var m = StateMap()
    m["hostname"] = .string(p.hostname)
    m["domainname"] = .string(p.domainname)
    var ns = StateMap()
    for kind in NamespaceKind.allCases {
      guard let inode = p.namespaces[kind] else { continue }
      seen[kind, default: []].insert(inode)
      ns[kind.rawValue] = .string(labeler.label(kind, inode))
    }
    m["ns"] = .map(ns)
    if let key = hostPIDKey { m[key] = .volatile(.int(p.hostPID)) }
    return m
  }
}
