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
    let isBox = hostPIDKey != nil
    if isBox {
      m["root"] = .string(p.root.text)
      if let propagation = p.rootPropagation { m["propagation"] = .string(propagation.rawValue) }
      var mounts = StateMap()
      for mount in p.mounts {
        mounts[mount.path] = .map(
          StateMap([
            ("fstype", .string(mount.fstype)), ("source", .string(mount.source)),
            ("propagation", .string(mount.propagation.rawValue)),
          ]))
      }
      m["mounts"] = .map(mounts)
      // A process in the host's pid namespace has a host PID: volatile (SPEC §5).
      let ps = p.processes.map { proc in
        StateValue.map(
          StateMap([
            ("pid", proc.inHostPIDNamespace ? .volatile(.int(proc.pid)) : .int(proc.pid)), ("cmd", .string(proc.command)),
            ("host_pid", .volatile(.int(proc.hostPID))),
          ]))
      }
      m["pid"] = .map(StateMap([("ps", .list(ps)), ("alive", .bool(p.pidNamespaceAlive))]))
    }
    var ipc = StateMap()
    for kind in IPCKind.allCases {
      ipc[kind.rawValue] = .list(p.ipc.filter { $0.kind == kind }.map { .string(IPCObjectFacts.keyText($0.key)) })
    }
    m["ipc"] = .map(ipc)
    if let net = p.net { m["net"] = Self.netMap(net) }
    if let key = hostPIDKey { m[key] = .volatile(.int(p.hostPID)) }
    return m
  }

  /// `net.links["eth0"]` = {kind, state, [master], [peer], addrs, index (volatile), mac (volatile)};
  /// `net.routes` = the main table as `ip route` prints it.
  static func netMap(_ net: NetFacts) -> StateValue {
    var links = StateMap()
    for link in net.links {
      var l = StateMap()
      l["kind"] = .string(link.kind)
      l["state"] = .string(link.up ? "up" : "down")
      if let master = link.master { l["master"] = .string(master) }
      if let peer = link.peer { l["peer"] = .string(peer.description) }
      l["addrs"] = .list(link.addrs.map { .string($0.description) })
      l["index"] = .volatile(.int(link.index))
      l["mac"] = .volatile(.string(link.mac))
      links[link.name] = .map(l)
    }
    return .map(StateMap([("links", .map(links)), ("routes", .list(net.routes.map { .string($0.description) }))]))
  }
}
