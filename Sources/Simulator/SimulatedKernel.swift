import Kernel

/// The deterministic in-memory kernel. It models the same objects as Linux (namespaces with
/// owners and parents, processes, the UTS names) and fails with the same errno for the same
/// mistake, so a transcript passes on it and on the real kernel with identical output.
/// Host PIDs and namespace inodes are made up but deterministic; they are volatile anyway.
public final class SimulatedKernel: Kernel {
  public let backend: Backend = .sim

  private var namespaces: [UInt64: SimNamespace] = [:]
  private var host: SimProcess
  private var boxes: [(name: String, process: SimProcess)] = []
  private var nextInode: UInt64 = 4_026_532_200
  private var nextPID: Int
  private var faults: [Fault] = []

  /// A rule for fault injection (STYLE 5): fail the next `count` steps of kind `stepKind`
  /// (`Step.kindName`, e.g. "sethostname"; "*" for any) with `errno`, changing nothing.
  public struct Fault: Sendable {
    public var stepKind: String
    public var errno: Errno
    public var count: Int
    public init(stepKind: String, errno: Errno, count: Int = 1) {
      self.stepKind = stepKind
      self.errno = errno
      self.count = count
    }
  }

  /// - Parameters:
  ///   - hostname: the simulated host's hostname. The CLI passes the machine's own, so a piped
  ///     session prints the same text on sim and real.
  ///   - domainname: the simulated host's NIS domain name ("(none)" is what Linux reports unset).
  ///   - firstPID: where made-up host PIDs start (a seed: they are volatile and never printed).
  public init(hostname: String = "sim-host", domainname: String = "(none)", firstPID: Int = 4200) {
    nextPID = firstPID
    // The host's namespaces carry the inode numbers Linux gives the initial namespaces
    // (include/linux/proc_ns.h: PROC_IPC_INIT_INO = 0xEFFFFFFF and down), for realism.
    let initial: [NamespaceKind: UInt64] = [
      .ipc: 0xEFFF_FFFF, .uts: 0xEFFF_FFFE, .user: 0xEFFF_FFFD, .pid: 0xEFFF_FFFC,
      .cgroup: 0xEFFF_FFFB, .time: 0xEFFF_FFFA, .mnt: 0xF000_0000, .net: 0xF000_0008,
    ]
    for (kind, inode) in initial {
      namespaces[inode] = SimNamespace(
        kind: kind, inode: inode, owner: kind == .user ? nil : initial[.user], parent: nil,
        hostname: kind == .uts ? hostname : "", domainname: domainname, populated: true)
    }
    host = SimProcess(hostPID: 1000, ns: initial, activePID: 0xEFFF_FFFC)
  }

  public func inject(_ fault: Fault) { faults.append(fault) }

  // MARK: Kernel

  public func perform(_ step: Step) throws(KernelError) {
    try consumeFault(step)
    switch step {
    case .boxNew(let name):
      // fork(2): the child starts in every namespace of its parent.
      boxes.append((name, SimProcess(hostPID: allocatePID(), ns: host.ns, activePID: host.activePID)))
    case .boxRemove(let name):
      guard let i = index(of: name) else { throw missing(step, name) }
      boxes.remove(at: i)
      collectGarbage()
    case .unshare(let name, let kinds):
      guard let i = index(of: name) else { throw missing(step, name) }
      boxes[i].process = try unshare(boxes[i].process, kinds, step)
    case .join(let name, let kind, let target):
      guard let i = index(of: name) else { throw missing(step, name) }
      guard let t = index(of: target) else { throw missing(step, target) }
      boxes[i].process = try setns(boxes[i].process, to: boxes[t].process, kind, step)
    case .setHostname(let name, let value), .setDomainname(let name, let value):
      guard let i = index(of: name) else { throw missing(step, name) }
      let p = boxes[i].process
      guard let utsInode = p.ns[.uts], var uts = namespaces[utsInode] else { throw missing(step, name) }
      // sethostname(2): EPERM unless the caller has CAP_SYS_ADMIN in the user namespace that
      // owns its UTS namespace; EINVAL when longer than HOST_NAME_MAX.
      guard value.utf8.count <= Names.maxHostname else {
        throw KernelError(step: step, call: step.calls[0], errno: .EINVAL)
      }
      guard hasCapability(p, in: uts.owner) else {
        throw KernelError(step: step, call: step.calls[0], errno: .EPERM)
      }
      if case .setHostname = step { uts.hostname = value } else { uts.domainname = value }
      namespaces[utsInode] = uts
    }
  }

  public func facts() throws(KernelError) -> KernelFacts {
    KernelFacts(
      host: processFacts(host),
      boxes: boxes.map { BoxFacts(name: $0.name, process: processFacts($0.process)) })
  }

  public func teardown() {
    boxes.removeAll()
    collectGarbage()
  }

  // MARK: The model

  /// unshare(2). All new namespaces are created at once; a new user namespace comes first and
  /// owns the others made in the same call (the kernel creates it before the rest).
  private func unshare(_ p: SimProcess, _ kinds: [NamespaceKind], _ step: Step) throws(KernelError) -> SimProcess {
    var p = p
    let call = step.calls[0]
    // A second CLONE_NEWPID before any child entered the first is EINVAL: the kernel requires
    // pid_for_children to still be the caller's own pid namespace (kernel/pid_namespace.c).
    if kinds.contains(.pid), p.ns[.pid] != p.activePID {
      throw KernelError(step: step, call: call, errno: .EINVAL)
    }
    var userNS = p.ns[.user]
    // Every kind but user needs CAP_SYS_ADMIN in the caller's user namespace.
    if kinds.contains(where: { $0 != .user }), !kinds.contains(.user), !hasCapability(p, in: userNS) {
      throw KernelError(step: step, call: call, errno: .EPERM)
    }
    if kinds.contains(.user) {
      let ns = create(.user, owner: userNS, parent: nil)
      p.ns[.user] = ns
      userNS = ns
    }
    for kind in NamespaceKind.allCases where kinds.contains(kind) && kind != .user {
      guard let old = p.ns[kind] else { continue }
      var ns = SimNamespace(
        kind: kind, inode: allocateInode(), owner: userNS,
        parent: kind == .pid ? p.activePID : nil)
      if kind == .uts, let copy = namespaces[old] {
        // A new UTS namespace starts with a copy of the caller's names (uts_namespaces(7)).
        ns.hostname = copy.hostname
        ns.domainname = copy.domainname
      }
      namespaces[ns.inode] = ns
      p.ns[kind] = ns.inode
    }
    return p
  }

  /// setns(2) into `target`'s namespace of one kind.
  private func setns(_ p: SimProcess, to target: SimProcess, _ kind: NamespaceKind, _ step: Step) throws(KernelError)
    -> SimProcess
  {
    var p = p
    let call = step.calls[0]
    let openFailed = "open(2) of the namespace file failed"
    // First the open(2) of /proc/PID/ns/KIND. proc(5) checks ptrace access (PTRACE_MODE_READ):
    // boxwalk-helper is non-dumpable, so only a caller with CAP_SYS_PTRACE in the host's user
    // namespace may open another helper's namespace files; a box in a user namespace of its own
    // gets EACCES.
    if target.hostPID != p.hostPID, !hasCapability(p, in: host.ns[.user]) {
      throw KernelError(step: step, call: call, errno: .EACCES, detail: openFailed)
    }
    guard let inode = target.ns[kind], let ns = namespaces[inode] else {
      throw KernelError(step: step, call: call, errno: .EINVAL)
    }
    // pid_for_children of a pid namespace that no process has entered yet does not resolve:
    // the kernel has no child reaper to take the namespace from (ENOENT).
    if kind == .pid, !ns.populated {
      throw KernelError(step: step, call: call, errno: .ENOENT, detail: openFailed)
    }
    if kind == .user {
      // Joining the user namespace you are already in is EINVAL; joining one needs
      // CAP_SYS_ADMIN in it, which a process has only in its own user namespace and below.
      if inode == p.ns[.user] { throw KernelError(step: step, call: call, errno: .EINVAL) }
      guard hasCapability(p, in: inode) else { throw KernelError(step: step, call: call, errno: .EPERM) }
      p.ns[.user] = inode
      return p
    }
    // Other kinds: CAP_SYS_ADMIN both in the caller's user namespace and in the one that owns
    // the target namespace.
    guard hasCapability(p, in: p.ns[.user]), hasCapability(p, in: ns.owner) else {
      throw KernelError(step: step, call: call, errno: .EPERM)
    }
    if kind == .pid, !isSelfOrDescendant(inode, of: p.activePID) {
      // A process may only move its children into its own pid namespace or one below it.
      throw KernelError(step: step, call: call, errno: .EINVAL)
    }
    p.ns[kind] = inode
    return p
  }

  /// Whether `p` has capabilities in user namespace `userNS` (nil: the host's). As root, a
  /// process has every capability in its own user namespace (the creator of a new user
  /// namespace gets a full set inside it) and in every user namespace below it.
  private func hasCapability(_ p: SimProcess, in userNS: UInt64?) -> Bool {
    let target = userNS ?? host.ns[.user] ?? 0
    var cursor: UInt64? = target
    while let c = cursor {
      if c == p.ns[.user] { return true }
      cursor = namespaces[c]?.owner
    }
    return false
  }

  private func isSelfOrDescendant(_ pidNS: UInt64, of ancestor: UInt64) -> Bool {
    var cursor: UInt64? = pidNS
    while let c = cursor {
      if c == ancestor { return true }
      cursor = namespaces[c]?.parent
    }
    return false
  }

  private func create(_ kind: NamespaceKind, owner: UInt64?, parent: UInt64?) -> UInt64 {
    let ns = SimNamespace(kind: kind, inode: allocateInode(), owner: owner, parent: parent)
    namespaces[ns.inode] = ns
    return ns.inode
  }

  /// A namespace dies when no process is in it and no namespace needs it as owner or parent.
  private func collectGarbage() {
    var live = Set(host.ns.values).union([host.activePID])
    for b in boxes { live.formUnion(b.process.ns.values); live.insert(b.process.activePID) }
    var changed = true
    while changed {
      changed = false
      for ns in namespaces.values where live.contains(ns.inode) {
        for ref in [ns.owner, ns.parent].compactMap({ $0 }) where !live.contains(ref) {
          live.insert(ref)
          changed = true
        }
      }
    }
    namespaces = namespaces.filter { live.contains($0.key) }
  }

  private func processFacts(_ p: SimProcess) -> ProcessFacts {
    let uts = p.ns[.uts].flatMap { namespaces[$0] }
    return ProcessFacts(
      hostPID: p.hostPID, namespaces: p.ns, hostname: uts?.hostname ?? "",
      domainname: uts?.domainname ?? "(none)")
  }

  private func index(of name: String) -> Int? { boxes.firstIndex { $0.name == name } }

  private func missing(_ step: Step, _ name: String) -> KernelError {
    KernelError(step: step, call: step.calls[0], errno: .ESRCH, detail: "no box named \(name)")
  }

  private func allocateInode() -> UInt64 {
    defer { nextInode += 1 }
    return nextInode
  }

  private func allocatePID() -> Int {
    defer { nextPID += 1 }
    return nextPID
  }

  private func consumeFault(_ step: Step) throws(KernelError) {
    guard let i = faults.firstIndex(where: { $0.count > 0 && ($0.stepKind == "*" || $0.stepKind == step.kindName) })
    else { return }
    faults[i].count -= 1
    throw KernelError(step: step, call: step.calls[0], errno: faults[i].errno, detail: "injected fault")
  }
}
