import Glibc

/// Removing directory trees, carefully: symbolic links are never followed, and removal never
/// leaves the file system it started on (so a mount, should one ever be under the tree, is not
/// emptied). Used for a box's scratch directories and partial image imports.
///
/// A box's upper layer holds whatever the box made: names that are not UTF-8, FIFOs, device
/// nodes, directories nested past PATH_MAX. So the walk goes by directory descriptors and the
/// names' own bytes (openat(2), unlinkat(2)), never by a path string rebuilt from decoded names.
enum FileTree {
  /// rm -r --one-file-system, without following symbolic links. Missing is fine (idempotent).
  static func remove(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    guard (st.st_mode & S_IFMT) == S_IFDIR else {
      unlink(path)
      return
    }
    let parent = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let name = String(path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...])
    let parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard parentfd >= 0 else { return }
    defer { close(parentfd) }
    removeDirectory(parentfd, Array(name.utf8CString), device: st.st_dev)
  }

  /// Empties and removes the directory `name` in `parentfd`, if it is on `device`.
  private static func removeDirectory(_ parentfd: Int32, _ name: [CChar], device: dev_t) {
    var st = stat()
    guard fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_dev == device else { return }
    // overlayfs makes its work/work directory mode 0000. Root walks through that; an
    // unprivileged owner (the rootless backend) must give itself permission first.
    if st.st_uid == geteuid(), st.st_mode & 0o700 != 0o700 {
      fchmodat(parentfd, name, (st.st_mode & 0o7777) | 0o700, 0)
    }
    let fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return }
    for entry in (try? LayerDirectory.names(fd, "")) ?? [] {
      let cName = entry.map { CChar(bitPattern: $0) } + [0]
      var child = stat()
      guard fstatat(fd, cName, &child, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
      if (child.st_mode & S_IFMT) == S_IFDIR {
        removeDirectory(fd, cName, device: device)
      } else {
        unlinkat(fd, cName, 0)
      }
    }
    close(fd)
    unlinkat(parentfd, name, AT_REMOVEDIR)
  }
}
