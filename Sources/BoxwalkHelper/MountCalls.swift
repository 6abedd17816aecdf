import CShim
import Glibc
import HelperWire

/// The mount area's plan entries, made by the helper in the box's mount namespace (Calls.swift).
/// One function per call; what one entry opens for a later one is kept in the request's
/// CallState under its MountCall.Handle.
///
/// The rules of MountOperations.swift hold for every entry: a path the box can influence is
/// opened with openat2(2) beneath the box's root, RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, and the
/// mount is attached with move_mount(2) onto that descriptor, so nothing is looked up by name a
/// second time (docs/security.md, "Mounts inside a box").
extension BoxOperations {
  func make(_ call: MountCall, _ state: inout CallState) -> Calls.Outcome {
    switch call {
    case .openBeneath(let root, let path, let keep): openBeneath(root, path, keep, &state)
    case .fsopen(let fstype): fsopen(fstype, &state)
    case .fsconfigPidNamespace: Self.fsconfigPidNamespace(state)
    case .fsconfigString(let key, let value): Self.fsconfigString(key, value, state)
    case .fsconfigCreate: Self.fsconfigCreate(state)
    case .fsmount(let attributes): Self.fsmount(attributes, &state)
    case .openTreeClone: Self.openTreeClone(&state)
    case .openTreeDevice(let n): openTreeDevice(n, &state)
    case .deviceReadOnly(let n): Self.deviceReadOnly(n, state)
    case .createDeviceFile(let n): Self.createDeviceFile(n, &state)
    case .symlinkat(let target, let name): Self.symlinkat(target, name, state)
    case .mkdirat(let name): Self.mkdirat(name, state)
    case .moveMount(let from, let onto): Self.moveMount(from, onto, &state)
    case .fchdir(let handle): Self.fchdir(handle, &state)
    case .umount2(let path, let flags): Self.umount2(path, flags)
    case .umountRoot(let root): umountRoot(root)
    case .mkdir(let rootfs, let name, let mode): mkdir(rootfs, name, mode, &state)
    case .pivotRoot(let putOld): pivotRoot(putOld, &state)
    case .chdir(let path): withCPath(path) { Glibc.chdir($0) } == 0 ? .made() : .failed(errno: errno)
    case .rmdir(let path): withCPath(path) { Glibc.rmdir($0) } == 0 ? .made() : .failed(errno: errno)
    case .chroot(let rootfs): chroot(rootfs)
    case .setPropagation(let flag): Self.setPropagation(flag)
    case .fsopenOverlay(let directories, let target): fsopenOverlay(directories, target, &state)
    case .overlayDirectory(let key, let n): Self.overlayDirectory(key, n, state)
    case .moveOverlayRoot: Self.moveOverlayRoot(state)
    }
  }

  /// The descriptor an earlier entry kept as `handle`; EBADF when none did (boxwalk sent the
  /// entries out of order: a bug, which the kernel would answer the same way).
  private static func kept(_ handle: MountCall.Handle, _ state: CallState) -> Int32 {
    state.descriptors[handle.name] ?? -1
  }

  private static func outcome(_ rc: Int32) -> Calls.Outcome { rc == 0 ? .made() : .failed(errno: errno) }

  /// Keeps `fd` as `handle` when it is one; the failure with errno otherwise.
  private static func keeping(_ fd: Int32, as handle: MountCall.Handle, _ state: inout CallState) -> Calls.Outcome {
    guard fd >= 0 else { return .failed(errno: errno) }
    state.keep(fd, as: handle.name)
    return .made()
  }

  /// openat2(2) beneath the box's root (openInBox, MountOperations.swift).
  private func openBeneath(_ root: [UInt8], _ path: [UInt8], _ keep: MountCall.Handle, _ state: inout CallState)
    -> Calls.Outcome
  {
    Self.keeping(openInBox(root: String(decoding: root, as: UTF8.self), path), as: keep, &state)
  }

  /// fsopen(2) makes a file system context in the caller's namespaces: a tmpfs or proc is not
  /// made yet, only asked for (fsopen(2)). It asks for CAP_SYS_ADMIN over the caller's mount
  /// namespace's owner.
  private func fsopen(_ fstype: String, _ state: inout CallState) -> Calls.Outcome {
    Self.keeping(bw_fsopen(fstype, UInt32(BW_FSOPEN_CLOEXEC)), as: .context, &state)
  }

  /// A proc shows the pid namespace of whoever mounts it, and the helper never enters the pid
  /// namespace it unshared (only its children do). Since Linux 6.15 fsconfig(2) takes the
  /// namespace explicitly: "pidns", given as the helper's pid_for_children (ioctl(2)
  /// PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE on a pidfd of itself). The kernel checks that the
  /// caller has CAP_SYS_ADMIN in the user namespace owning that pid namespace.
  private static func fsconfigPidNamespace(_ state: CallState) -> Calls.Outcome {
    let pidfd = bw_pidfd_open(getpid(), 0)
    guard pidfd >= 0 else { return .failed(errno: errno) }
    defer { closeKeepingErrno(pidfd) }
    let nsfd = bw_pidfd_pid_for_children_ns(pidfd)
    guard nsfd >= 0 else { return .failed(errno: errno) }
    defer { closeKeepingErrno(nsfd) }
    return outcome(bw_fsconfig_fd(kept(.context, state), "pidns", nsfd))
  }

  private static func fsconfigString(_ key: String, _ value: String, _ state: CallState) -> Calls.Outcome {
    outcome(bw_fsconfig_string(kept(.context, state), key, value))
  }

  /// FSCONFIG_CMD_CREATE: the superblock is made (or, for one per namespace like mqueue's,
  /// found), with the permission checks of the file system type.
  private static func fsconfigCreate(_ state: CallState) -> Calls.Outcome {
    outcome(bw_fsconfig_create(kept(.context, state)))
  }

  /// fsmount(2): a mount of the context's superblock, attached nowhere yet. The attributes are
  /// the step's (MountRequest.flags): proc and sysfs read-only, since a box program is root on
  /// the real backend and could otherwise write the machine's settings (proc(5)).
  private static func fsmount(_ attributes: UInt32, _ state: inout CallState) -> Calls.Outcome {
    keeping(bw_fsmount(kept(.context, state), UInt32(BW_FSMOUNT_CLOEXEC), attributes), as: .newMount, &state)
  }

  /// open_tree(2) with OPEN_TREE_CLONE|AT_RECURSIVE copies the mount tree at the source (as
  /// mount(2) MS_BIND|MS_REC would) without attaching it anywhere yet.
  private static func openTreeClone(_ state: inout CallState) -> Calls.Outcome {
    let flags = UInt32(BW_OPEN_TREE_CLONE | BW_OPEN_TREE_CLOEXEC | BW_AT_RECURSIVE | BW_AT_EMPTY_PATH)
    return keeping(bw_open_tree(kept(.source, state), "", flags), as: .newMount, &state)
  }

  /// A copy of the helper's handle on host device node `n` (DevOperations.swift). A handle that
  /// could not be taken is -1: EBADF. A handle taken in another mount namespace is EINVAL: a
  /// detached copy may be copied again only from the namespace it came from (may_copy_tree in
  /// fs/namespace.c).
  private func openTreeDevice(_ n: Int, _ state: inout CallState) -> Calls.Outcome {
    let handle = n < deviceHandles.count ? deviceHandles[n] : -1
    let copy = bw_open_tree(handle, "", UInt32(BW_OPEN_TREE_CLONE | BW_OPEN_TREE_CLOEXEC | BW_AT_EMPTY_PATH))
    return Self.keeping(copy, as: .deviceCopy(n), &state)
  }

  /// mount_setattr(2): the copy is the host's own inode, which a box that is the host's root
  /// could otherwise chmod(2) or chown(2). A device on a read-only mount still reads and writes
  /// (a read-only mount refuses only changes to its files).
  private static func deviceReadOnly(_ n: Int, _ state: CallState) -> Calls.Outcome {
    let attrs = UInt64(BW_MOUNT_ATTR_RDONLY | BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NOEXEC)
    return outcome(bw_mount_setattr_fd(kept(.deviceCopy(n), state), attrs))
  }

  /// openat(2) of device node `n`'s empty file in the new tmpfs, still detached: files are made
  /// with the helper's credentials, which must be mapped in the tmpfs's user namespace
  /// (EOVERFLOW otherwise).
  private static func createDeviceFile(_ n: Int, _ state: inout CallState) -> Calls.Outcome {
    guard Framing.containerDevices.indices.contains(n) else { return .failed(errno: EINVAL) }
    let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
    let fd = openat(kept(.newMount, state), Framing.containerDevices[n].name, flags, 0o666)
    return keeping(fd, as: .deviceFile(n), &state)
  }

  private static func symlinkat(_ target: [UInt8], _ name: [UInt8], _ state: CallState) -> Calls.Outcome {
    let mountfd = kept(.newMount, state)
    return outcome(withCPath(target) { t in withCPath(name) { Glibc.symlinkat(t, mountfd, $0) } })
  }

  private static func mkdirat(_ name: [UInt8], _ state: CallState) -> Calls.Outcome {
    let mountfd = kept(.newMount, state)
    return outcome(withCPath(name) { Glibc.mkdirat(mountfd, $0, 0o755) })
  }

  /// move_mount(2) with MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH: the detached mount is
  /// attached onto the directory (or file) the descriptor names, with no lookup by name. When a
  /// later entry of the request fails, a new mount attached here is detached again (umount2(2)
  /// MNT_DETACH of it and everything on it), so a failed `mount dev` changes nothing in the box.
  private static func moveMount(_ from: MountCall.Handle, _ onto: MountCall.Handle, _ state: inout CallState)
    -> Calls.Outcome
  {
    let mountfd = kept(from, state)
    guard bw_move_mount_fds(mountfd, kept(onto, state)) == 0 else { return .failed(errno: errno) }
    // The undoers run before the request's descriptors are closed (Calls.make), so the kept
    // descriptor is still the mount's when one runs; no copy of it outlives the request (one
    // would hold the mount busy for a later umount2(2): EBUSY).
    if from == .newMount {
      state.undoers.append {
        guard inDirectory(mountfd, { Glibc.umount2(".", Int32(MNT_DETACH)) }) != 0 else { return nil }
        return "the new mount could not be detached again"
      }
    }
    return .made()
  }

  /// fchdir(2): umount2(2) takes a path, so `umount` names its last component from the parent
  /// it opened. The working directory is restored when the request ends: the box's programs
  /// inherit it.
  private static func fchdir(_ handle: MountCall.Handle, _ state: inout CallState) -> Calls.Outcome {
    let cwd = open(".", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard cwd >= 0 else { return .failed(errno: errno, note: "open(\".\")") }
    guard Glibc.fchdir(kept(handle, state)) == 0 else {
      closeKeepingErrno(cwd)
      return .failed(errno: errno)
    }
    state.atEnd.append {
      _ = Glibc.fchdir(cwd)
      _ = close(cwd)
    }
    return .made()
  }

  /// umount2(2) relative to the working directory. UMOUNT_NOFOLLOW: a last component that is a
  /// symbolic link is not followed. (Unmounting "/proc/self/fd/N" of a descriptor of the mount
  /// itself would hold the mount busy: EBUSY.)
  private static func umount2(_ path: [UInt8], _ flags: Int32) -> Calls.Outcome {
    outcome(withCPath(path) { Glibc.umount2($0, flags) })
  }

  /// The box's root mount itself: ROOT is boxwalk's own directory, not a path of the box,
  /// unmounted by its name in its parent (which an anchor reaches if a mount hides it).
  private func umountRoot(_ root: [UInt8]) -> Calls.Outcome {
    Self.outcome(umountRoot(String(decoding: root, as: UTF8.self)))
  }

  /// mkdir(2) of put_old inside the new root, which becomes the working directory first: its
  /// host path may be hidden by a mount the box made (Anchors.swift), "." never is. mkdir must
  /// make the directory: what an image put at that name could be a symbolic link (pivot_root(2)
  /// follows it, and umount2 and rmdir then act on another name than the one the old root went
  /// to) or a directory with files (rmdir fails with ENOTEMPTY once the root has changed).
  /// Undone (rmdir, back to "/") when pivot_root(2) fails.
  private func mkdir(_ rootfs: [UInt8], _ name: [UInt8], _ mode: UInt32, _ state: inout CallState)
    -> Calls.Outcome
  {
    guard let (rootfd, _) = anchors.reach(rootfs) else { return .failed(errno: errno) }
    defer { Self.closeKeepingErrno(rootfd) }
    guard Glibc.fchdir(rootfd) == 0 else { return .failed(errno: errno) }
    guard withCPath(name, { Glibc.mkdir($0, mode_t(mode)) }) == 0 else {
      let failure = errno
      _ = Glibc.chdir("/")
      return .failed(errno: failure, note: failure == EEXIST ? Self.oldRootTaken : nil)
    }
    state.undoers.append {
      _ = withCPath(name) { Glibc.rmdir($0) }
      _ = Glibc.chdir("/")
      return nil
    }
    return .made()
  }

  /// pivot_root(2) from inside the new root (the working directory, `mkdir` above): new_root
  /// must be a mount point. The kernel's answer when it is not depends on the host: EINVAL, or
  /// EBUSY when the directory is on the current root's mount (no separate /run). Checked first
  /// and answered EINVAL, the rule itself, on every host.
  private func pivotRoot(_ putOld: [UInt8], _ state: inout CallState) -> Calls.Outcome {
    if bw_is_mount_point(".") == 0 { return .failed(errno: EINVAL, note: Self.notAMountPoint) }
    guard withCPath(putOld, { bw_pivot_root(".", $0) }) == 0 else { return .failed(errno: errno) }
    // Done: the entries after this one finish the move, and none undoes the mkdir any more.
    state.undoers.removeAll()
    // The old root, and the anchors with it, are detached below: a later lookup through an
    // anchor would reach mounts of no namespace, which overlayfs refuses. Let them go.
    anchors.chrooted = false
    rootEntered = true
    anchors.dropAll()
    return .made()
  }

  /// chroot(2) into the root filesystem, named "." from inside it (as for pivot_root), then
  /// chdir("/") (the next entry of the plan).
  private func chroot(_ rootfs: [UInt8]) -> Calls.Outcome {
    guard let (rootfd, _) = anchors.reach(rootfs) else { return .failed(errno: errno) }
    defer { Self.closeKeepingErrno(rootfd) }
    guard Glibc.fchdir(rootfd) == 0 else { return .failed(errno: errno) }
    guard Glibc.chroot(".") == 0 else {
      let failure = errno
      _ = Glibc.chdir("/")
      return .failed(errno: failure)
    }
    anchors.chrooted = true
    rootEntered = true
    return .made()
  }

  /// mount(2) with MS_REC and one propagation flag on "/": every mount from the root down
  /// changes (mount_namespaces(7)).
  private static func setPropagation(_ flag: UInt32) -> Calls.Outcome {
    outcome(bw_mount(nil, "/", nil, UInt(MS_REC) | UInt(flag), nil))
  }

  // MARK: The overlay of a box's root filesystem

  /// The overlay's directories, and where it goes, are boxwalk's own (the session's scratch
  /// space, the image store), never paths of the box: each is used by name, or through an
  /// anchor when a mount the box made hides it (Anchors.swift). They are reached before
  /// fsopen(2), with the helper's credentials: a box that switched to another host uid cannot
  /// search the session's directory (EACCES), whatever it may mount, and that failure belongs to
  /// the fsconfig(2) entry that names the directory (`directories` in plan order: the lower
  /// layers, the upper, the work directory; the move_mount(2) entry is three after the last).
  private func fsopenOverlay(_ directories: [[UInt8]], _ target: [UInt8], _ state: inout CallState)
    -> Calls.Outcome
  {
    func unescaped(_ path: [UInt8]) -> [UInt8] {
      var out: [UInt8] = []
      var escape = false
      for byte in path {
        if byte == UInt8(ascii: "\\") && !escape {
          escape = true
          continue
        }
        escape = false
        out.append(byte)
      }
      return out
    }
    let lowers = directories.count - 2
    for (n, path) in (directories + [target]).enumerated() {
      // The upper and work paths are escaped for overlayfs; the lookup takes them as they are.
      let reached = anchors.reach(n >= lowers && n < directories.count ? unescaped(path) : path)
      guard let (fd, anchored) = reached else {
        // n + 1 places on: the fsconfig(2) entry of directory n; the target's is move_mount(2),
        // after the last fsconfig(2), the create and fsmount(2).
        return .failedAhead(entries: n < directories.count ? n + 1 : n + 3, errno: errno)
      }
      let name = n < directories.count ? "directory\(n)" : "overlay target"
      if anchored {
        state.keep(fd, as: name)
      } else {
        Self.closeKeepingErrno(fd)
        state.paths[name] = path
      }
    }
    return Self.keeping(bw_fsopen("overlay", UInt32(BW_FSOPEN_CLOEXEC)), as: .context, &state)
  }

  /// fsconfig(2) of one overlay directory: "lowerdir+" once per layer (Linux 6.8), so a ',' or
  /// ':' in a path can never inject another option; by descriptor (FSCONFIG_SET_FD) when a mount
  /// hides the path. After "workdir", inside a user namespace other than the initial one (a box
  /// that unshared user, or every box of the rootless backend) the "userxattr" flag: overlayfs
  /// cannot set its trusted.overlay.* marks there (only CAP_SYS_ADMIN in the initial user
  /// namespace may write trusted.* xattrs, xattr(7)), and the first removal of a lower directory
  /// would fail with EIO; "userxattr" moves the marks to user.overlay.*, as rootless podman
  /// mounts do (Documentation/filesystems/overlayfs.rst, "User xattr").
  private static func overlayDirectory(_ key: String, _ n: Int, _ state: CallState) -> Calls.Outcome {
    let fsfd = kept(.context, state)
    if let fd = state.descriptors["directory\(n)"] {
      guard bw_fsconfig_fd(fsfd, key, fd) == 0 else {
        // Before Linux 6.13 overlayfs takes its layers as strings only, and a descriptor for one
        // is EINVAL: say what was hidden, rather than leave a bare EINVAL.
        let note =
          errno == EINVAL
          ? "a mount the box made hides this directory, and this kernel takes overlay layers only by path "
            + "(FSCONFIG_SET_FD needs Linux 6.13): umount it first" : nil
        return .failed(errno: errno, note: note)
      }
    } else {
      let path = String(decoding: state.paths["directory\(n)"] ?? [], as: UTF8.self)
      guard bw_fsconfig_string(fsfd, key, path) == 0 else { return .failed(errno: errno) }
    }
    if key == "workdir" && bw_in_initial_user_namespace() == 0 {
      return outcome(bw_fsconfig_flag(fsfd, "userxattr"))
    }
    return .made()
  }

  /// move_mount(2) of the overlay onto the root filesystem's directory (the last of
  /// fsopenOverlay's): by descriptor when a mount hides it, else by name.
  private static func moveOverlayRoot(_ state: CallState) -> Calls.Outcome {
    let mountfd = kept(.newMount, state)
    if let fd = state.descriptors["overlay target"] { return outcome(bw_move_mount_fds(mountfd, fd)) }
    return outcome(withCPath(state.paths["overlay target"] ?? []) { bw_move_mount_to_path(mountfd, $0) })
  }
}
