import CShim
import Glibc
import HelperWire

/// `mount dev PATH`: a container's /dev, made the way runc makes it for a container in a user
/// namespace, which works as real root too: a fresh tmpfs, and in it one empty file per device
/// node with the host's node bind-mounted onto it.
///
/// Why bind mounts and not mknod(2): in a user namespace the kernel refuses mknod(2) of a device
/// (EPERM), and a file system mounted there ignores device nodes anyway (SB_I_NODEV). A bind
/// mount of a node of the host's devtmpfs keeps the host's superblock, so it opens.
///
/// Where the host's nodes come from: a bind mount (open_tree(2) with OPEN_TREE_CLONE) may be
/// made only of a mount of the caller's own mount namespace, or of a detached copy made from it
/// (may_copy_tree in fs/namespace.c). After pivot_root(2) the host's /dev is gone from the box's
/// namespace. So the helper takes a handle of each node, a detached copy, right when the box
/// gets a mount namespace of its own (unshare or join, while its root is still the host's "/"
/// and before the box could mount anything there), and `mount dev` copies those handles again.
/// Each handle is checked to be the character device it should be (major, minor): what is at
/// /dev/null in a namespace another box joined is still the host's, but boxwalk checks anyway.
extension BoxOperations {
  /// Takes a handle of each of the host's device nodes, in the helper's current mount namespace,
  /// if its root is still the host's; otherwise the old handles stay (of another namespace:
  /// copying them fails with EINVAL, as the kernel says).
  func takeDeviceHandles() {
    guard !rootEntered else { return }
    for fd in deviceHandles where fd >= 0 { close(fd) }
    deviceHandles = Framing.containerDevices.map { device in
      let root = open("/", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
      guard root >= 0 else { return -1 }
      defer { close(root) }
      let node = bw_openat2(root, "dev/" + device.name, BW_O_PATH | O_CLOEXEC, 0, Self.resolveInBox)
      guard node >= 0 else { return -1 }
      defer { close(node) }
      let handle = bw_open_tree(node, "", UInt32(BW_OPEN_TREE_CLONE | BW_OPEN_TREE_CLOEXEC | BW_AT_EMPTY_PATH))
      guard handle >= 0 else { return -1 }
      var st = stat()
      guard fstat(handle, &st) == 0, st.st_mode & S_IFMT == S_IFCHR,
        bw_major(UInt64(st.st_rdev)) == device.major, bw_minor(UInt64(st.st_rdev)) == device.minor
      else {
        close(handle)
        return -1
      }
      return handle
    }
  }

  /// The calls, in the order the step prints them (Step.devPlan): the openat2(2) of the target
  /// is call 0, the copies 1..., then the tmpfs, its contents, its attachment, the nodes'.
  func mountDev(root: String, target: [UInt8]) -> HelperReply {
    let devices = Framing.containerDevices
    var call = 0
    func failed(_ errno: Int32) -> HelperReply { .err(errno: errno, call: .planEntry(call), note: nil) }
    let targetfd = openInBox(root: root, target)
    guard targetfd >= 0 else { return failed(errno) }
    defer { Self.closeKeepingErrno(targetfd) }
    var copies: [Int32] = []
    defer { for fd in copies { Self.closeKeepingErrno(fd) } }
    for i in devices.indices {
      call += 1
      // A handle that could not be taken is -1: EBADF, unless the capability check comes first.
      let handle = i < deviceHandles.count ? deviceHandles[i] : -1
      let copy = bw_open_tree(handle, "", UInt32(BW_OPEN_TREE_CLONE | BW_OPEN_TREE_CLOEXEC | BW_AT_EMPTY_PATH))
      guard copy >= 0 else { return failed(errno) }
      copies.append(copy)
      call += 1
      // Read-only: the copy is the host's own inode, which a box that is the host's root could
      // otherwise chmod(2) or chown(2). A device on a read-only mount still reads and writes.
      let attrs = UInt64(BW_MOUNT_ATTR_RDONLY | BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NOEXEC)
      guard bw_mount_setattr_fd(copy, attrs) == 0 else { return failed(errno) }
    }
    call += 1
    let fsfd = bw_fsopen("tmpfs", UInt32(BW_FSOPEN_CLOEXEC))
    guard fsfd >= 0 else { return failed(errno) }
    defer { Self.closeKeepingErrno(fsfd) }
    call += 1
    // 0755, not tmpfs's default 1777: only the box's root makes files in its /dev.
    guard bw_fsconfig_string(fsfd, "mode", "0755") == 0 else { return failed(errno) }
    call += 1
    guard bw_fsconfig_create(fsfd) == 0 else { return failed(errno) }
    call += 1
    // nodev: a node the box makes in this tmpfs with mknod(2) opens nothing. The bound nodes are
    // mounts of their own, of the host's devtmpfs, which this flag does not touch.
    let mountfd = bw_fsmount(
      fsfd, UInt32(BW_FSMOUNT_CLOEXEC), UInt32(BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC))
    guard mountfd >= 0 else { return failed(errno) }
    defer { Self.closeKeepingErrno(mountfd) }
    // Filled while detached: nothing in the box changes until it is attached.
    var files: [Int32] = []
    defer { for fd in files { Self.closeKeepingErrno(fd) } }
    for device in devices {
      call += 1
      let fd = openat(mountfd, device.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
      guard fd >= 0 else { return failed(errno) }
      files.append(fd)
    }
    for link in Framing.containerDevLinks {
      call += 1
      guard symlinkat(link.target, mountfd, link.name) == 0 else { return failed(errno) }
    }
    for directory in Framing.containerDevDirectories {
      call += 1
      guard mkdirat(mountfd, directory, 0o755) == 0 else { return failed(errno) }
    }
    call += 1
    guard bw_move_mount_fds(mountfd, targetfd) == 0 else { return failed(errno) }
    for i in devices.indices {
      call += 1
      guard bw_move_mount_fds(copies[i], files[i]) == 0 else {
        let failure = errno
        // Undo: detach the tmpfs and what is mounted in it, so the step changes nothing.
        _ = Self.inDirectory(mountfd) {
          umount2(".", Int32(MNT_DETACH)) == 0 ? .ok([]) : .err(errno: errno, call: .umount2, note: nil)
        }
        return failed(failure)
      }
    }
    return .ok([])
  }
}
