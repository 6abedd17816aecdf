import CShim
import Glibc
import HelperWire
import Kernel

// The namespace steps on the real kernel: unshare, join (setns), the names of a UTS namespace,
// a user namespace's ID maps, IPC objects and a time namespace's offsets. Each goes through
// make(step) (LinuxKernel+Plan.swift): the entries the box's helper makes on itself reach it as
// NamespaceCalls in one `calls` request; the writes to its /proc files are boxwalk's own (`.here`).
extension LinuxKernel {
  /// `unshare`, `join`, `hostname`, `domainname`, `clock`, `map`, `ipc new` and `mq new`.
  func performNamespaceStep(_ s: NamespaceStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .unshare(let box, let kinds, let keepPropagation):
      try unshare(box, kinds, keepPropagation: keepPropagation, step: step)
    case .join(let box, let kind, let target):
      guard let holder = helper(named: target) else { throw noSuchBox(target, step: step) }
      let helper = try helper(of: box, step: step)
      // The helper opens the path itself, like nsenter(1): setns(2) wants an fd of the namespace.
      let path = "\(procfs.root)/\(holder.pid)/ns/\(kind.procEntry)"
      try make(step) { entry throws(KernelError) in
        guard case .setns = entry else { throw unplanned(entry, step) }
        return .helper(.namespace(.setns(path: Array(path.utf8), nstype: kind.cloneFlag)), helper)
      }
      if kind == .net { settleNetwork() }
      // Its anchors are now of a namespace it left: take the other box's, which are of this one.
      if kind == .mnt { anchor(box, from: holder) }
    case .setHostname(let box, _), .setDomainname(let box, _):
      let helper = try helper(of: box, step: step)
      try make(step) { entry throws(KernelError) in
        switch entry {
        // The helper makes the call on itself, in the box's UTS namespace.
        case .sethostname(let name): .helper(.namespace(.sethostname(Array(name.utf8))), helper)
        case .setdomainname(let name): .helper(.namespace(.setdomainname(Array(name.utf8))), helper)
        default: throw unplanned(entry, step)
        }
      }
    case .ipcNew(let box, let kind, let key):
      try ipcNew(box, kind, key, step: step)
    case .posixMQNew(let box, let name):
      try posixMQNew(box, name, step: step)
    case .map(let box, let kind, let range):
      try writeMap(box, kind, range, step: step)
    case .clockOffset(let box, _, _):
      let helper = try helper(of: box, step: step)
      try make(step) { entry throws(KernelError) in
        guard case .writeTimeOffset(_, let clock, let seconds) = entry else { throw unplanned(entry, step) }
        // From outside, as unshare(1) --boottime does: the file sets the offsets of the time
        // namespace the helper's children will enter (time_namespaces(7)).
        let path = "\(procfs.root)/\(helper.pid)/timens_offsets"
        return .here { () throws(EntryFailure) in
          if let errno = Self.writeOnce(path, "\(clock.rawValue) \(seconds) 0") {
            throw EntryFailure(Errno(rawValue: errno))
          }
        }
      }
    }
    return .none
  }

  /// `unshare`: the helper makes unshare(2) on itself and, for a new mount namespace, makes "/"
  /// private (Step.makeRootPrivate) unless the propagation is kept; if the make-private fails,
  /// the helper goes back into the namespaces it left (boxwalk-helper's NamespaceCalls.swift).
  func unshare(_ box: String, _ kinds: [NamespaceKind], keepPropagation: Bool, step: Step) throws(KernelError) {
    let helper = try helper(of: box, step: step)
    let flags = kinds.reduce(UInt32(0)) { $0 | $1.cloneFlag }
    let before = kinds.contains(.mnt) ? try mountNamespace(box, step: step) : nil
    if keepPropagation {
      // A copy of the machine's own mount namespace that kept its propagation would have peers
      // of this machine's mounts ("/" is shared on systemd hosts): a mount in the box would
      // appear on the machine. The session refuses it before; this is the last line.
      let hostProc = try hostProcess(step: step)
      let machine = try namespaces(pid: hostProc, shown: hostProc)[.mnt]
      guard let before, let machine, before != machine else {
        throw KernelError(
          step: step, call: step.entry(.unshare), errno: .EPERM, detail: "the box is in the machine's mount namespace")
      }
    }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .unshare: .helper(.namespace(.unshare(flags: flags)), helper)
      case Step.makeRootPrivate: .helper(.namespace(.makeRootPrivate), helper)
      default: throw unplanned(entry, step)
      }
    }
    if let before {
      // unshare(CLONE_NEWNS) copies the mount table: the new namespace has what the old one had.
      let after = try mountNamespace(box, step: step)
      mountLog += mountLog.filter { $0.namespace == before }.map {
        MountRecord(namespace: after, inRootfs: $0.inRootfs, request: $0.request)
      }
    }
    if kinds.contains(.net) { settleNetwork() }
  }

  /// `map`: "deny" to setgroups first for a gid map, then the map, both written from outside as
  /// newuidmap(1) would (one write(2) of the whole map, which the kernel accepts once); then the
  /// helper becomes the inside ID 0 when the range maps it.
  func writeMap(_ box: String, _ kind: IDKind, _ range: IDMapRange, step: Step) throws(KernelError) {
    let helper = try helper(of: box, step: step)
    let base = "\(procfs.root)/\(helper.pid)/"
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .denySetgroups:
        // user_namespaces(7), "The /proc/[pid]/setgroups file": EPERM once gid_map is written.
        return .here { () throws(EntryFailure) in
          if let errno = Self.writeOnce(base + "setgroups", "deny") { throw EntryFailure(Errno(rawValue: errno)) }
        }
      case .writeIDMap:
        let mapPath = base + kind.rawValue + "_map"
        let text = range.description + "\n"
        return .here { () throws(EntryFailure) in
          // Only a process in the box's user namespace or in its parent may write the map. On the
          // rootless backend that parent is the session's user namespace, not ours: the write is
          // made from inside it, as the session's root (the owner of the box's namespace).
          let failed =
            self.anchor.map { self.writeOnce(mapPath, text, inUserNamespaceOf: $0.pid) }
            ?? Self.writeOnce(mapPath, text)
          if let errno = failed { throw EntryFailure(Errno(rawValue: errno)) }
        }
      case .becomeRoot(_, let which):
        return .helper(.namespace(.becomeRoot(which == .uid ? .uid : .gid)), helper)
      default:
        throw unplanned(entry, step)
      }
    }
  }
}
