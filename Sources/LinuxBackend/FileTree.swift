import Glibc

/// Removing directory trees, carefully: symbolic links are never followed, and removal never
/// leaves the file system it started on (so a mount, should one ever be under the tree, is not
/// emptied). Used for a box's scratch directories and partial image imports.
///
/// The walk goes by directory descriptor and raw name bytes (openat(2), unlinkat(2) with the
/// d_name readdir(3) gives): a name that is not UTF-8, which a box may well create, cannot be
/// turned into a String and back, so a walk by path strings left such files (and their
/// directories) behind. Working relative to an open directory also means a directory swapped for
/// a symbolic link half-way cannot send the walk elsewhere.
enum FileTree {
  /// rm -r --one-file-system, without following symbolic links. Missing is fine (idempotent).
  static func remove(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    guard st.st_mode & S_IFMT == S_IFDIR else {
      unlink(path)
      return
    }
    makeSearchable(at: AT_FDCWD, path, st)
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd >= 0 {
      removeChildren(of: fd, device: st.st_dev)
      close(fd)
    }
    rmdir(path)
  }

  /// overlayfs makes its work/work directory mode 0000. Root walks through that; an unprivileged
  /// owner (the rootless backend) must give itself permission first.
  private static func makeSearchable(at dirfd: Int32, _ name: UnsafePointer<CChar>, _ st: stat) {
    if st.st_uid == geteuid(), st.st_mode & 0o700 != 0o700 {
      fchmodat(dirfd, name, (st.st_mode & 0o7777) | 0o700, 0)
    }
  }

  private static func removeChildren(of dirfd: Int32, device: dev_t) {
    for name in names(in: dirfd) {
      name.withUnsafeBufferPointer { buffer in
        guard let cName = buffer.baseAddress else { return }
        var st = stat()
        guard fstatat(dirfd, cName, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
          guard st.st_dev == device else { return }  // another file system is mounted here: not ours
          makeSearchable(at: dirfd, cName, st)
          let child = openat(dirfd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
          if child >= 0 {
            removeChildren(of: child, device: device)
            close(child)
          }
          unlinkat(dirfd, cName, AT_REMOVEDIR)
        } else {
          unlinkat(dirfd, cName, 0)
        }
      }
    }
  }

  /// The entries of a directory as NUL-terminated byte strings, "." and ".." left out. Read
  /// through a duplicate descriptor: closedir(3) closes the one it was given.
  private static func names(in dirfd: Int32) -> [[CChar]] {
    let copy = dup(dirfd)
    guard copy >= 0, let dir = fdopendir(copy) else {
      if copy >= 0 { close(copy) }
      return []
    }
    defer { closedir(dir) }
    var out: [[CChar]] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [CChar] in
        let bytes = raw.bindMemory(to: CChar.self)
        return Array(bytes.prefix { $0 != 0 }) + [0]
      }
      if name == [46, 0] || name == [46, 46, 0] { continue }
      out.append(name)
    }
    return out
  }
}
