/// The namespace steps: unshare, setns, the UTS names, the ID maps, IPC objects and the time
/// namespace's offsets. Everything the Kernel layer knows of them is here (see Step).
public enum NamespaceStep: Equatable, Hashable, Sendable {
  /// unshare(2): move the box into new namespaces of these kinds. A new mount namespace has its
  /// "/" made private at once (`Step.makeRootPrivate`) unless `keepPropagation` is set, as
  /// `unshare --propagation unchanged` leaves it: then every shared mount of the copy is a peer of
  /// the mount it was copied from, and mounts pass between the two namespaces.
  case unshare(box: String, kinds: [NamespaceKind], keepPropagation: Bool = false)
  /// setns(2): move the box into `target`'s namespace of this kind.
  case join(box: String, kind: NamespaceKind, target: String)
  /// sethostname(2) inside the box's UTS namespace.
  case setHostname(box: String, name: String)
  /// setdomainname(2) inside the box's UTS namespace.
  case setDomainname(box: String, name: String)
  /// msgget(2) / shmget(2) / semget(2) with IPC_CREAT|IPC_EXCL in the box's IPC namespace.
  case ipcNew(box: String, kind: IPCKind, key: Int32)
  /// mq_open(3) with O_CREAT|O_EXCL in the box's IPC namespace: a POSIX message queue, found by
  /// a name such as "/jobs" (mq_overview(7)).
  case posixMQNew(box: String, name: String)
  /// Write /proc/PID/timens_offsets of the box (from outside, as unshare(1) --boottime does for
  /// its child): the clock's offset in the time namespace the box's next process will enter.
  case clockOffset(box: String, clock: TimeClock, seconds: Int64)
  /// Write /proc/PID/uid_map or gid_map of the box (from outside, as newuidmap(1) does), then let
  /// the box become the inside ID 0 if the range maps it (setresuid(2) / setresgid(2)).
  case map(box: String, kind: IDKind, range: IDMapRange)

  /// The box the step acts on.
  var box: String {
    switch self {
    case .unshare(let b, _, _), .join(let b, _, _), .setHostname(let b, _), .setDomainname(let b, _),
      .ipcNew(let b, _, _), .posixMQNew(let b, _), .clockOffset(let b, _, _), .map(let b, _, _):
      b
    }
  }

  var owner: Owner { .box(box) }

  var kindName: String {
    switch self {
    case .unshare: "unshare"
    case .join: "setns"
    case .setHostname: "sethostname"
    case .setDomainname: "setdomainname"
    case .ipcNew: "ipc"
    case .posixMQNew: "mq_open"
    case .clockOffset: "clock-offset"
    case .map: "map"
    }
  }

  var plan: [SystemCall] {
    switch self {
    case .unshare(_, let kinds, let keepPropagation):
      var plan: [SystemCall] = [.unshare(kinds)]
      if kinds.contains(.mnt) && !keepPropagation { plan.append(Step.makeRootPrivate) }
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
    }
  }

  func readBack(in facts: KernelFacts) -> ReadBack {
    switch self {
    case .unshare(let b, let kinds, _):
      // A new mount namespace is a copy that receives propagated mounts; a new network namespace
      // becomes a member of the lab's network.
      if kinds.contains(.mnt) || kinds.contains(.net) && facts.isWiredToOthers(b) { return .all }
      // Leaving a namespace changes nothing in it for the others (unshare(2)), but for the
      // sockets the box's helper held in its network namespace: they stay with the helper, so a
      // port it listened on closes for every box that shares that namespace. The host is read
      // when the box leaves its namespaces, which may then die and be forgotten.
      var out = kinds.contains(.net) ? facts.sharers(of: b, [.net], includeHostNamespace: false) : ReadBack(boxes: [b])
      out.host = true
      return out
    case .join(let b, let kind, let target):
      // setns(2) into a mount or network namespace: the same reasons as unshare.
      if kind == .mnt || kind == .net { return .all }
      // The box now shows the target's namespace: its hostname, its objects, whether its PID 1
      // is alive. Read the target and what shares that namespace.
      var out = facts.sharers(of: target, [kind])
      out.add([b])
      out.host = true
      return out
    case .setHostname(let b, _), .setDomainname(let b, _):
      // sethostname(2) changes the UTS namespace: every process in it sees the new name.
      return facts.sharers(of: b, [.uts])
    case .ipcNew(let b, _, _), .posixMQNew(let b, _):
      // An IPC object belongs to the IPC namespace (ipc_namespaces(7)).
      return facts.sharers(of: b, [.ipc])
    case .clockOffset(let b, _, _):
      // /proc/PID/timens_offsets belongs to the time namespace (time_namespaces(7)).
      return facts.sharers(of: b, [.time])
    case .map(let b, _, _):
      // uid_map and gid_map belong to the user namespace (user_namespaces(7)): every process in
      // it is now mapped.
      return facts.sharers(of: b, [.user])
    }
  }
}
