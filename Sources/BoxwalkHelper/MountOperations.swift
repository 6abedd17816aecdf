import CShim
import Glibc
import HelperWire

/// `mount` and `umount` inside the box, on file descriptors.
///
/// mount(2) takes paths, and the kernel resolves a path through the caller's root. Before
/// pivot-root the helper's root is the host's "/": a symbolic link in the box's image such as
/// `hostetc -> /etc` would then lead a bind mount to the host's /etc. So every path the box can
/// influence is opened with openat2(2) beneath a descriptor of the box's root, with
/// RESOLVE_IN_ROOT ("/" and ".." stop at that root, as if chrooted there) and RESOLVE_NO_SYMLINKS
/// (no symbolic link is followed at all: ELOOP), the same rule the file commands follow. The
/// mount is then made with the new mount API (fsopen(2), fsmount(2), open_tree(2)) and attached
/// with move_mount(2) onto the descriptor itself, so nothing is looked up by name a second time.
extension BoxOperations {
  static let resolveInBox = UInt64(BW_RESOLVE_IN_ROOT | BW_RESOLVE_NO_SYMLINKS)

  /// An O_PATH descriptor of the directory `path` (a box path, "/...", as the bytes of its names:
  /// a name need not be UTF-8), resolved beneath `root`.
  /// `root` itself is boxwalk's own directory (the box's root filesystem) or "/", never a path
  /// the box chose, so opening it by name is safe; a root filesystem hidden by a mount the box
  /// made is reached through the helper's anchor (Anchors.swift).
  func openInBox(root: String, _ path: [UInt8]) -> Int32 {
    guard let (rootfd, _) = anchors.reach(Array(root.utf8)) else { return -1 }
    defer { Self.closeKeepingErrno(rootfd) }
    return bw_openat2(rootfd, path.map { CChar(bitPattern: $0) } + [0], BW_O_PATH | O_DIRECTORY, 0, Self.resolveInBox)
  }

  func mount(kind: HelperRequest.MountKind, root: String, source: [UInt8], target: [UInt8]) -> HelperReply {
    // A container's /dev is many calls, not one mount: DevOperations.swift.
    if kind == .dev { return mountDev(root: root, target: target) }
    let targetfd = openInBox(root: root, target)
    guard targetfd >= 0 else { return .err(errno: errno, call: .openat2(.target), note: nil) }
    defer { Self.closeKeepingErrno(targetfd) }
    let detached: Result<Int32, Failure>
    switch kind {
    case .proc: detached = Self.procMount()
    case .sysfs:
      // Read-only, as proc (procMount): see Mounts.swift, MountRequest.flags.
      detached = Self.newMount(
        "sysfs", attrs: BW_MOUNT_ATTR_RDONLY | BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC)
    case .tmpfs: detached = Self.newMount("tmpfs", attrs: BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV)
    case .mqueue:
      // The mqueue file system of the helper's IPC namespace (the one fsopen is called in).
      detached = Self.newMount("mqueue", attrs: BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC)
    case .bind: detached = bindMount(root: root, source: source)
    case .dev: return mountDev(root: root, target: target)  // answered above, before the target opens
    }
    switch detached {
    case .failure(let failure): return .err(errno: failure.errno, call: failure.call, note: nil)
    case .success(let mountfd):
      defer { Self.closeKeepingErrno(mountfd) }
      // move_mount(2): attach the detached mount on the directory targetfd names.
      return bw_move_mount_fds(mountfd, targetfd) == 0 ? .done : .err(errno: errno, call: .moveMount, note: nil)
    }
  }

  /// A failed call of a mount's sequence: the errno and the call's name as the helper reports it.
  struct Failure: Error {
    let errno: Int32
    let call: FailedCall
  }

  /// fsopen(2), fsconfig(FSCONFIG_CMD_CREATE), fsmount(2): a new file system of type `fstype` as a
  /// detached mount descriptor.
  static func newMount(_ fstype: String, attrs: Int32, configure: (Int32) -> Failure? = { _ in nil })
    -> Result<Int32, Failure>
  {
    let fsfd = bw_fsopen(fstype, UInt32(BW_FSOPEN_CLOEXEC))
    guard fsfd >= 0 else { return .failure(Failure(errno: errno, call: .fsopen)) }
    defer { closeKeepingErrno(fsfd) }
    if let failure = configure(fsfd) { return .failure(failure) }
    guard bw_fsconfig_create(fsfd) == 0 else {
      return .failure(Failure(errno: errno, call: .fsconfig(.create)))
    }
    let mountfd = bw_fsmount(fsfd, UInt32(BW_FSMOUNT_CLOEXEC), UInt32(attrs))
    return mountfd >= 0 ? .success(mountfd) : .failure(Failure(errno: errno, call: .fsmount))
  }

  /// A proc that shows the box's pid namespace. A process never enters the pid namespace it
  /// unshared (only its children do), so proc mounted the usual way would show the helper's own,
  /// the host's. Since Linux 6.15 fsconfig(2) takes the namespace explicitly: "pidns", given as
  /// the helper's pid_for_children (ioctl(2) PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE on a pidfd).
  static func procMount() -> Result<Int32, Failure> {
    let pidfd = bw_pidfd_open(getpid(), 0)
    guard pidfd >= 0 else { return .failure(Failure(errno: errno, call: .fsconfig(.set(key: "pidns")))) }
    defer { closeKeepingErrno(pidfd) }
    let nsfd = bw_pidfd_pid_for_children_ns(pidfd)
    guard nsfd >= 0 else { return .failure(Failure(errno: errno, call: .fsconfig(.set(key: "pidns")))) }
    defer { closeKeepingErrno(nsfd) }
    // Read-only: a box program is root on the real backend, and through a writable proc it
    // could write the machine's own settings (/proc/sys, /proc/sysrq-trigger; proc(5)).
    let attrs = BW_MOUNT_ATTR_RDONLY | BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC
    return newMount("proc", attrs: attrs) { fsfd in
      bw_fsconfig_fd(fsfd, "pidns", nsfd) == 0 ? nil : Failure(errno: errno, call: .fsconfig(.set(key: "pidns")))
    }
  }

  /// A bind mount as a descriptor: open_tree(2) with OPEN_TREE_CLONE|AT_RECURSIVE copies the mount
  /// tree at the source (as mount(2) MS_BIND|MS_REC would) without attaching it anywhere yet.
  func bindMount(root: String, source: [UInt8]) -> Result<Int32, Failure> {
    let sourcefd = openInBox(root: root, source)
    guard sourcefd >= 0 else { return .failure(Failure(errno: errno, call: .openat2(.source))) }
    defer { Self.closeKeepingErrno(sourcefd) }
    let flags = UInt32(BW_OPEN_TREE_CLONE | BW_OPEN_TREE_CLOEXEC | BW_AT_RECURSIVE | BW_AT_EMPTY_PATH)
    let treefd = bw_open_tree(sourcefd, "", flags)
    return treefd >= 0 ? .success(treefd) : .failure(Failure(errno: errno, call: .openTree))
  }

  /// umount2(2) needs a path, so the parent directory is resolved beneath the box's root, made
  /// the working directory for a moment, and the last name is unmounted relative to it with
  /// UMOUNT_NOFOLLOW: no name is looked up through the host's root, and no link is followed.
  /// (Unmounting "/proc/self/fd/N" of a descriptor of the mount itself would hold the mount busy:
  /// EBUSY.) The working directory is restored afterwards: the box's programs inherit it.
  func umount(root: String, path: [UInt8]) -> HelperReply {
    if path == [UInt8(ascii: "/")] {
      // The box's root mount itself: `root` is boxwalk's own directory, not a path of the box,
      // unmounted by its name in its parent (which an anchor reaches if a mount hides it).
      let rootBytes = Array(root.utf8)
      let cut = rootBytes.lastIndex(of: UInt8(ascii: "/")) ?? 0
      guard cut > 0, let (parentfd, _) = anchors.reach(Array(rootBytes[..<cut])) else {
        return umount2(root, BW_UMOUNT_NOFOLLOW) == 0 ? .done : .err(errno: errno, call: .umount2, note: nil)
      }
      defer { Self.closeKeepingErrno(parentfd) }
      return Self.inDirectory(parentfd) {
        withCPath(Array(rootBytes[(cut + 1)...])) { umount2($0, BW_UMOUNT_NOFOLLOW) } == 0
          ? .done : .err(errno: errno, call: .umount2, note: nil)
      }
    }
    let slash = path.lastIndex(of: UInt8(ascii: "/")) ?? 0
    let parent = slash == 0 ? [UInt8(ascii: "/")] : Array(path[..<slash])
    let name = path[(slash + 1)...].map { CChar(bitPattern: $0) } + [0]
    let parentfd = openInBox(root: root, parent)
    guard parentfd >= 0 else { return .err(errno: errno, call: .openat2(nil), note: nil) }
    defer { Self.closeKeepingErrno(parentfd) }
    return Self.inDirectory(parentfd) {
      umount2(name, BW_UMOUNT_NOFOLLOW) == 0 ? .done : .err(errno: errno, call: .umount2, note: nil)
    }
  }

  /// `body` run with `dirfd` as the working directory, which is restored afterwards: the box's
  /// programs inherit it.
  static func inDirectory(_ dirfd: Int32, _ body: () -> HelperReply) -> HelperReply {
    let cwd = open(".", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard cwd >= 0 else { return .err(errno: errno, call: .fchdir, note: "open(\".\")") }
    defer {
      _ = fchdir(cwd)
      closeKeepingErrno(cwd)
    }
    guard fchdir(dirfd) == 0 else { return .err(errno: errno, call: .fchdir, note: nil) }
    return body()
  }

  static func closeKeepingErrno(_ fd: Int32) {
    let saved = errno
    close(fd)
    errno = saved
  }
}
