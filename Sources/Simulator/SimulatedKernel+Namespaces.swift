import Kernel

/// Namespaces: unshare(2), setns(2) and the capability rules that decide them.
extension SimulatedKernel {
  /// The namespace steps (`step` is `.namespace(s)`, for errors). IPC objects and the time
  /// namespace's offsets are in SimulatedKernel+IPC.swift, the ID maps in +Users.swift.
  func performNamespace(_ s: NamespaceStep, _ step: Step) throws(KernelError) -> StepResult {
    let i = try boxIndex(step)
    switch s {
    case .unshare(_, let kinds, _): try unshareBox(i, kinds, step)
    case .join(_, _, let target): try joinBox(i, target, step)
    case .setHostname, .setDomainname:
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .sethostname(let value): try setName(i, value, isHostname: true, step, entry)
        case .setdomainname(let value): try setName(i, value, isHostname: false, step, entry)
        default: throw unmodeled(entry, step)
        }
      }
    case .ipcNew, .posixMQNew, .clockOffset:
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .sysvGet(let kind, let key): try sysvGet(i, kind, key, step, entry)
        case .mqOpen(let name): try mqOpen(i, name, step, entry)
        case .writeTimeOffset(_, let clock, let seconds): try writeTimeOffset(i, clock, seconds, step, entry)
        default: throw unmodeled(entry, step)
        }
      }
    case .map(_, let kind, let range):
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .denySetgroups: try denySetgroups(i, step, entry)
        case .writeIDMap: try writeIDMap(i, kind, range, step, entry)
        case .becomeRoot: becomeRoot(i, kind, range)
        default: throw unmodeled(entry, step)
        }
      }
    }
    return .none
  }

  // MARK: UTS

  /// sethostname(2) / setdomainname(2): EPERM unless the caller has CAP_SYS_ADMIN in the user
  /// namespace that owns its UTS namespace; EINVAL when longer than HOST_NAME_MAX.
  func setName(_ i: Int, _ value: String, isHostname: Bool, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    let p = boxes[i].process
    guard let utsInode = p.ns[.uts], var uts = namespaces[utsInode] else { throw missing(step, boxes[i].name) }
    guard value.utf8.count <= Names.maxHostname else {
      throw KernelError(step: step, call: entry, errno: .EINVAL)
    }
    guard hasCapability(p, in: uts.owner) else {
      throw KernelError(step: step, call: entry, errno: .EPERM)
    }
    if isHostname { uts.hostname = value } else { uts.domainname = value }
    namespaces[utsInode] = uts
  }

  /// `box rm`: the box's processes die, its cgroup and root filesystem go, and the namespaces
  /// only it held die with it.
  func removeBox(_ i: Int) {
    let name = boxes[i].name
    dropListeners(of: name, in: boxes[i].process.ns[.net])
    killTasks { $0.box == name }
    cgroups[name] = nil
    if let id = boxes[i].process.root.id { filesystems[id] = nil; fsFactsCache[id] = nil }
    let left = boxes[i].process
    boxes.remove(at: i)
    collectGarbage(left: left, now: nil)
  }

  /// `unshare`: the box moves into new namespaces (the unshare(2) entry), then a new mount
  /// namespace's "/" is made private (Step.makeRootPrivate) unless the step keeps the copy's
  /// propagation. The namespaces it left die if nothing else holds them (a network namespace
  /// takes its veths' peers with it): bookkeeping after the walk, as the helper's listeners are.
  func unshareBox(_ i: Int, _ kinds: [NamespaceKind], _ step: Step) throws(KernelError) {
    let before = boxes[i].process
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .unshare: boxes[i].process = try unshare(boxes[i].process, kinds, step, entry)
      case Step.makeRootPrivate: makeRootPrivate(boxes[i].process)
      default: throw unmodeled(entry, step)
      }
    }
    if kinds.contains(.net) { dropListeners(of: boxes[i].name, in: before.ns[.net]) }
    collectGarbage(left: before, now: boxes[i].process)
  }

  /// mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) in a new mount namespace: every mount of the
  /// copy leaves its peer group and its master, so nothing passes between it and the namespace
  /// it was copied from any more (mount_namespaces(7), "Shared subtrees"). Changing propagation
  /// needs CAP_SYS_ADMIN over the mount namespace, which its creator has: it does not fail here.
  func makeRootPrivate(_ p: SimProcess) {
    guard let inode = p.ns[.mnt], var ns = namespaces[inode] else { return }
    ns.mounts = ns.mounts.map {
      var m = $0
      (m.peer, m.master) = (nil, nil)
      m.propagation = .private
      return m
    }
    (ns.rootPeer, ns.rootMaster) = (nil, nil)
    ns.rootPropagation = .private
    namespaces[inode] = ns
  }

  /// `join`: the box moves into `target`'s namespace of this kind (one setns(2) entry). The
  /// namespace it left dies if nothing else holds it: bookkeeping after the walk.
  func joinBox(_ i: Int, _ target: String, _ step: Step) throws(KernelError) {
    guard let t = index(of: target) else { throw missing(step, target) }
    let before = boxes[i].process
    try make(step) { entry throws(KernelError) in
      guard case .setns(_, let kind) = entry else { throw unmodeled(entry, step) }
      boxes[i].process = try setns(boxes[i].process, to: boxes[t].process, kind, step, entry)
      if kind == .net { dropListeners(of: boxes[i].name, in: before.ns[.net]) }
    }
    collectGarbage(left: before, now: boxes[i].process)
  }

  /// unshare(2). All new namespaces are created at once; a new user namespace comes first and
  /// owns the others made in the same call (the kernel creates it before the rest).
  func unshare(_ p: SimProcess, _ kinds: [NamespaceKind], _ step: Step, _ call: SystemCall) throws(KernelError)
    -> SimProcess
  {
    var p = p
    // The kernel makes the new user namespace first (unshare_userns), before the others.
    if kinds.contains(.user) { try requireNewUserNamespaceAllowed(p, step) }
    // A second CLONE_NEWPID is EINVAL: the kernel requires pid_for_children to still be the
    // caller's own pid namespace (copy_pid_ns in kernel/pid_namespace.c), and unshare never
    // moves the caller itself, so a process can create at most one pid namespace for its children.
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
      if kind == .mnt, let copy = namespaces[old] {
        // A new mount namespace starts as a copy of the caller's mounts, each a peer of the one
        // it was copied from (the next entry, Step.makeRootPrivate, cuts them off unless the
        // step keeps them). When the new namespace's owner is another user namespace than the
        // old one's (unshare user,mnt), the kernel locks every copied mount (copy_mnt_ns,
        // lock_mnt_tree in fs/namespace.c): the less privileged owner may mount over them, not
        // take them away.
        let locks = (copy.owner ?? host.ns[.user]) != userNS
        ns.mounts = copy.mounts.map {
          var m = $0
          (m.peer, m.master) = Self.copiedGroups(m.peer, m.master, locks: locks)
          m.propagation = Self.shownPropagation(peer: m.peer, master: m.master)
          if locks { m.locked = true }
          return m
        }
        (ns.rootPeer, ns.rootMaster) = Self.copiedGroups(copy.rootPeer, copy.rootMaster, locks: locks)
        ns.rootPropagation = Self.shownPropagation(peer: ns.rootPeer, master: ns.rootMaster)
      }
      if kind == .time, let copy = namespaces[old] {
        // A new time namespace starts with the offsets of the one the caller's children would
        // enter (clone_time_ns in kernel/time/namespace.c copies them): a second `unshare time`
        // keeps the offsets the first one was given.
        ns.clockOffsets = copy.clockOffsets
      }
      if kind == .uts, let copy = namespaces[old] {
        // A new UTS namespace starts with a copy of the caller's names (uts_namespaces(7)).
        ns.hostname = copy.hostname
        ns.domainname = copy.domainname
      }
      namespaces[ns.inode] = ns
      p.ns[kind] = ns.inode
    }
    if kinds.contains(.mnt) { takeDeviceHandles(&p) }
    return p
  }

  /// boxwalk-helper takes handles of the host's device nodes whenever it gets a mount namespace
  /// of its own while its root is the host's (DevOperations.swift in the helper).
  func takeDeviceHandles(_ p: inout SimProcess) {
    switch p.root {
    case .host, .prepared:
      p.deviceHandles = p.ns[.mnt]
      // The helper opens /dev/NAME from the host's "/" without following a link, and keeps it
      // only if it is that character device: a mount the box made over /dev (or over the node)
      // hides it, unless that mount is `mount dev`'s own copy of the same node.
      let mounts = p.ns[.mnt].flatMap { namespaces[$0] }?.mounts.filter { $0.root == .host } ?? []
      p.missingDeviceHandle = ContainerDev.devices.indices.first { index in
        let path = "/dev/" + ContainerDev.devices[index].name
        guard let top = mounts.last(where: { path == $0.path || path.hasPrefix($0.path == "/" ? "/" : $0.path + "/") })
        else { return false }
        if case .device(let name, let target) = top.request, target == path, name == ContainerDev.devices[index].name {
          return false
        }
        return true
      }
    case .pivoted, .chrooted: break
    }
  }

  /// setns(2) into `target`'s namespace of one kind (`call`, the step's setns entry).
  func setns(_ p: SimProcess, to target: SimProcess, _ kind: NamespaceKind, _ step: Step, _ call: SystemCall)
    throws(KernelError) -> SimProcess
  {
    var p = p
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
    if kind == .mnt { takeDeviceHandles(&p) }
    // setns(2) into a time namespace moves the caller itself in (unlike unshare), which fixes
    // the namespace's clock offsets (time_namespaces(7)).
    if kind == .time { namespaces[inode]?.populated = true }
    return p
  }

  /// Whether `p` has capabilities in user namespace `userNS` (nil: the host's). As root, a
  /// process has every capability in its own user namespace (the creator of a new user
  /// namespace gets a full set inside it) and in every user namespace below it.
  func hasCapability(_ p: SimProcess, in userNS: UInt64?) -> Bool {
    let target = userNS ?? host.ns[.user] ?? 0
    var cursor: UInt64? = target
    while let c = cursor {
      if c == p.ns[.user] { return true }
      cursor = namespaces[c]?.owner
    }
    return false
  }

  func isSelfOrDescendant(_ pidNS: UInt64, of ancestor: UInt64) -> Bool {
    var cursor: UInt64? = pidNS
    while let c = cursor {
      if c == ancestor { return true }
      cursor = namespaces[c]?.parent
    }
    return false
  }

  func create(_ kind: NamespaceKind, owner: UInt64?, parent: UInt64?) -> UInt64 {
    var ns = SimNamespace(kind: kind, inode: allocateInode(), owner: owner, parent: parent)
    // A user namespace inherits its parent's setgroups setting (user_namespaces(7)).
    if kind == .user, let parent = owner.flatMap({ namespaces[$0] }) { ns.setgroupsAllowed = parent.setgroupsAllowed }
    namespaces[ns.inode] = ns
    return ns.inode
  }

}
