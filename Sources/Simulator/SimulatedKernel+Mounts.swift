import Kernel

/// Mounts, propagation and the root filesystem: mount(2), umount2(2), pivot_root(2), chroot(2).
extension SimulatedKernel {
  /// mount(2). The target (and a bind source) must exist; the new mount inherits "shared" from a
  /// shared parent mount and is private otherwise (mount_namespaces(7)).
  func mount(_ i: Int, _ request: MountRequest, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, step.box) }
    let tree = p.root.tree
    var paths = [request.target]
    if case .bind(let source, _) = request { paths.append(source) }
    let isProc = request.fstype == "proc"
    // The order of the kernel's checks: proc goes through fsopen(2) and fsconfig(2) before its
    // target is even looked up (by move_mount(2)); mount(2) looks its paths up first, then asks
    // may_mount(), then makes the filesystem, then grafts it.
    if isProc {
      try requireMountCapability(p, step, call: 0)
      try requireContentsCapability(p, request, step)
    }
    for path in paths where kind(of: path, in: tree) == nil {
      throw KernelError(step: step, call: step.calls[step.mountTargetCallIndex], errno: .ENOENT)
    }
    if !isProc {
      try requireMountCapability(p, step, call: 0)
      try requireContentsCapability(p, request, step)
    }
    // A directory goes only on a directory and a file only on a file (graft_tree in
    // fs/namespace.c: ENOTDIR). proc, sysfs and tmpfs are directories; a bind mount is what its
    // source is. move_mount(2), which attaches proc, says EINVAL instead.
    let sourceKind: SimPathKind
    if case .bind(let source, _) = request { sourceKind = kind(of: source, in: tree) ?? .directory } else {
      sourceKind = .directory
    }
    if kind(of: request.target, in: tree) != sourceKind {
      throw KernelError(step: step, call: step.calls[step.mountTargetCallIndex], errno: isProc ? .EINVAL : .ENOTDIR)
    }
    var netNS: UInt64?
    if case .sysfs = request {
      netNS = p.ns[.net]
      // The kernel refuses to mount a superblock on a mount point whose top mount already is
      // that superblock (do_add_mount in fs/namespace.c: EBUSY). sysfs has one superblock per
      // network namespace (sysfs_get_tree reuses it), so `mount sysfs /sys` fails in a box that
      // shares the network namespace of the sysfs already on /sys: the host's own, unless the
      // box mounted something else there first. proc and tmpfs make a new superblock each time.
      if topSysfs(at: request.target, in: tree, mnt) == netNS {
        throw KernelError(step: step, call: step.calls[step.mountTargetCallIndex], errno: .EBUSY)
      }
    }
    let parent = parentPropagation(of: request.target, in: tree, mnt)
    var pidNS: UInt64?
    if case .proc = request { pidNS = p.ns[.pid] }
    mnt.mounts.append(
      SimMount(
        root: tree, path: request.target, request: request, propagation: parent == .shared ? .shared : .private,
        pidNamespace: pidNS, netNamespace: netNS))
    namespaces[mntInode] = mnt
  }

  /// umount2(2): EINVAL when nothing is mounted there.
  func umount(_ i: Int, _ path: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, step.box) }
    try requireMountCapability(p, step, call: 0)
    guard let j = mnt.mounts.lastIndex(where: { $0.root == p.root.tree && $0.path == path }) else {
      throw KernelError(step: step, call: step.calls[0], errno: .EINVAL)
    }
    mnt.mounts.remove(at: j)
    namespaces[mntInode] = mnt
  }

  /// `propagation MODE`: MS_REC on the box's "/". A lone mount made a slave has no master to
  /// receive from, so the kernel leaves it private (checked on Linux 6.18).
  func setPropagation(_ i: Int, _ mode: Propagation, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, step.box) }
    try requireMountCapability(p, step, call: 0)
    let effective: Propagation = mode == .shared ? .shared : .private
    switch p.root {
    case .host, .prepared:
      // "/" is the host's root (copied): everything in the namespace is below it.
      mnt.rootPropagation = effective
      for j in mnt.mounts.indices { mnt.mounts[j].propagation = effective }
    case .pivoted(_, let id), .chrooted(_, let id):
      // "/" is the root filesystem; after chroot it must be a mount point for MS_REC to apply.
      guard mnt.mounts.contains(where: { $0.root == .rootfs(id) && $0.path == "/" }) else {
        throw KernelError(step: step, call: step.calls[0], errno: .EINVAL)
      }
      for j in mnt.mounts.indices where mnt.mounts[j].root == .rootfs(id) { mnt.mounts[j].propagation = effective }
    }
    namespaces[mntInode] = mnt
  }

  /// pivot_root(2): new_root must be a mount point, and neither the current root's mount nor
  /// new_root's parent may be shared (EINVAL); afterwards the old root is detached, so every
  /// mount outside the new root leaves the box's namespace.
  func pivotRoot(_ i: Int, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    let call = step.calls[Step.pivotRootCallIndex]
    // pivot_root(2) asks may_mount() before anything else.
    try requireMountCapability(p, step, call: Step.pivotRootCallIndex)
    guard case .prepared(let image, let id) = p.root else { throw KernelError(step: step, call: call, errno: .EINVAL) }
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, step.box) }
    guard mnt.mounts.contains(where: { $0.root == .rootfs(id) && $0.path == "/" }) else {
      throw KernelError(step: step, call: call, errno: .EINVAL, detail: "the new root is not a mount point")
    }
    guard mnt.rootPropagation != .shared else {
      throw KernelError(step: step, call: call, errno: .EINVAL)
    }
    mnt.mounts.removeAll { $0.root != .rootfs(id) }
    namespaces[mntInode] = mnt
    boxes[i].process.root = .pivoted(image: image, id: id)
  }

  /// The mounts a box shows: those in the tree its paths address.
  func visibleMounts(_ p: SimProcess) -> [MountFacts] {
    guard let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return [] }
    var top: [String: SimMount] = [:]
    for m in mnt.mounts where m.root == p.root.tree { top[m.path] = m }
    return top.values.sorted { $0.path < $1.path }.map {
      MountFacts(path: $0.path, fstype: $0.request.fstype, source: $0.request.source, propagation: $0.propagation)
    }
  }

  /// Propagation of the mount at the box's "/" (nil when there is none, after a chroot into a
  /// directory that is not a mount point: /proc/PID/mountinfo then has no "/" line).
  func rootPropagation(_ p: SimProcess) -> Propagation? {
    guard let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return nil }
    switch p.root {
    case .host, .prepared: return mnt.rootPropagation
    case .pivoted(_, let id), .chrooted(_, let id):
      return mnt.mounts.last { $0.root == .rootfs(id) && $0.path == "/" }?.propagation
    }
  }

  /// Whether `path` is a directory, another file, or nothing, in the tree the box's paths are in.
  private func kind(of path: String, in tree: SimRoot) -> SimPathKind? {
    switch tree {
    case .host:
      if SimHostTree.directories.contains(path) { return .directory }
      return SimHostTree.files.contains(path) ? .file : nil
    case .rootfs(let id):
      guard path != "/" else { return .directory }
      guard let fs = filesystems[id], let found = Overlay.lookup(path, in: [fs.upper] + lowerContents(fs)) else {
        return nil
      }
      return found.entry.kind.isDirectory ? .directory : .file
    }
  }

  /// The network namespace of the sysfs that is the top mount at `path`, or nil when the top
  /// mount there is something else. The host's /sys is the sysfs of the machine's network
  /// namespace, the initial one, until a box mounts over it.
  private func topSysfs(at path: String, in tree: SimRoot, _ mnt: SimNamespace) -> UInt64? {
    if let top = mnt.mounts.last(where: { $0.root == tree && $0.path == path }) { return top.netNamespace }
    guard tree == .host, path == "/sys" else { return nil }
    return host.ns[.net]
  }

  private func parentPropagation(of path: String, in tree: SimRoot, _ mnt: SimNamespace) -> Propagation {
    let parent = mnt.mounts.last { m in
      m.root == tree && (m.path == "/" || path.hasPrefix(m.path + "/")) && m.path != path
    }
    return parent?.propagation ?? mnt.rootPropagation
  }
}

enum SimPathKind {
  case directory
  case file
}
