/// Builds the state tree of SPEC §4 from raw kernel facts. Shared by every backend, so the tree's
/// shape and labels cannot differ between them. It keeps the labeler for the whole session.
public struct StateTreeBuilder: Sendable {
  public private(set) var labeler = Labeler()

  public init() {}

  private var hostUserNamespace: UInt64?
  private var hostUser: UserFacts?

  public mutating func build(_ facts: KernelFacts) -> StateValue {
    hostUserNamespace = facts.host.namespaces[.user]
    hostUser = facts.host.user
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
    m.reserveCapacity(16)
    // Every key below is new to its map: appendNew skips the search a subscript set makes.
    m.appendNew("hostname", .string(p.hostname))
    m.appendNew("domainname", .string(p.domainname))
    var ns = StateMap()
    for kind in NamespaceKind.allCases {
      guard let inode = p.namespaces[kind] else { continue }
      seen[kind, default: []].insert(inode)
      ns.appendNew(kind.rawValue, .string(labeler.label(kind, inode)))
    }
    m.appendNew("ns", .map(ns))
    let isBox = hostPIDKey != nil
    if isBox {
      m.appendNew("root", .string(p.root.text))
      if let propagation = p.rootPropagation { m.appendNew("propagation", .string(propagation.rawValue)) }
      var mounts = StateMap()
      for mount in p.mounts {
        mounts[mount.path] = .map(
          StateMap([
            ("fstype", .string(mount.fstype)), ("source", .string(mount.source)),
            ("propagation", .string(mount.propagation.rawValue)),
          ]))
      }
      m.appendNew("mounts", .map(mounts))
      // A process in the host's pid namespace has a host PID: volatile (SPEC §5).
      let ps = p.processes.map { proc in
        StateValue.map(
          StateMap([
            ("pid", proc.inHostPIDNamespace ? .volatile(.int(proc.pid)) : .int(proc.pid)), ("cmd", .string(proc.command)),
            ("host_pid", .volatile(.int(proc.hostPID))),
          ]))
      }
      m.appendNew("pid", .map(StateMap([("ps", .list(ps)), ("alive", .bool(p.pidNamespaceAlive))])))
    }
    // Who the process is, inside and out (user_namespaces(7)). Volatile? No: boxwalk chooses
    // every ID here, and the host's own user namespace always has the identity map.
    let u = p.user
    // What root holds on the host differs between machines (a container host may drop some), so
    // the host's own sets are volatile, and a box still in the host's user namespace shows "host"
    // when it has exactly the host's set (SPEC §5: host facts are diffs, not dumps).
    let inHostUserNS = isBox && p.namespaces[.user] == hostUserNamespace
    func set(_ names: [String], _ hostNames: [String]) -> StateValue {
      if !isBox { return .volatile(.string(Capabilities.summary(names))) }
      if inHostUserNS && names == hostNames { return .string("host") }
      return .string(Capabilities.summary(names))
    }
    let caps = StateMap([
      ("effective", set(u.effective, hostUser?.effective ?? [])),
      ("permitted", set(u.permitted, hostUser?.permitted ?? [])),
      ("bounding", set(u.bounding, hostUser?.bounding ?? [])),
    ])
    m.appendNew(
      "user",
      .map(
        StateMap([
          ("uid", .int(Int(u.uid))), ("gid", .int(Int(u.gid))), ("host_uid", .int(Int(u.hostUID))),
          ("host_gid", .int(Int(u.hostGID))), ("uid_map", .list(u.uidMap.map { .string($0.description) })),
          ("gid_map", .list(u.gidMap.map { .string($0.description) })), ("caps", .map(caps)),
        ])))
    if isBox {
      var owners = StateMap()
      for kind in NamespaceKind.allCases where kind != .user {
        guard let inode = p.owners[kind] else { continue }
        seen[.user, default: []].insert(inode)
        owners.appendNew(kind.rawValue, .string(labeler.label(.user, inode)))
      }
      m.appendNew("owner", .map(owners))
    }
    var ipc = StateMap()
    for kind in IPCKind.allCases {
      let keys = p.ipc.filter { $0.kind == kind }.map { StateValue.string(IPCObjectFacts.keyText($0.key)) }
      ipc.appendNew(kind.rawValue, .list(keys))
    }
    m.appendNew("ipc", .map(ipc))
    if let key = hostPIDKey { m.appendNew(key, .volatile(.int(p.hostPID))) }
    return m
  }
}
