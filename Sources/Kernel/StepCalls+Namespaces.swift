/// The plan of a namespace step (Step.plan): unshare, setns, the UTS names, the ID maps, IPC
/// objects and the time namespace's offsets.
extension Step {
  var namespacePlan: [SystemCall] {
    switch self {
    case .unshare(_, let kinds, let keepPropagation):
      var plan: [SystemCall] = [.unshare(kinds)]
      if kinds.contains(.mnt) && !keepPropagation { plan.append(Self.makeRootPrivate) }
      return plan
    case .join(_, let kind, let target):
      return [.setns(target: target, kind: kind)]
    case .setHostname(_, let name):
      return [.sethostname(name)]
    case .setDomainname(_, let name):
      return [.setdomainname(name)]
    case .map(let box, let kind, let range):
      let write = SystemCall.writeIDMap(box: box, kind: kind, range: range)
      let become: [SystemCall] = range.inside == 0 ? [.becomeRoot(box: box, kind: kind)] : []
      switch kind {
      case .uid:
        return [write] + become
      case .gid:
        // An unprivileged writer must deny setgroups(2) before gid_map, or a process could drop
        // a group that was keeping it out of a file (CVE-2014-8989); boxwalk does it always.
        return [.denySetgroups(box: box), write] + become
      }
    case .ipcNew(_, let kind, let key):
      return [.sysvGet(kind, key: key)]
    case .posixMQNew(_, let name):
      // A small queue: each one is charged against the owner's RLIMIT_MSGQUEUE (819200 bytes by
      // default), and the kernel's default size (10 messages of 8192 bytes) would allow only nine.
      return [.mqOpen(name: name)]
    case .clockOffset(let box, let clock, let seconds):
      return [.writeTimeOffset(box: box, clock: clock, seconds: seconds)]
    default:
      return []
    }
  }
}
