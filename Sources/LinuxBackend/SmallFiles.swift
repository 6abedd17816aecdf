import Glibc

/// Whole-file reads of small files (/proc entries, the ledger), atomic replacement, directory
/// listings: the few file operations the backend needs, with plain system calls (no Foundation in
/// the hot path, which every step's state read is: BENCHMARKS.md).
package enum SmallFiles {
  /// The most `read` returns: far more than any /proc or cgroup file, ledger or image index
  /// boxwalk reads (a mountinfo of ten thousand mounts is about 1.5 MiB).
  package static let sizeLimit = 16 << 20

  /// read(2) the whole file, which must be a regular file of at most `sizeLimit` bytes.
  ///
  /// What is read here can sit where a box or another local user could put something else: a
  /// ledger in a state directory, a file under a box's scratch tree. So the file is opened with
  /// O_NONBLOCK (a FIFO would otherwise block open(2) until a writer comes, fifo(7)) and
  /// O_NOFOLLOW (a symbolic link as the last name is refused with ELOOP, open(2)); fstat(2) then
  /// refuses anything but a regular file, so no device is read (/dev/zero never ends); and the
  /// read stops past the limit even if the file grows meanwhile (/proc files say size 0, so the
  /// size fstat gives cannot be trusted alone). Links earlier in the path are followed:
  /// /proc/self is one.
  package static func read(_ path: String) throws(SystemCallError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY)
    guard fd >= 0 else {
      let failure = errno
      let note = failure == ELOOP ? ": a symbolic link, not followed" : ""
      throw SystemCallError(call: "open(\(quoted(path)))\(note)", errno: failure)
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SystemCallError(call: "fstat(\(quoted(path)))", errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else {
      throw SystemCallError(call: "fstat(\(quoted(path))): not a regular file", errno: EINVAL)
    }
    let tooBig = SystemCallError(
      call: "read(\(quoted(path))): more than the \(sizeLimit >> 20) MiB boxwalk reads of such a file", errno: EFBIG)
    guard st.st_size <= sizeLimit else { throw tooBig }
    // O_NONBLOCK stays set: a regular file ignores it (open(2)), and nothing else got this far.
    let bytes = try FileDescriptors.readAll(fd, shown: quoted(path), limit: sizeLimit + 1, chunk: 4096)
    guard bytes.count <= sizeLimit else { throw tooBig }
    return bytes
  }

  package static func readText(_ path: String) throws(SystemCallError) -> String {
    String(decoding: try read(path), as: UTF8.self)
  }

  /// Replace `path` with `text` so that a reader sees the old file or the new one, never a
  /// half-written one, through a new temporary file (see SafeFiles). `durable` also fsync(2)s it
  /// first, so the new text survives a crash of the machine, not only of this process.
  static func replace(_ path: String, with text: String, durable: Bool = true) throws(SystemCallError) {
    try SafeFiles.replace(path, with: Array(text.utf8), mode: 0o600, durable: durable)
  }

  /// The names in a directory (readdir(3)), without "." and "..".
  package static func list(_ directory: String) throws(SystemCallError) -> [String] {
    guard let dir = opendir(directory) else {
      throw SystemCallError(call: "opendir(\(quoted(directory)))", errno: errno)
    }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// readlinkat(2) of `path`, beneath `dirfd` when it is given.
  static func readLink(_ path: String, in dirfd: Int32 = AT_FDCWD) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let n = readlinkat(dirfd, path, &buffer, buffer.count)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// A path as strace prints it.
  static func quoted(_ path: String) -> String { "\"" + path + "\"" }
}
