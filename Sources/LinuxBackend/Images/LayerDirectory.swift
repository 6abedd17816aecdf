import CShim
import Glibc
import Kernel

/// Reading a directory tree into a layer, and writing a layer out as a directory: the two ends
/// of every layer on disk. Both work through directory file descriptors and never follow a
/// symbolic link (docs/security.md, "The image store"): a link in a layer is content, never a way
/// out.
enum LayerDirectory {
  /// The overlayfs xattr that marks an opaque directory (overlayfs.rst).
  static let opaqueXattr = "trusted.overlay.opaque"
  /// The same mark of an overlay mounted with "userxattr": the helper mounts so inside a user
  /// namespace other than the initial one, where trusted.* xattrs cannot be set (overlayfs.rst,
  /// "User xattr").
  static let userOpaqueXattr = "user.overlay.opaque"

  /// Whether the directory `fd` carries overlayfs's opaque mark, under either name.
  static func isOpaque(_ fd: Int32) -> Bool {
    for name in [opaqueXattr, userOpaqueXattr] {
      var value = [UInt8](repeating: 0, count: 4)
      if bw_fgetxattr(fd, name, &value, value.count) == 1 && value[0] == UInt8(ascii: "y") { return true }
    }
    return false
  }

  struct Options {
    /// Read regular files' bytes (for a tar); a listing needs only the kinds.
    var contents: Bool
    /// Turn overlayfs's marks into layer entries: a character device 0/0 is a whiteout, the
    /// opaque xattr makes an opaque directory (the upper layer, and extracted lower layers).
    var overlayMarks: Bool
    /// The most bytes of file content read in total.
    var maxBytes = 256 << 20
    /// Stay on the root's file system (`box export`): a directory that is a mount point (the
    /// box's /proc, a tmpfs) is kept, empty, as the place to mount on, and not entered.
    var oneFileSystem = false
  }

  /// Reads the tree at `root`. A listing (no `contents`) must survive anything a box can put in
  /// its upper layer: a FIFO, a socket or a device node is listed by its kind and never opened, a
  /// name that is not UTF-8 is kept escaped (`FileName`), and directories deeper than
  /// `LayerContents.depthLimit` are not followed (their entries one level below the limit are
  /// listed, so `LayerContents.limited()` can mark the directory). With `contents` (image import,
  /// commit) the tree becomes a layer: such entries are refused with the reason instead.
  static func read(_ root: String, _ options: Options) throws(SystemCallError) -> LayerContents {
    let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      throw SystemCallError(call: "open(\(SmallFiles.quoted(root)), O_DIRECTORY|O_NOFOLLOW)", errno: errno)
    }
    defer { close(fd) }
    var layer = LayerContents()
    var total = 0
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SystemCallError(call: "fstat(\(SmallFiles.quoted(root)))", errno: errno) }
    try walk(fd, "", options, &layer, &total, depth: 0, device: st.st_dev)
    return layer
  }

  /// Lists the directory `dirfd` (at `path`, `depth` names below the root) into `layer`.
  private static func walk(
    _ dirfd: Int32, _ path: String, _ options: Options, _ layer: inout LayerContents, _ total: inout Int, depth: Int,
    device: dev_t
  ) throws(SystemCallError) {
    if options.contents {
      guard depth < LayerContents.depthLimit else {
        throw SystemCallError(
          call: "openat(\(SmallFiles.quoted(path))): deeper than \(LayerContents.depthLimit) levels", errno: ELOOP)
      }
    }
    for raw in try names(dirfd, path) {
      let name = FileName.escaped(raw)
      let child = path + "/" + name
      // The kernel gets the name's own bytes, never the escaped text.
      let cName = raw.map { CChar(bitPattern: $0) } + [0]
      if options.contents, name != String(decoding: raw, as: UTF8.self) {
        throw SystemCallError(
          call: "readdir(\(SmallFiles.quoted(child))): a name that is not plain UTF-8 text", errno: EILSEQ)
      }
      var st = stat()
      guard fstatat(dirfd, cName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
        // Gone since readdir (a box process removed it): it is not there to list.
        if errno == ENOENT && !options.contents { continue }
        throw SystemCallError(call: "fstatat(\(SmallFiles.quoted(child)))", errno: errno)
      }
      let mode = UInt32(st.st_mode & 0o7777)
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        // Directories only: overlayfs may report a file's st_dev as its layer's.
        if options.oneFileSystem && st.st_dev != device {
          layer[child] = LayerEntry(path: child, kind: .directory(opaque: false), mode: mode)
          continue
        }
        guard options.contents || depth + 1 <= LayerContents.depthLimit else {
          // One level below the limit: listed, not followed.
          layer[child] = LayerEntry(path: child, kind: .directory(opaque: false), mode: mode)
          continue
        }
        let fd = openat(dirfd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
          if (errno == ENOENT || errno == ENOTDIR) && !options.contents { continue }
          throw SystemCallError(call: "openat(\(SmallFiles.quoted(child)))", errno: errno)
        }
        defer { close(fd) }
        let opaque = options.overlayMarks && isOpaque(fd)
        layer[child] = LayerEntry(path: child, kind: .directory(opaque: opaque), mode: mode)
        try walk(fd, child, options, &layer, &total, depth: depth + 1, device: device)
      case S_IFREG:
        var bytes: [UInt8] = []
        if options.contents {
          guard Int(st.st_size) <= options.maxBytes - total else {
            throw SystemCallError(call: "read(\(SmallFiles.quoted(child)))", errno: EFBIG)
          }
          // What is read counts, not what fstatat said: the file may grow in between.
          bytes = try readFile(dirfd, name, child, limit: options.maxBytes - total)
          total += bytes.count
        }
        layer[child] = LayerEntry(path: child, kind: .file(bytes), mode: mode)
      case S_IFLNK:
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlinkat(dirfd, cName, &buffer, buffer.count)
        guard n > 0 else { throw SystemCallError(call: "readlinkat(\(SmallFiles.quoted(child)))", errno: errno) }
        let target = buffer[0..<n].map { UInt8(bitPattern: $0) }
        layer[child] = LayerEntry(
          path: child,
          kind: .symlink(target: options.contents ? String(decoding: target, as: UTF8.self) : FileName.escaped(target)),
          mode: 0o777)
      case S_IFCHR where options.overlayMarks && bw_is_whiteout_device(UInt64(st.st_rdev)) == 1:
        layer[child] = LayerEntry(path: child, kind: .whiteout, mode: 0)
      default:
        guard !options.contents else {
          // Devices, FIFOs and sockets are not layer content (a device node in an image is a
          // way to the host's hardware; runc makes /dev itself).
          throw SystemCallError(
            call:
              "fstatat(\(SmallFiles.quoted(child))): a \(specialKind(st.st_mode)), not a file, directory or symbolic link",
            errno: EINVAL)
        }
        layer[child] = LayerEntry(path: child, kind: .special(specialKind(st.st_mode)), mode: mode)
      }
    }
  }

  /// What stat(2)'s file type names, for the entries a layer does not carry.
  static func specialKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: "fifo"
    case S_IFSOCK: "socket"
    case S_IFCHR: "char device"
    case S_IFBLK: "block device"
    default: "unknown file type"
    }
  }

  /// The names in a directory, as the bytes the kernel gave (d_name), in byte order.
  static func names(_ dirfd: Int32, _ path: String) throws(SystemCallError) -> [[UInt8]] {
    let copy = dup(dirfd)
    guard copy >= 0, let dir = fdopendir(copy) else {
      throw SystemCallError(call: "fdopendir(\(SmallFiles.quoted(path.isEmpty ? "/" : path)))", errno: errno)
    }
    defer { closedir(dir) }
    var out: [[UInt8]] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name != [0x2e] && name != [0x2e, 0x2e] { out.append(name) }
    }
    return out.sorted { $0.lexicographicallyPrecedes($1) }
  }

  /// A regular file's bytes, at most `limit` of them (EFBIG past that). A box's processes or
  /// another user may change the directory while it is read, so what fstatat(2) saw is checked
  /// again on the open descriptor: O_NONBLOCK keeps open(2) of a FIFO put there in the meantime
  /// from waiting for a writer (fifo(7)), and fstat(2) then refuses anything but a regular file.
  static func readFile(_ dirfd: Int32, _ name: String, _ shown: String, limit: Int) throws(SystemCallError)
    -> [UInt8]
  {
    let fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: "openat(\(SmallFiles.quoted(shown)))", errno: errno) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SystemCallError(call: "fstat(\(SmallFiles.quoted(shown)))", errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else {
      throw SystemCallError(call: "fstat(\(SmallFiles.quoted(shown))): not a regular file", errno: EINVAL)
    }
    let bytes = try FileDescriptors.readAll(fd, shown: shown, limit: limit + 1)
    guard bytes.count <= limit else { throw SystemCallError(call: "read(\(SmallFiles.quoted(shown)))", errno: EFBIG) }
    return bytes
  }

  /// Writes `layer` as a new directory `root` (which must not exist), in overlayfs's form: a
  /// whiteout becomes a character device 0/0, an opaque directory gets the opaque xattr. Every
  /// parent is opened beneath `root` with no symbolic link on the way, so an entry below a link
  /// in the same layer fails instead of landing elsewhere.
  static func write(_ layer: LayerContents, to root: String) throws(SystemCallError) {
    guard mkdir(root, 0o700) == 0 else {
      throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(root)))", errno: errno)
    }
    let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard rootfd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(root)))", errno: errno) }
    defer { close(rootfd) }
    fchmod(rootfd, 0o755)
    for path in layer.sortedPaths {
      guard let entry = layer[path] else { continue }
      let parent = Overlay.parent(of: path)
      let name = Overlay.baseName(path)
      var parentfd = rootfd
      if parent != "/" {
        parentfd = bw_openat2(
          rootfd, String(parent.dropFirst()), Int32(BW_O_PATH) | O_DIRECTORY, 0,
          UInt64(BW_RESOLVE_BENEATH | BW_RESOLVE_NO_SYMLINKS))
        guard parentfd >= 0 else { throw SystemCallError(call: "openat2(\(SmallFiles.quoted(parent)))", errno: errno) }
      }
      defer { if parentfd != rootfd { close(parentfd) } }
      try create(entry, name, in: parentfd)
    }
  }

  private static func create(_ entry: LayerEntry, _ name: String, in parentfd: Int32) throws(SystemCallError) {
    let shown = SmallFiles.quoted(entry.path)
    switch entry.kind {
    case .directory(let opaque):
      guard mkdirat(parentfd, name, 0o700) == 0 else { throw SystemCallError(call: "mkdirat(\(shown))", errno: errno) }
      let fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      guard fd >= 0 else { throw SystemCallError(call: "openat(\(shown))", errno: errno) }
      defer { close(fd) }
      fchmod(fd, mode_t(entry.mode))
      // Both marks: an overlay mounted in the initial user namespace reads trusted.overlay.*,
      // one mounted inside a user namespace (with "userxattr") reads user.overlay.*, and a layer
      // in the store may be a lower layer of either. Only CAP_SYS_ADMIN in the initial user
      // namespace may set trusted.* (xattr(7)): the rootless backend's unprivileged user gets
      // EPERM there and writes the user mark alone, the one its overlays read.
      if opaque {
        let trusted = bw_fsetxattr(fd, opaqueXattr, "y", 1) == 0
        let trustedErrno = errno
        let user = bw_fsetxattr(fd, userOpaqueXattr, "y", 1) == 0
        if !trusted && !user {
          throw SystemCallError(call: "fsetxattr(\(shown), \"\(opaqueXattr)\")", errno: trustedErrno)
        }
      }
    case .file(let bytes):
      let fd = openat(parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw SystemCallError(call: "openat(\(shown), O_CREAT)", errno: errno) }
      defer { close(fd) }
      try FileDescriptors.writeAll(fd, bytes, shown: shown)
      fchmod(fd, mode_t(entry.mode))
    case .symlink(let target):
      guard symlinkat(target, parentfd, name) == 0 else {
        throw SystemCallError(call: "symlinkat(\(shown))", errno: errno)
      }
    case .whiteout:
      guard bw_mknod_whiteout(parentfd, name) == 0 else {
        throw SystemCallError(call: "mknodat(\(shown), S_IFCHR, 0/0)", errno: errno)
      }
    case .special(let kind):
      // Only a listing of a box's upper layer holds these; a layer to write never does.
      throw SystemCallError(call: "mknodat(\(shown)): a \(kind) is no layer content", errno: EINVAL)
    }
  }
}

/// read(2) and write(2) loops on a file descriptor.
enum FileDescriptors {
  /// Reads until end of file or `limit` bytes, `chunk` bytes per read(2): small for /proc files
  /// read on every step (the buffer is zeroed each time), large for layers and blobs. `expected`,
  /// the size fstat(2) gave, is reserved at once, so a large file is not read into an array grown
  /// by doubling (twice its size at the end).
  static func readAll(
    _ fd: Int32, shown: String, limit: Int, chunk size: Int = 1 << 16, expected: Int = 0
  ) throws(SystemCallError) -> [UInt8] {
    var out: [UInt8] = []
    if expected > 0 { out.reserveCapacity(min(expected, limit)) }
    var chunk = [UInt8](repeating: 0, count: size)
    while out.count < limit {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemCallError(call: "read(\(shown))", errno: errno) }
      if n == 0 { break }
      out += chunk.prefix(n)
    }
    return out.count > limit ? Array(out.prefix(limit)) : out
  }

  static func writeAll(_ fd: Int32, _ bytes: [UInt8], shown: String) throws(SystemCallError) {
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + written }, bytes.count - written) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw SystemCallError(call: "write(\(shown))", errno: errno) }
      written += n
    }
  }
}

/// `box export` writes a bundle the same way on both backends: the simulator is given this
/// writer by the CLI, with the files it models.
public enum HostBundle {
  /// The most bytes of a box's root filesystem `box export` copies.
  public static let maxBytes = 256 << 20

  /// Makes `directory` (absolute; missing, or an empty directory of this user's), writes
  /// `rootfs` below it as rootfs/ and `config` as config.json. No symbolic link is followed at
  /// or below `directory` (docs/runtimes.md, "Host safety"). On an error what was made is removed.
  public static func write(directory: String, config: [UInt8], rootfs: LayerContents) throws(KernelError) {
    do {
      try writeBundle(directory, config, rootfs)
    } catch {
      throw KernelError(call: error.call, errno: Errno(rawValue: error.errno))
    }
  }

  static func writeBundle(_ directory: String, _ config: [UInt8], _ rootfs: LayerContents) throws(SystemCallError) {
    let shown = SmallFiles.quoted(directory)
    var made = false
    if mkdir(directory, 0o700) == 0 {
      made = true
    } else if errno != EEXIST {
      throw SystemCallError(call: "mkdir(\(shown), 0700)", errno: errno)
    }
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      // ELOOP: a symbolic link; ENOTDIR: a file.
      throw SystemCallError(call: "open(\(shown), O_DIRECTORY|O_NOFOLLOW)", errno: errno)
    }
    defer { close(fd) }
    if !made {
      var st = stat()
      guard fstat(fd, &st) == 0 else { throw SystemCallError(call: "fstat(\(shown))", errno: errno) }
      guard st.st_uid == geteuid() else {
        throw SystemCallError(call: "fstat(\(shown)): the directory is another user's", errno: EPERM)
      }
      guard try LayerDirectory.names(fd, directory).isEmpty else {
        throw SystemCallError(call: "mkdir(\(shown)): it exists and is not empty", errno: EEXIST)
      }
    }
    do throws(SystemCallError) {
      // The descriptor's path: what `directory` named when it was opened, even if renamed since.
      try LayerDirectory.write(rootfs, to: "/proc/self/fd/\(fd)/rootfs")
      let file = openat(fd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      guard file >= 0 else { throw SystemCallError(call: "openat(\(shown), \"config.json\")", errno: errno) }
      defer { close(file) }
      try FileDescriptors.writeAll(file, config, shown: directory + "/config.json")
    } catch {
      unlinkat(fd, "config.json", 0)
      FileTree.remove("/proc/self/fd/\(fd)/rootfs")
      if made { rmdir(directory) }
      throw error
    }
  }
}

/// `image import` reads a host directory the same way on both backends: the simulator is given
/// this reader by the CLI (it touches no files itself).
public enum HostDirectory {
  public static let maxImportBytes = 64 << 20

  public static func read(_ path: String) throws(KernelError) -> LayerContents {
    do {
      return try LayerDirectory.read(path, .init(contents: true, overlayMarks: false, maxBytes: maxImportBytes))
    } catch {
      throw KernelError(call: error.call, errno: Errno(rawValue: error.errno))
    }
  }
}
