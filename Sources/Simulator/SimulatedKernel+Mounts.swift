import Kernel

/// Mounts, propagation and the root filesystem: mount(2), umount2(2), pivot_root(2), chroot(2).
extension SimulatedKernel {
  /// The mount steps (`step` is `.mount(s)`, for errors).
  func performMount(_ s: MountStep, _ step: Step) throws(KernelError) -> StepResult {
    let i = try boxIndex(step)
    switch s {
    case .mount(_, let request): try mount(i, request, step)
    case .umount(_, let path): try umount(i, path, step)
    case .propagation(_, let mode): try setPropagation(i, mode, step)
    case .pivotRoot: try pivotRoot(i, step)
    case .chroot: try chroot(i, step)
    }
    return .none
  }

  /// openat2(2) + the new mount API. The target (and a bind source) must be a directory reached
  /// beneath the box's root without a symbolic link; the new mount inherits "shared" from a
  /// shared parent mount and is private otherwise (mount_namespaces(7)).
  func mount(_ i: Int, _ request: MountRequest, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    let tree = p.root.tree
    var paths = [
      (request.target, step.entry(where: { $0 == .openBeneath(box: boxes[i].name, path: request.target, .directory) }))
    ]
    if case .bind(let source, _) = request {
      paths.append((source, step.entry(where: { $0 == .openBeneath(box: boxes[i].name, path: source, .directory) })))
    }
    // The helper opens the target (and a bind's source) beneath the box's root first, then makes
    // the mount: fsopen(2) or open_tree(2) ask for CAP_SYS_ADMIN over the mount namespace,
    // fsconfig(2) for proc and sysfs over the namespace they show, move_mount(2) grafts it.
    for (path, call) in paths {
      // Before pivot-root or chroot, the box's root filesystem is a directory in the session's
      // state directory, which only the host's root may enter: a box that switched to another
      // host uid (map uid 0 100000 ...) cannot reach it, and the first openat2(2) fails with
      // EACCES (path_resolution(7)), whatever the path.
      if case .prepared = p.root, p.hostUID != 0 {
        throw KernelError(step: step, call: call, errno: .EACCES)
      }
      if let errno = openDirectory(path, in: tree, mnt) {
        throw KernelError(step: step, call: call, errno: errno)
      }
    }
    try requireMountCapability(
      p, step, call: step.entry(where: { [.fsopen, .openTreeClone, .openTreeDevice].contains($0.kind) }))
    try requireContentsCapability(p, request, step)
    if case .dev = request { try requireDeviceHandles(p, step) }
    var netNS: UInt64?
    if case .sysfs = request {
      netNS = p.ns[.net]
      // mount(2) refused a sysfs on a mount point whose top mount already is that superblock
      // (do_add_mount: EBUSY); the helper attaches with move_mount(2), which does not make that
      // check, so the same sysfs can be mounted again (checked on Linux 6.18).
    }
    // Under a shared parent the new mount is shared too, in a peer group of its own that its
    // copies in the parent's peers join; under a private or slave parent it is private.
    let parent = parentGroups(of: request.target, in: tree, mnt)
    var pidNS: UInt64?
    if case .proc = request { pidNS = p.ns[.pid] }
    // A bind of a proc (the host's /proc, or one a box mounted) shows that proc's namespace.
    if case .bind(let source, _) = request { pidNS = procNamespace(at: source, in: tree, mounts: mnt.mounts) }
    var mount = SimMount(
      root: tree, path: request.target, request: request, propagation: parent.peer != nil ? .shared : .private,
      peer: parent.peer != nil ? newPeerGroup() : nil, pidNamespace: pidNS, netNamespace: netNS)
    // An mqueue mount shows the queues of the mounter's IPC namespace, for as long as it is mounted.
    if case .mqueue = request { mount.ipcNamespace = p.ns[.ipc] }
    mount.shows = mountSource(request, p)
    mnt.mounts.append(mount)
    if case .dev(let path) = request {
      // Each device node's copy is a mount of its own on an empty file of the new tmpfs: private,
      // as mounts on a private tmpfs are.
      for device in ContainerDev.mounts(path).dropFirst() {
        var node = SimMount(root: tree, path: device.target, request: device, propagation: mount.propagation)
        node.shows = mountSource(device, p)
        mnt.mounts.append(node)
      }
    }
    namespaces[mntInode] = mnt
    if let group = parent.peer { propagateMount(mount, from: mntInode, group: group) }
  }

  /// `mount dev`: the helper copies its handles of the host's device nodes (open_tree(2) after
  /// the capability check): none taken is EBADF; taken in another mount namespace (the box
  /// unshared mnt after pivot-root) is EINVAL, since a detached copy may be copied again only
  /// from the namespace it came from (may_copy_tree in fs/namespace.c). Then files are made in
  /// the new tmpfs with the helper's credentials, which must be mapped in its user namespace
  /// (the tmpfs's): EOVERFLOW otherwise.
  func requireDeviceHandles(_ p: SimProcess, _ step: Step) throws(KernelError) {
    let copy = SystemCall.openTreeDevice(name: ContainerDev.devices[p.missingDeviceHandle ?? 0].name)
    guard let handles = p.deviceHandles, p.missingDeviceHandle == nil else {
      throw KernelError(step: step, call: step.entry(where: { $0 == copy }), errno: .EBADF)
    }
    guard handles == p.ns[.mnt] else {
      throw KernelError(step: step, call: step.entry(.openTreeDevice), errno: .EINVAL)
    }
    if let user = p.ns[.user], user != host.ns[.user], !credentialsMapped(p, in: user) {
      throw KernelError(step: step, call: step.entry(.createDeviceFile), errno: .EOVERFLOW)
    }
  }

  /// umount2(2): EINVAL when nothing is mounted there.
  func umount(_ i: Int, _ path: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    // The helper opens the parent beneath the root first; umount2(2) is what asks for the capability.
    try requireMountCapability(p, step, call: step.entry(.umount2))
    guard let j = mnt.mounts.lastIndex(where: { $0.root == p.root.tree && $0.path == path }) else {
      throw KernelError(step: step, call: step.entry(.umount2), errno: .EINVAL)
    }
    // A mount with mounts on top of it, or below it (`mount dev`'s nodes in its tmpfs), is busy:
    // umount2(2) without MNT_DETACH is EBUSY.
    if mnt.mounts[(j + 1)...].contains(where: { $0.root == p.root.tree && $0.path.hasPrefix(path + "/") }) {
      throw KernelError(step: step, call: step.entry(.umount2), errno: .EBUSY)
    }
    // A mount a process has a file open on is busy too: a shell's background job holds the
    // /dev/null it got as stdin.
    if tasks.contains(where: { t in
      t.openDevice.map { $0.mnt == mntInode && $0.root == p.root.tree && $0.path == path } ?? false
    }) {
      throw KernelError(step: step, call: step.entry(.umount2), errno: .EBUSY)
    }
    // A mount the namespace's owner inherited from a more privileged one is locked (can_umount
    // in fs/namespace.c): EINVAL, as for a path that is no mount point.
    guard !mnt.mounts[j].locked else {
      throw KernelError(step: step, call: step.entry(.umount2), errno: .EINVAL)
    }
    let removed = mnt.mounts.remove(at: j)
    namespaces[mntInode] = mnt
    if removed.root == .host, let group = parentGroups(of: path, in: .host, mnt).peer {
      propagateUmount(path, from: mntInode, group: group)
    }
  }

  /// `propagation MODE`: MS_REC on the box's "/". A lone mount made a slave has no master to
  /// receive from, so the kernel leaves it private (checked on Linux 6.18).
  func setPropagation(_ i: Int, _ mode: Propagation, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], let mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    try requireMountCapability(p, step, call: step.entry(.setPropagation))
    // Each mount changes in turn, as MS_REC walks the tree: whether a slave has a group left to
    // receive from depends on the mounts changed before it.
    func change(_ peer: inout Int?, _ master: inout Int?) -> Propagation {
      let old = peer
      let others = old.map { membersOfGroup($0) > 1 } ?? false
      (peer, master) = changedGroups(mode, peer: peer, master: master, othersInGroup: others)
      // The last member leaving a peer group hands its slaves on to its own master, or, with
      // none, leaves them private (change_mnt_propagation() and transfer_propagation() in
      // fs/pnode.c).
      if let old, peer != old, !others { releaseSlaves(of: old, to: master) }
      return Self.shownPropagation(peer: peer, master: master)
    }
    var selected: [Int]
    switch p.root {
    case .host, .prepared:
      // "/" is the host's root (copied): everything in the namespace is below it.
      var (peer, master) = (mnt.rootPeer, mnt.rootMaster)
      let shown = change(&peer, &master)
      namespaces[mntInode]?.rootPropagation = shown
      namespaces[mntInode]?.rootPeer = peer
      namespaces[mntInode]?.rootMaster = master
      selected = Array(mnt.mounts.indices)
    case .pivoted(_, let id), .chrooted(_, let id):
      // "/" is the root filesystem; after chroot it must be a mount point for MS_REC to apply.
      guard mnt.mounts.contains(where: { $0.root == .rootfs(id) && $0.path == "/" }) else {
        throw KernelError(step: step, call: step.entry(.setPropagation), errno: .EINVAL)
      }
      selected = mnt.mounts.indices.filter { mnt.mounts[$0].root == .rootfs(id) }
    }
    for j in selected {
      guard var m = namespaces[mntInode]?.mounts[j] else { continue }
      m.propagation = change(&m.peer, &m.master)
      namespaces[mntInode]?.mounts[j] = m
    }
  }

  /// chroot(2) into the box's prepared root filesystem; only its root directory changes.
  func chroot(_ i: Int, _ step: Step) throws(KernelError) {
    guard case .prepared(let image, let id) = boxes[i].process.root else {
      throw KernelError(step: step, call: step.entry(.chroot), errno: .ENOENT)
    }
    boxes[i].process.root = .chrooted(image: image, id: id)
  }

  /// pivot_root(2): new_root must be a mount point, and neither the current root's mount nor
  /// new_root's parent may be shared (EINVAL); afterwards the old root is detached, so every
  /// mount outside the new root leaves the box's namespace.
  ///
  /// The steps go in the order the kernel meets them: new_root must be a mount point (checked
  /// first, EINVAL), then mkdir(2) makes put_old inside it, then pivot_root(2) asks may_mount()
  /// before anything else. The root filesystem's top directory belongs to the host's root, mode
  /// 0755 (the upper layer's directory, made before any map switched the box to another host
  /// uid: an overlay made after that is refused). A box whose uid 0 is another host uid (`map
  /// uid 0 1000 1`) has no capability over a file of an owner its user namespace does not map,
  /// so mkdir is checked as for uid 1000: no write permission, EACCES (path_resolution(7),
  /// capabilities(7) on CAP_DAC_OVERRIDE). A box still in the host's uid 0, mapped or not, is the
  /// owner.
  func pivotRoot(_ i: Int, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    let call = step.entry(.pivotRoot)
    guard case .prepared(let image, let id) = p.root else { throw KernelError(step: step, call: call, errno: .EINVAL) }
    guard let mntInode = p.ns[.mnt], var mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    guard mnt.mounts.contains(where: { $0.root == .rootfs(id) && $0.path == "/" }) else {
      throw KernelError(step: step, call: call, errno: .EINVAL, detail: "the new root is not a mount point")
    }
    // The helper's mkdir of /.oldroot must make a new directory (BoxOperations.pivot): a name the
    // image already has there is refused before pivot_root(2) runs.
    if let fs = filesystems[id], Overlay.lookup("/" + Step.oldRootName, in: [fs.upper] + lowerContents(fs)) != nil {
      throw KernelError(step: step, call: step.entry(.mkdir), errno: .EEXIST, detail: Step.oldRootTaken)
    }
    guard p.hostUID == 0 else {
      throw KernelError(step: step, call: step.entry(.mkdir), errno: .EACCES)
    }
    try requireMountCapability(p, step, call: call)
    guard mnt.rootPropagation != .shared else {
      throw KernelError(step: step, call: call, errno: .EINVAL, detail: Step.pivotRootShared)
    }
    // The new root's mount must not be locked: an overlay made before `unshare user,mnt` was
    // copied into a namespace of a less privileged owner, and pivot_root(2) refuses to move it
    // (EINVAL, "new_mnt->mnt.mnt_flags & MNT_LOCKED" in fs/namespace.c). Mounting the root
    // filesystem again from inside the new user namespace gives a mount of its own.
    if mnt.mounts.last(where: { $0.root == .rootfs(id) && $0.path == "/" })?.locked == true {
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
    return top.values.sorted { $0.path < $1.path }.map { m in
      var facts = MountFacts(
        path: m.path, fstype: m.request.fstype, source: m.request.source, propagation: m.propagation)
      if case .device(let name, _) = m.request {
        // A copy of the host's node: the type of the host's /dev (devtmpfs on most machines).
        facts.fstypeOfSource = true
        facts.fstype = hostFilesystemType("/dev/" + name)
        return facts
      }
      if case .bind(let source, _) = m.request {
        // The kernel names a bind mount by the file system its source is on: in the box's root
        // filesystem the overlay, or a mount the box made above the source; in the host's tree
        // whatever this machine has there (the CLI asks it).
        facts.fstypeOfSource = true
        let under = mnt.mounts.last {
          $0.root == m.root && $0.path != m.path && (source == $0.path || source.hasPrefix($0.path + "/"))
        }
        if let under, case .bind = under.request {
          facts.fstype = hostFilesystemType(under.request.source)
        } else if let under {
          facts.fstype = under.request.fstype
        } else {
          facts.fstype = m.root == .host ? hostFilesystemType(source) : "overlay"
        }
      }
      return facts
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

  /// openat2(2) of `path` with O_PATH|O_DIRECTORY and RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, the
  /// way the helper opens a mount's target and source: nil when it opens, else the errno. Every
  /// part must be a directory (ENOTDIR), and a symbolic link anywhere is ELOOP, the last part too.
  ///
  /// In the host's tree, a name that is a symbolic link on this machine (Debian's /bin -> usr/bin,
  /// /var/run -> /run, /etc/mtab) is ELOOP like any other, unless a mount the box made above it
  /// hides the host's files there: the CLI tells which names are links (`hostSymlink`).
  private func openDirectory(_ path: String, in tree: SimRoot, _ mnt: SimNamespace) -> Errno? {
    // Below a container's /dev (`mount dev`) its tmpfs answers, not the tree beneath it.
    var current = ""
    var inDev = false
    for part in path.split(separator: "/") {
      current += "/" + part
      inDev = false
      switch deepestMount(covering: current, in: tree, mnt)?.request {
      case .dev(let dev)?:
        switch SimulatedKernel.containerDevEntry(current, in: dev) {
        case .directory?: inDev = true
        case .symlink?: return .ELOOP
        case nil: return .ENOENT
        default: return .ENOTDIR
        }
      case .device?: return .ENOTDIR
      default: break
      }
    }
    if inDev { return nil }
    switch tree {
    case .host:
      var prefix = ""
      for part in path.split(separator: "/") {
        prefix += "/" + part
        if mnt.mounts.contains(where: { $0.root == .host && $0.path == prefix }) { break }
        if hostSymlink(prefix) { return .ELOOP }
      }
      if SimHostTree.directories.contains(path) { return nil }
      return SimHostTree.files.contains(path) ? .ENOTDIR : .ENOENT
    case .rootfs(let id):
      guard let fs = filesystems[id] else { return .ENOENT }
      let layers = [fs.upper] + lowerContents(fs)
      var current = ""
      for part in path.split(separator: "/") {
        current += "/" + part
        guard let found = Overlay.lookup(current, in: layers) else { return .ENOENT }
        switch found.entry.kind {
        case .directory: continue
        case .symlink: return .ELOOP
        default: return .ENOTDIR
        }
      }
      return nil
    }
  }

  /// The mount a lookup of `path` ends on: the deepest one at or above it (the newest of those at
  /// the same place).
  func deepestMount(covering path: String, in tree: SimRoot, _ mnt: SimNamespace) -> SimMount? {
    var best: SimMount?
    for m in mnt.mounts where m.root == tree && (path == m.path || path.hasPrefix(m.path == "/" ? "/" : m.path + "/")) {
      if best.map({ m.path.count >= $0.path.count }) ?? true { best = m }
    }
    return best
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

}

enum SimPathKind {
  case directory
  case file
}
