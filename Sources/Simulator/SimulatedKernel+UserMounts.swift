import Kernel

/// What a process in a user namespace may mount, and when it may make a new user namespace
/// (user_namespaces(7), mount_namespaces(7), unshare(2)). Each rule here was checked against the
/// kernel through the real backend (transcripts/regressions/ holds one session per rule).
extension SimulatedKernel {
  /// Every mount(2), umount2(2), pivot_root(2) and fsopen(2) needs CAP_SYS_ADMIN in the user
  /// namespace that owns the caller's mount namespace (may_mount in fs/namespace.c; fsopen
  /// checks the same). A box that made its mount namespace first and its user namespace
  /// second has every capability in the new user namespace but none in the one that owns its
  /// mounts: EPERM, whatever the map says. chroot(2) only needs CAP_SYS_CHROOT in the caller's
  /// own user namespace, so it is not refused.
  func requireMountCapability(_ p: SimProcess, _ step: Step, call: SystemCall) throws(KernelError) {
    guard let mntInode = p.ns[.mnt], let mnt = namespaces[mntInode] else { return }
    guard hasCapability(p, in: mnt.owner) else {
      throw KernelError(step: step, call: call, errno: .EPERM)
    }
  }

  /// The filesystems whose contents belong to another namespace check that one too: proc shows
  /// a pid namespace, and fsconfig(FSCONFIG_SET_FD, "pidns") needs CAP_SYS_ADMIN in the user
  /// namespace that owns it (fs/proc/root.c); sysfs shows a network namespace, and needs
  /// CAP_SYS_ADMIN in the user namespace that owns it (kobj_ns_current_may_mount, checked by
  /// sysfs_init_fs_context when fsopen(2) makes the context). tmpfs and bind mounts need nothing more.
  func requireContentsCapability(_ p: SimProcess, _ request: MountRequest, _ step: Step) throws(KernelError) {
    switch request {
    case .proc:
      let owner = p.ns[.pid].flatMap { namespaces[$0] }?.owner
      guard hasCapability(p, in: owner) else {
        throw KernelError(
          step: step, call: step.entry { if case .fsconfig(.setFD) = $0 { true } else { false } }, errno: .EPERM)
      }
    case .sysfs:
      let owner = p.ns[.net].flatMap { namespaces[$0] }?.owner
      guard hasCapability(p, in: owner) else {
        // sysfs_init_fs_context makes this check, so fsopen(2) itself fails.
        throw KernelError(step: step, call: step.entry(.fsopen), errno: .EPERM)
      }
    case .mqueue:
      // mqueue keeps one superblock per IPC namespace, owned by that namespace's user
      // namespace; FSCONFIG_CMD_CREATE asks for CAP_SYS_ADMIN there (mount_capable).
      let owner = p.ns[.ipc].flatMap { namespaces[$0] }?.owner
      guard hasCapability(p, in: owner) else {
        throw KernelError(
          step: step, call: step.entry { $0 == .fsconfig(.create) }, errno: .EPERM)
      }
    default:
      return
    }
  }

  /// The box opens the overlay's directories itself, with its own credentials, before it asks
  /// for a mount (fsopen(2)): the upper and work directories sit in the session's directory,
  /// owned by the host's root with no access for others, so a box that switched to another host
  /// uid (map uid 0 100000 ...) gets EACCES looking up the upper directory, whichever user
  /// namespace owns its mount namespace: no capability of a child user namespace overrides the
  /// permissions of a file whose owner it does not map (capabilities(7), CAP_DAC_OVERRIDE).
  func requireUpperReachable(_ p: SimProcess, layers: Int, _ step: Step) throws(KernelError) {
    guard p.hostUID == 0 else {
      throw KernelError(
        step: step, call: step.entry { if case .fsconfig(.setString("upperdir", _)) = $0 { true } else { false } },
        errno: .EACCES)
    }
  }

  /// overlayfs in a user namespace other than the host's (allowed since Linux 5.11) works with
  /// the box's own credentials: its uid and gid must both have a mapping in the user namespace
  /// of the caller (the new superblock's, fc->user_ns in alloc_fs_context), or
  /// fsconfig(FSCONFIG_CMD_CREATE) fails with EACCES (overlayfs could not give the files it
  /// creates in its work directory an owner the namespace can represent). A box still in the
  /// host's user namespace that joined another box's mount namespace mounts as the host's root.
  func requireOverlayAccess(_ p: SimProcess, layers: Int, _ step: Step) throws(KernelError) {
    guard let owner = p.ns[.user], owner != host.ns[.user] else { return }
    guard credentialsMapped(p, in: owner) else {
      throw KernelError(step: step, call: step.entry { $0 == .fsconfig(.create) }, errno: .EACCES)
    }
  }

  /// Whether the process's host uid and gid both have a mapping in user namespace `ns` (and so
  /// in every namespace between it and the host).
  func credentialsMapped(_ p: SimProcess, in ns: UInt64) -> Bool {
    var cursor: UInt64? = ns
    var uid = p.hostUID
    var gid = p.hostGID
    var chain: [SimNamespace] = []
    while let c = cursor, c != host.ns[.user], let n = namespaces[c] {
      chain.append(n)
      cursor = n.owner
    }
    for n in chain.reversed() {
      guard let u = (n.uidMap ?? []).lazy.compactMap({ $0.inside(of: uid) }).first,
        let g = (n.gidMap ?? []).lazy.compactMap({ $0.inside(of: gid) }).first
      else { return false }
      uid = u
      gid = g
    }
    return true
  }

  /// unshare(CLONE_NEWUSER) is EPERM for a caller in a chroot (its root directory is not the
  /// root of its mount namespace: a new user namespace would give it the capabilities to
  /// escape), and for a caller whose uid or gid has no mapping in its current user namespace:
  /// the new namespace's creator must be representable in the parent (unshare(2), "EPERM").
  func requireNewUserNamespaceAllowed(_ p: SimProcess, _ step: Step) throws(KernelError) {
    if case .chrooted = p.root { throw KernelError(step: step, call: step.entry(.unshare), errno: .EPERM) }
    if let user = p.ns[.user], user != host.ns[.user], !credentialsMapped(p, in: user) {
      throw KernelError(step: step, call: step.entry(.unshare), errno: .EPERM)
    }
  }
}
