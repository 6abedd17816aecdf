import Glibc

/// Removing directory trees, carefully: symbolic links are never followed, and removal never
/// leaves the file system it started on (so a mount, should one ever be under the tree, is not
/// emptied). Used for a box's scratch directories and partial image imports.
enum FileTree {
  /// rm -r --one-file-system, without following symbolic links. Missing is fine (idempotent).
  static func remove(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    removeEntry(path, device: st.st_dev)
  }

  private static func removeEntry(_ path: String, device: dev_t) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      guard st.st_dev == device else { return }  // another file system is mounted here: not ours
      // overlayfs makes its work/work directory mode 0000. Root walks through that; an
      // unprivileged owner (the rootless backend) must give itself permission first.
      if st.st_uid == geteuid(), st.st_mode & 0o700 != 0o700 { chmod(path, (st.st_mode & 0o7777) | 0o700) }
      for name in (try? SmallFiles.list(path)) ?? [] { removeEntry(path + "/" + name, device: device) }
      rmdir(path)
    } else {
      unlink(path)
    }
  }
}
