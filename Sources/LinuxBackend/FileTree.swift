import Glibc

/// Removing directory trees, carefully: symbolic links are never followed, and removal never
/// leaves the file system it started on (so a mount, should one ever be under the tree, is not
/// emptied). Used for a box's scratch directories and partial image imports.
///
/// A box's upper layer holds whatever the box made: names that are not UTF-8, FIFOs, device
/// nodes, directories nested past PATH_MAX. So the walk goes by directory descriptors and the
/// names' own bytes (openat(2), unlinkat(2)), never by a path string rebuilt from decoded names.
///
/// The walk holds one directory descriptor at a time, however deep the tree: a box can nest
/// directories thousands deep (mkdir(2) has no depth limit, only PATH_MAX per call), and one
/// descriptor per level would run out of descriptors (RLIMIT_NOFILE, EMFILE) and leave the
/// rest behind; recursion per level would risk the stack in the same way. What each level still
/// has to do (its names not yet removed) is kept in memory instead, and the walk climbs back up
/// by opening `..` of the directory it is in. `..` is whatever directory holds this one *now*,
/// so the climb checks it is the same directory (device and inode, stat(2)) the walk came down
/// from; if something moved the tree meanwhile, the walk stops rather than remove elsewhere.
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

  /// One directory on the way down: its name in its parent, its identity, and the names in it
  /// that are still to be removed.
  private struct Level {
    let name: [CChar]
    let device: dev_t
    let inode: ino_t
    var pending: [[UInt8]]
  }

  /// Opens the directory `name` in `parentfd` if it is a real directory on `device`, first giving
  /// its owner search permission: overlayfs makes its work/work directory mode 0000. Root walks
  /// through that; an unprivileged owner (the rootless backend) must give itself permission first.
  private static func enter(_ parentfd: Int32, _ name: [CChar], device: dev_t) -> (fd: Int32, level: Level)? {
    var st = stat()
    guard fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
      st.st_dev == device
    else { return nil }
    if st.st_uid == geteuid(), st.st_mode & 0o700 != 0o700 {
      fchmodat(parentfd, name, (st.st_mode & 0o7777) | 0o700, 0)
    }
    let fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    // The directory opened must be the one just looked at (not swapped in between).
    var opened = stat()
    guard fstat(fd, &opened) == 0, opened.st_dev == st.st_dev, opened.st_ino == st.st_ino else {
      close(fd)
      return nil
    }
    let names = (try? LayerDirectory.names(fd, "")) ?? []
    return (fd, Level(name: name, device: opened.st_dev, inode: opened.st_ino, pending: names.reversed()))
  }

  /// Empties and removes the directory `name` in `parentfd`, if it is on `device`, holding at most
  /// one descriptor of the tree (two for a moment while climbing) at any depth.
  private static func removeDirectory(_ parentfd: Int32, _ name: [CChar], device: dev_t) {
    guard let (top, level) = enter(parentfd, name, device: device) else { return }
    var fd = top
    var path = [level]
    while var here = path.popLast() {
      // Remove what is left in this directory, until a subdirectory to go down into.
      var child: (fd: Int32, level: Level)?
      while child == nil, let entry = here.pending.popLast() {
        let cName = entry.map { CChar(bitPattern: $0) } + [0]
        var st = stat()
        guard fstatat(fd, cName, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
        if (st.st_mode & S_IFMT) == S_IFDIR {
          child = enter(fd, cName, device: device)
        } else {
          unlinkat(fd, cName, 0)
        }
      }
      if let (childfd, childLevel) = child {
        path.append(here)
        path.append(childLevel)
        close(fd)
        fd = childfd
        continue
      }
      // This directory is done: climb to its parent and remove it there.
      guard let parent = path.last else {
        close(fd)
        unlinkat(parentfd, here.name, AT_REMOVEDIR)
        return
      }
      let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      close(fd)
      var st = stat()
      guard up >= 0 else { return }
      guard fstat(up, &st) == 0, st.st_dev == parent.device, st.st_ino == parent.inode else {
        close(up)
        return
      }
      fd = up
      unlinkat(fd, here.name, AT_REMOVEDIR)
    }
  }
}
