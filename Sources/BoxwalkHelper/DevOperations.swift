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
/// The step's entries (copies, the tmpfs, its files, the attachments) are made one by one in
/// MountCalls.swift, in the order Step.devPlan lists them.
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
}
