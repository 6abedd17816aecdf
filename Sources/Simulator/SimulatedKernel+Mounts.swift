import Kernel

/// Mounts, propagation and the root filesystem: mount(2), umount2(2), pivot_root(2), chroot(2).
extension SimulatedKernel {
  /// The mount steps (`step` is `.mount(s)`, for errors), made entry by entry.
  func performMount(_ s: MountStep, _ step: Step) throws(KernelError) -> StepResult {
    let i = try boxIndex(step)
    switch s {
    case .mount(_, let request): try mount(i, request, step)
    case .umount(_, let path): try umount(i, path, step)
    case .propagation(_, let mode):
      try make(step) { entry throws(KernelError) in
        guard case .setPropagation = entry else { throw unmodeled(entry, step) }
        try setPropagation(i, mode, step)
      }
    case .pivotRoot: try pivotRoot(i, step)
    case .chroot:
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .chroot: try chroot(i, step)
        // The helper's working directory: nothing the model keeps.
        case .chdirRoot: break
        default: throw unmodeled(entry, step)
        }
      }
    }
    return .none
  }

  /// openat2(2) + the new mount API, entry by entry. The target (and a bind source) must be a
  /// directory reached beneath the box's root without a symbolic link; fsopen(2) or open_tree(2)
  /// ask for CAP_SYS_ADMIN over the mount namespace, fsconfig(2) for proc and mqueue (fsopen(2)
  /// for sysfs) over the namespace they show, move_mount(2) grafts the mount. Until then nothing
  /// in any namespace changes: the context, the detached mount and a `mount dev` tmpfs filled
  /// while detached are the helper's alone.
  func mount(_ i: Int, _ request: MountRequest, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], namespaces[mntInode] != nil else { throw missing(step, boxes[i].name) }
    // The tmpfs `mount dev` attached, which its nodes' copies go into.
    var attached: SimMount?
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .openBeneath(_, let path, _): try openBeneath(p, path, mntInode, step, entry)
      case .fsopen:
        try requireMountCapability(p, step, call: entry)
        // sysfs_init_fs_context makes its check when fsopen(2) makes the context.
        if case .sysfs = request { try requireContentsCapability(p, request, step) }
      case .openTreeClone: try requireMountCapability(p, step, call: entry)
      case .fsconfig(.setFD), .fsconfig(.create):
        if case .proc = request, case .fsconfig(.setFD) = entry { try requireContentsCapability(p, request, step) }
        if case .mqueue = request, entry == .fsconfig(.create) { try requireContentsCapability(p, request, step) }
      case .openTreeDevice(let name): try copyDeviceHandle(p, name, step, entry)
      case .createDeviceFile: try requireMappedCredentials(p, step, entry)
      // Made on the detached context or mount: nothing the model keeps changes.
      case .fsconfig(.setString), .fsmount, .deviceReadOnly, .symlinkat, .mkdirat: break
      case .moveMount(.newMount, _): attached = attach(i, request, mntInode)
      case .moveMount(.deviceCopy(let name), let target):
        attachDevice(p, name, at: target, propagation: attached?.propagation ?? .private, mntInode)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// openat2(2) of `path` beneath the box's root, O_PATH|O_DIRECTORY.
  ///
  /// Before pivot-root or chroot, the box's root filesystem is a directory in the session's
  /// state directory, which only the host's root may enter: a box that switched to another host
  /// uid (map uid 0 100000 ...) cannot reach it, and the openat2(2) fails with EACCES
  /// (path_resolution(7)), whatever the path.
  private func openBeneath(_ p: SimProcess, _ path: String, _ mntInode: UInt64, _ step: Step, _ entry: SystemCall)
    throws(KernelError)
  {
    if case .prepared = p.root, p.hostUID != 0 { throw KernelError(step: step, call: entry, errno: .EACCES) }
    guard let mnt = namespaces[mntInode] else { return }
    if let errno = openDirectory(path, in: p.root.tree, mnt) {
      throw KernelError(step: step, call: entry, errno: errno)
    }
  }

  /// move_mount(2) of the new mount onto its target. Under a shared parent the new mount is
  /// shared too, in a peer group of its own that its copies in the parent's peers join; under a
  /// private or slave parent it is private (mount_namespaces(7)).
  private func attach(_ i: Int, _ request: MountRequest, _ mntInode: UInt64) -> SimMount? {
    let p = boxes[i].process
    guard var mnt = namespaces[mntInode] else { return nil }
    let tree = p.root.tree
    // mount(2) refused a sysfs on a mount point whose top mount already is that superblock
    // (do_add_mount: EBUSY); the helper attaches with move_mount(2), which does not make that
    // check, so the same sysfs can be mounted again (checked on Linux 6.18).
    var netNS: UInt64?
    if case .sysfs = request { netNS = p.ns[.net] }
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
    namespaces[mntInode] = mnt
    if let group = parent.peer { propagateMount(mount, from: mntInode, group: group) }
    return mount
  }

  /// move_mount(2) of a device node's copy onto its empty file in the container's /dev: a mount
  /// of its own, private as mounts on a private tmpfs are.
  private func attachDevice(
    _ p: SimProcess, _ name: String, at target: String, propagation: Propagation, _ mntInode: UInt64
  ) {
    let device = MountRequest.device(name: name, target: target)
    var node = SimMount(root: p.root.tree, path: target, request: device, propagation: propagation)
    node.shows = mountSource(device, p)
    namespaces[mntInode]?.mounts.append(node)
  }

  /// open_tree(2) of the helper's handle on the host's /dev/NAME (`mount dev`): the first copy
  /// asks for CAP_SYS_ADMIN over the mount namespace. A handle not taken is EBADF; one taken in
  /// another mount namespace (the box unshared mnt after pivot-root) is EINVAL, since a detached
  /// copy may be copied again only from the namespace it came from (may_copy_tree in
  /// fs/namespace.c).
  private func copyDeviceHandle(_ p: SimProcess, _ name: String, _ step: Step, _ entry: SystemCall)
    throws(KernelError)
  {
    let n = ContainerDev.devices.firstIndex { $0.name == name } ?? 0
    if n == 0 { try requireMountCapability(p, step, call: entry) }
    guard let handles = p.deviceHandles, p.missingDeviceHandle != n else {
      throw KernelError(step: step, call: entry, errno: .EBADF)
    }
    guard handles == p.ns[.mnt] else { throw KernelError(step: step, call: entry, errno: .EINVAL) }
  }

  /// Files are made in the new tmpfs with the helper's credentials, which must be mapped in its
  /// user namespace (the tmpfs's): EOVERFLOW otherwise.
  private func requireMappedCredentials(_ p: SimProcess, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    if let user = p.ns[.user], user != host.ns[.user], !credentialsMapped(p, in: user) {
      throw KernelError(step: step, call: entry, errno: .EOVERFLOW)
    }
  }

  /// `umount PATH`: the parent opened beneath the root (as a mount's target is), made the
  /// working directory, and umount2(2) of the last name.
  func umount(_ i: Int, _ path: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], namespaces[mntInode] != nil else { throw missing(step, boxes[i].name) }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .openBeneath(_, let parent, _): try openBeneath(p, parent, mntInode, step, entry)
      // The helper's working directory: nothing the model keeps.
      case .fchdirParent: break
      case .umount2: try umount2(i, path, mntInode, step, entry)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// umount2(2): EPERM without CAP_SYS_ADMIN over the mount namespace; EINVAL when nothing is
  /// mounted there.
  private func umount2(_ i: Int, _ path: String, _ mntInode: UInt64, _ step: Step, _ entry: SystemCall)
    throws(KernelError)
  {
    let p = boxes[i].process
    guard var mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    try requireMountCapability(p, step, call: entry)
    guard let j = mnt.mounts.lastIndex(where: { $0.root == p.root.tree && $0.path == path }) else {
      throw KernelError(step: step, call: entry, errno: .EINVAL)
    }
    // A mount with mounts on top of it, or below it (`mount dev`'s nodes in its tmpfs), is busy:
    // umount2(2) without MNT_DETACH is EBUSY.
    if mnt.mounts[(j + 1)...].contains(where: { $0.root == p.root.tree && $0.path.hasPrefix(path + "/") }) {
      throw KernelError(step: step, call: entry, errno: .EBUSY)
    }
    // A mount a process has a file open on is busy too: a shell's background job holds the
    // /dev/null it got as stdin.
    if tasks.contains(where: { t in
      t.openDevice.map { $0.mnt == mntInode && $0.root == p.root.tree && $0.path == path } ?? false
    }) {
      throw KernelError(step: step, call: entry, errno: .EBUSY)
    }
    // A mount the namespace's owner inherited from a more privileged one is locked (can_umount
    // in fs/namespace.c): EINVAL, as for a path that is no mount point.
    guard !mnt.mounts[j].locked else { throw KernelError(step: step, call: entry, errno: .EINVAL) }
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

  /// `pivot-root`, entry by entry, in the order the kernel meets them: mkdir(2) makes put_old in
  /// the new root, pivot_root(2) swaps the roots, chdir(2) enters the new one, umount2(2) with
  /// MNT_DETACH drops the old root, so every mount outside the new root leaves the box's
  /// namespace, and rmdir(2) removes put_old. The directory itself is not modelled: the helper
  /// removes it again when pivot_root(2) fails, and the last entry removes it otherwise.
  func pivotRoot(_ i: Int, _ step: Step) throws(KernelError) {
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .mkdir: try makeOldRoot(i, step, entry)
      case .pivotRoot: try swapRoots(i, step, entry)
      case .umount2:
        // The old root is detached: only the root filesystem's mounts stay.
        let p = boxes[i].process
        if case .pivoted(_, let id) = p.root, let mntInode = p.ns[.mnt] {
          namespaces[mntInode]?.mounts.removeAll { $0.root != .rootfs(id) }
        }
      // The helper's working directory, and the directory put_old was: nothing the model keeps.
      case .chdirRoot, .rmdir: break
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// mkdir(2) of /.oldroot in the new root: it must make a new directory (boxwalk-helper's
  /// MountCalls.swift), so a name the image already has there is refused (EEXIST) before
  /// pivot_root(2) runs. The root filesystem's top directory belongs to the host's root, mode
  /// 0755 (the upper layer's directory, made before any map switched the box to another host
  /// uid: an overlay made after that is refused). A box whose uid 0 is another host uid (`map
  /// uid 0 1000 1`) has no capability over a file of an owner its user namespace does not map,
  /// so mkdir is checked as for uid 1000: no write permission, EACCES (path_resolution(7),
  /// capabilities(7) on CAP_DAC_OVERRIDE). A box still in the host's uid 0, mapped or not, is
  /// the owner.
  private func makeOldRoot(_ i: Int, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    let p = boxes[i].process
    guard case .prepared(_, let id) = p.root else { throw KernelError(step: step, call: entry, errno: .EINVAL) }
    if let fs = filesystems[id], Overlay.lookup("/" + Step.oldRootName, in: [fs.upper] + lowerContents(fs)) != nil {
      throw KernelError(step: step, call: entry, errno: .EEXIST, detail: Step.oldRootTaken)
    }
    guard p.hostUID == 0 else { throw KernelError(step: step, call: entry, errno: .EACCES) }
  }

  /// pivot_root(2): new_root must be a mount point (the helper checks first, EINVAL), then
  /// may_mount() asks for CAP_SYS_ADMIN, then neither the current root's mount nor new_root's
  /// parent may be shared (EINVAL), and new_root's mount must not be locked.
  private func swapRoots(_ i: Int, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    let p = boxes[i].process
    guard case .prepared(let image, let id) = p.root else { throw KernelError(step: step, call: entry, errno: .EINVAL) }
    guard let mntInode = p.ns[.mnt], let mnt = namespaces[mntInode] else { throw missing(step, boxes[i].name) }
    guard mnt.mounts.contains(where: { $0.root == .rootfs(id) && $0.path == "/" }) else {
      throw KernelError(step: step, call: entry, errno: .EINVAL, detail: "the new root is not a mount point")
    }
    try requireMountCapability(p, step, call: entry)
    guard mnt.rootPropagation != .shared else {
      throw KernelError(step: step, call: entry, errno: .EINVAL, detail: Step.pivotRootShared)
    }
    // The new root's mount must not be locked: an overlay made before `unshare user,mnt` was
    // copied into a namespace of a less privileged owner, and pivot_root(2) refuses to move it
    // (EINVAL, "new_mnt->mnt.mnt_flags & MNT_LOCKED" in fs/namespace.c). Mounting the root
    // filesystem again from inside the new user namespace gives a mount of its own.
    if mnt.mounts.last(where: { $0.root == .rootfs(id) && $0.path == "/" })?.locked == true {
      throw KernelError(step: step, call: entry, errno: .EINVAL)
    }
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
}

enum SimPathKind {
  case directory
  case file
}
