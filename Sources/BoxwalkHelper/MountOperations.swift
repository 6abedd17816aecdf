import CShim
import Glibc
import HelperWire

/// Mounts inside the box, on file descriptors (the calls themselves: MountCalls.swift).
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

  /// umount2(2) with UMOUNT_NOFOLLOW of the box's root mount itself: `root` is boxwalk's own
  /// directory, not a path of the box, unmounted by its name in its parent (which an anchor
  /// reaches if a mount hides it). The working directory is restored afterwards. 0, or -1 and
  /// errno.
  func umountRoot(_ root: String) -> Int32 {
    let rootBytes = Array(root.utf8)
    let cut = rootBytes.lastIndex(of: UInt8(ascii: "/")) ?? 0
    guard cut > 0, let (parentfd, _) = anchors.reach(Array(rootBytes[..<cut])) else {
      return umount2(root, BW_UMOUNT_NOFOLLOW)
    }
    defer { Self.closeKeepingErrno(parentfd) }
    return Self.inDirectory(parentfd) {
      withCPath(Array(rootBytes[(cut + 1)...])) { umount2($0, BW_UMOUNT_NOFOLLOW) }
    }
  }

  /// `body` (a system call: 0, or -1 and errno) run with `dirfd` as the working directory, which
  /// is restored afterwards: the box's programs inherit it.
  static func inDirectory(_ dirfd: Int32, _ body: () -> Int32) -> Int32 {
    let cwd = open(".", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard cwd >= 0 else { return -1 }
    defer {
      let saved = errno
      _ = fchdir(cwd)
      close(cwd)
      errno = saved
    }
    guard fchdir(dirfd) == 0 else { return -1 }
    return body()
  }

  static func closeKeepingErrno(_ fd: Int32) {
    let saved = errno
    close(fd)
    errno = saved
  }
}
