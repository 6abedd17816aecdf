import Glibc

/// Copying and removing directory trees, carefully: symbolic links are copied as links and never
/// followed, and removal never leaves the file system it started on (so a mount, should one ever
/// be under the tree, is not emptied). Used for a box's private copy of an image.
enum FileTree {
  /// Copies `source` to `destination` (which must not exist): directories, regular files (with
  /// their mode) and symbolic links. Other file types are skipped.
  static func copy(_ source: String, to destination: String) throws(SystemCallError) {
    var st = stat()
    guard lstat(source, &st) == 0 else { throw SystemCallError(call: "lstat(\(SmallFiles.quoted(source)))", errno: errno) }
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
      guard mkdir(destination, st.st_mode & 0o7777) == 0 else {
        throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(destination)))", errno: errno)
      }
      for name in try SmallFiles.list(source) { try copy(source + "/" + name, to: destination + "/" + name) }
    case S_IFLNK:
      guard let target = SmallFiles.readLink(source), symlink(target, destination) == 0 else {
        throw SystemCallError(call: "symlink(\(SmallFiles.quoted(destination)))", errno: errno)
      }
    case S_IFREG:
      try copyFile(source, to: destination, mode: st.st_mode & 0o7777)
    default:
      return
    }
  }

  /// sendfile(2) copies inside the kernel, from the page cache to the new file, without a trip
  /// through user space (and works between file systems, where copy_file_range(2) may not); a
  /// read/write loop is the fallback for a source it refuses.
  static func copyFile(_ source: String, to destination: String, mode: mode_t) throws(SystemCallError) {
    let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard input >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(source)))", errno: errno) }
    defer { close(input) }
    let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
    guard output >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(destination)))", errno: errno) }
    defer { close(output) }
    var sent = 0
    while true {
      let n = sendfile(output, input, nil, 1 << 30)
      if n < 0 && errno == EINTR { continue }
      if n == 0 { return }
      if n < 0 {
        // Nothing sent yet and the kernel cannot do it this way: copy through user space.
        guard sent == 0, errno == EINVAL || errno == ENOSYS else {
          throw SystemCallError(call: "sendfile(\(SmallFiles.quoted(destination)))", errno: errno)
        }
        break
      }
      sent += n
    }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemCallError(call: "read(\(SmallFiles.quoted(source)))", errno: errno) }
      if n == 0 { return }
      var written = 0
      while written < n {
        let w = buffer.withUnsafeBytes { write(output, $0.baseAddress.map { $0 + written }, n - written) }
        if w < 0 && errno == EINTR { continue }
        guard w > 0 else { throw SystemCallError(call: "write(\(SmallFiles.quoted(destination)))", errno: errno) }
        written += w
      }
    }
  }

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
