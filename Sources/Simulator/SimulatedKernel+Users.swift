import Kernel

/// User namespaces: ID maps and who a box is inside and out (user_namespaces(7)).
extension SimulatedKernel {
  /// The `map gid` step's first entry: "deny" to /proc/PID/setgroups. EPERM once the namespace
  /// has a gid map (user_namespaces(7), "The /proc/[pid]/setgroups file"), as the host's always
  /// has; else the write succeeds, and stays even when the map that follows is refused.
  func denySetgroups(_ i: Int, _ step: Step, _ call: SystemCall) throws(KernelError) {
    guard let userInode = boxes[i].process.ns[.user], var ns = namespaces[userInode], ns.gidMap == nil else {
      throw KernelError(step: step, call: call, errno: .EPERM)
    }
    ns.setgroupsAllowed = false
    namespaces[userInode] = ns
  }

  /// Writing /proc/PID/uid_map (or gid_map): once only (EPERM after), never for the host's user
  /// namespace (EPERM), and the outside range must be mapped in the parent namespace (EPERM).
  func writeIDMap(_ i: Int, _ kind: IDKind, _ range: IDMapRange, _ step: Step, _ call: SystemCall)
    throws(KernelError)
  {
    guard let userInode = boxes[i].process.ns[.user], var ns = namespaces[userInode], userInode != host.ns[.user]
    else { throw KernelError(step: step, call: call, errno: .EPERM) }
    let already = kind == .uid ? ns.uidMap != nil : ns.gidMap != nil
    guard !already else { throw KernelError(step: step, call: call, errno: .EPERM) }
    // The parent's map decides which outside IDs may appear.
    let parentMap = ns.owner.flatMap { namespaces[$0] }.flatMap { kind == .uid ? $0.uidMap : $0.gidMap } ?? []
    let last = UInt64(range.outside) + UInt64(range.count) - 1
    let covered = parentMap.contains { r in
      UInt64(range.outside) >= UInt64(r.inside) && last < UInt64(r.inside) + UInt64(r.count)
    }
    guard covered else { throw KernelError(step: step, call: call, errno: .EPERM) }
    if kind == .uid { ns.uidMap = [range] } else { ns.gidMap = [range] }
    namespaces[userInode] = ns
  }

  /// setresuid(2) / setresgid(2) to 0 after a map that maps inside ID 0: the box becomes it. The
  /// helper is root of its own user namespace (CAP_SETUID there), and 0 is mapped now.
  func becomeRoot(_ i: Int, _ kind: IDKind, _ range: IDMapRange) {
    let owner = boxes[i].process.ns[.user].flatMap { namespaces[$0] }?.owner
    // The outside ID of inside 0, through this map and then the parent's, down to the host.
    let hostID = hostID(of: range.outside, kind, in: owner)
    if kind == .uid { boxes[i].process.hostUID = hostID } else { boxes[i].process.hostGID = hostID }
  }

  /// An ID of user namespace `ns` as the host sees it.
  func hostID(of id: UInt32, _ kind: IDKind, in ns: UInt64?) -> UInt32 {
    var value = id
    var cursor = ns
    while let c = cursor, c != host.ns[.user], let n = namespaces[c] {
      let map = (kind == .uid ? n.uidMap : n.gidMap) ?? []
      guard let outside = map.lazy.compactMap({ $0.outside(of: value) }).first else { return IDMapRange.overflow }
      value = outside
      cursor = n.owner
    }
    return value
  }

  /// An ID the host knows (kuid) as seen from inside user namespace `ns`: through every map on
  /// the way down; the overflow ID where one has no mapping.
  func insideID(ofHost id: UInt32, _ kind: IDKind, in ns: UInt64?) -> UInt32 {
    var chain: [SimNamespace] = []
    var cursor = ns
    while let c = cursor, c != host.ns[.user], let n = namespaces[c] {
      chain.append(n)
      cursor = n.owner
    }
    var value = id
    for n in chain.reversed() {
      value = IDMapRange.inside(value, through: (kind == .uid ? n.uidMap : n.gidMap) ?? [])
    }
    return value
  }

  func userFacts(_ p: SimProcess) -> UserFacts {
    let ns = p.ns[.user].flatMap { namespaces[$0] }
    return UserFacts(
      uid: insideID(ofHost: p.hostUID, .uid, in: p.ns[.user]), gid: insideID(ofHost: p.hostGID, .gid, in: p.ns[.user]),
      hostUID: p.hostUID, hostGID: p.hostGID, uidMap: ns?.uidMap ?? [], gidMap: ns?.gidMap ?? [],
      // In the host's user namespace a process has the capabilities boxwalk itself was given
      // (the CLI passes this machine's: a container or systemd unit may have dropped some). In
      // a user namespace of its own the helper is root there (its creator, or root after the
      // map), so it holds every capability in it, and none above it.
      effective: p.ns[.user] == host.ns[.user] ? hostCapabilities.effective : Capabilities.all,
      permitted: p.ns[.user] == host.ns[.user] ? hostCapabilities.permitted : Capabilities.all,
      bounding: p.ns[.user] == host.ns[.user] ? hostCapabilities.bounding : Capabilities.all,
      setgroupsAllowed: ns?.setgroupsAllowed ?? true)
  }
}
