import CShim
import Glibc
import Kernel

/// The file commands on the real kernel, made by the REPL process itself. It reaches the box's
/// root filesystem through /proc/HELPER/root: that magic link is the helper's root directory in
/// the helper's own mount namespace, so the REPL sees the overlay even though it is mounted only
/// in the box's namespace (proc(5), /proc/pid/root). File operations are no namespace change, so
/// the multi-threaded REPL may make them (the helper does only unshare, setns, mount and the root
/// switches in the helper).
///
/// A plain path through /proc/PID/root would resolve an absolute symbolic link against the
/// REPL's root, the host's: a layer with `etc/hostname -> /etc/shadow` would write the host's
/// file (runc CVE-2021-30465 and CVE-2026-41579 are of this kind). So every path is resolved with
/// openat2(2) beneath a descriptor of the box's root, following no symbolic link at all.
///
/// Paths are box paths whose names may be escaped (`FileName`: `\xff` for a byte that is not
/// UTF-8), so every name a listing shows can be addressed again; the kernel always gets the
/// name's own bytes. A file is opened for reading or writing only once an O_PATH descriptor of
/// it (which opens nothing) shows a regular file, and then through that very descriptor: opening
/// a FIFO waits for the other end, and opening a device node talks to a driver.
struct BoxFiles {
  /// The box's root directory as the REPL reaches it.
  let root: String
  /// /proc/self of the REPL: /proc/self/fd/N reopens what descriptor N names (proc(5)).
  var procSelf = "/proc/self"

  static let resolve = UInt64(BW_RESOLVE_IN_ROOT | BW_RESOLVE_NO_SYMLINKS)
  static let pathFlag = Int32(BW_O_PATH)

  /// Which part of a file command failed: the plan of `write FILE TEXT` is the parents, the
  /// open, the data; of `rm FILE` the open of its parent, the unlink (Kernel/Steps/LayerStep.swift).
  enum Stage: Sendable {
    /// Reaching the box's root or the path's parents (making them, for a write).
    case parents
    /// Opening the file to write.
    case open
    /// Writing its data.
    case data
    /// Removing the name (a directory: its entries first).
    case unlink
  }

  struct Failure: Error {
    var stage: Stage
    var errno: Int32
    /// What the errno alone does not say.
    var detail: String? = nil
  }

  private func openRoot() throws(Failure) -> Int32 {
    let fd = open(root, Self.pathFlag | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(stage: .parents, errno: errno) }
    return fd
  }

  /// `path` below the root, as the bytes its names stand for, NUL-terminated for the kernel.
  static func relative(_ path: String) -> [CChar] {
    cString(path == "/" ? [0x2e] : FileName.bytes(String(path.dropFirst())))
  }

  /// One name of a box path, as the kernel gets it.
  static func name(_ escaped: some StringProtocol) -> [CChar] { cString(FileName.bytes(String(escaped))) }

  static func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

  /// Opens a regular file that `pathfd` (an O_PATH descriptor) names, with `flags`; anything else
  /// fails the way the kernel answers for it (EISDIR, ELOOP) or with EINVAL and what it is.
  private func reopenRegular(_ pathfd: Int32, _ flags: Int32, stage: Stage) throws(Failure) -> Int32 {
    var st = stat()
    guard fstat(pathfd, &st) == 0 else { throw Failure(stage: stage, errno: errno) }
    switch st.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw Failure(stage: stage, errno: EISDIR)
    case S_IFLNK: throw Failure(stage: stage, errno: ELOOP)
    default:
      throw Failure(
        stage: stage, errno: EINVAL,
        detail: "it is a \(LayerDirectory.specialKind(st.st_mode)): boxwalk reads and writes regular files only")
    }
    let fd = open("\(procSelf)/fd/\(pathfd)", flags | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(stage: stage, errno: errno) }
    return fd
  }

  /// The parent directory of `path`, opened one component at a time with no link followed.
  private func parent(_ rootfd: Int32, _ path: String, openStage: Stage) throws(Failure) -> Int32 {
    var dirfd = dup(rootfd)
    guard dirfd >= 0 else { throw Failure(stage: openStage, errno: errno) }
    for part in Overlay.parent(of: path).split(separator: "/") {
      let next = bw_openat2(dirfd, Self.name(part), Self.pathFlag | O_DIRECTORY, 0, Self.resolve)
      let failure = errno
      close(dirfd)
      guard next >= 0 else { throw Failure(stage: openStage, errno: failure) }
      dirfd = next
    }
    return dirfd
  }

  /// `write`'s first entry: the missing parents of `path`, made one at a time (mode 0755,
  /// whatever the umask), like mkdir -p. The walk stops, making nothing more, at a name it cannot
  /// pass (a file, a symbolic link): that is the open's to fail at, which resolves the same path.
  func makeParents(_ path: String) throws(Failure) {
    let rootfd = try openRoot()
    defer { close(rootfd) }
    var dirfd = dup(rootfd)
    guard dirfd >= 0 else { throw Failure(stage: .parents, errno: errno) }
    defer { close(dirfd) }
    for part in Overlay.parent(of: path).split(separator: "/") {
      let part = Self.name(part)
      var next = bw_openat2(dirfd, part, Self.pathFlag | O_DIRECTORY, 0, Self.resolve)
      if next < 0 && errno == ENOENT {
        if mkdirat(dirfd, part, 0o755) != 0 && errno != EEXIST { throw Failure(stage: .parents, errno: errno) }
        fchmodat(dirfd, part, 0o755, 0)
        next = bw_openat2(dirfd, part, Self.pathFlag | O_DIRECTORY, 0, Self.resolve)
      }
      guard next >= 0 else { return }
      close(dirfd)
      dirfd = next
    }
  }

  /// `write`'s second entry: open `path` to write, truncated, creating it (0644) when it is
  /// missing. The caller closes the descriptor.
  func openToWrite(_ path: String) throws(Failure) -> Int32 {
    let rootfd = try openRoot()
    defer { close(rootfd) }
    let dirfd = try parent(rootfd, path, openStage: .open)
    defer { close(dirfd) }
    let name = Self.name(Overlay.baseName(path))
    let existing = bw_openat2(dirfd, name, Self.pathFlag | O_NOFOLLOW, 0, Self.resolve)
    if existing >= 0 {
      defer { close(existing) }
      return try reopenRegular(existing, O_WRONLY | O_TRUNC, stage: .open)
    }
    guard errno == ENOENT else { throw Failure(stage: .open, errno: errno) }
    let fd = bw_openat2(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644, Self.resolve)
    guard fd >= 0 else { throw Failure(stage: .open, errno: errno) }
    fchmod(fd, 0o644)
    return fd
  }

  /// `write`'s last entry: the data, on the descriptor `openToWrite` opened.
  func writeData(_ fd: Int32, _ bytes: [UInt8], shown path: String) throws(Failure) {
    do {
      try FileDescriptors.writeAll(fd, bytes, shown: path)
    } catch {
      throw Failure(stage: .data, errno: error.errno)
    }
  }

  /// `rm`'s first entry: the parent directory of `path`, opened beneath the root. The caller
  /// closes the descriptor.
  func openParent(_ path: String) throws(Failure) -> Int32 {
    let rootfd = try openRoot()
    defer { close(rootfd) }
    return try parent(rootfd, path, openStage: .parents)
  }

  /// `rm`'s second entry: unlink the last name of `path` in `dirfd`; a directory loses its
  /// entries first (rm -r), never crossing into another mounted file system.
  func unlink(_ path: String, in dirfd: Int32) throws(Failure) {
    let name = Self.name(Overlay.baseName(path))
    var st = stat()
    guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw Failure(stage: .unlink, errno: errno) }
    if st.st_mode & S_IFMT == S_IFDIR {
      var parentStat = stat()
      fstat(dirfd, &parentStat)
      guard st.st_dev == parentStat.st_dev else { throw Failure(stage: .unlink, errno: EBUSY) }
      try removeTree(dirfd, name, device: st.st_dev)
    } else if unlinkat(dirfd, name, 0) != 0 {
      throw Failure(stage: .unlink, errno: errno)
    }
  }

  private func removeTree(_ dirfd: Int32, _ name: [CChar], device: dev_t) throws(Failure) {
    let fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(stage: .unlink, errno: errno) }
    defer { close(fd) }
    for entry in try names(fd).map(Self.cString) {
      var st = stat()
      guard fstatat(fd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw Failure(stage: .unlink, errno: errno) }
      if st.st_mode & S_IFMT == S_IFDIR {
        guard st.st_dev == device else { throw Failure(stage: .unlink, errno: EBUSY) }
        try removeTree(fd, entry, device: device)
      } else if unlinkat(fd, entry, 0) != 0 {
        throw Failure(stage: .unlink, errno: errno)
      }
    }
    guard unlinkat(dirfd, name, AT_REMOVEDIR) == 0 else { throw Failure(stage: .unlink, errno: errno) }
  }

  /// `cat`: the first FileCalls.maxRead bytes.
  func read(_ path: String) throws(Failure) -> [UInt8] {
    let rootfd = try openRoot()
    defer { close(rootfd) }
    let pathfd = bw_openat2(rootfd, Self.relative(path), Self.pathFlag | O_NOFOLLOW, 0, Self.resolve)
    guard pathfd >= 0 else { throw Failure(stage: .parents, errno: errno) }
    defer { close(pathfd) }
    let fd = try reopenRegular(pathfd, O_RDONLY, stage: .parents)
    defer { close(fd) }
    do {
      return try FileDescriptors.readAll(fd, shown: path, limit: FileCalls.maxRead)
    } catch {
      throw Failure(stage: .parents, errno: error.errno)
    }
  }

  /// `ls`: names with their kinds, sorted by bytes.
  func list(_ path: String) throws(Failure) -> [DirectoryEntry] {
    let rootfd = try openRoot()
    defer { close(rootfd) }
    let fd = bw_openat2(rootfd, Self.relative(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, Self.resolve)
    guard fd >= 0 else { throw Failure(stage: .parents, errno: errno) }
    defer { close(fd) }
    var out: [DirectoryEntry] = []
    for raw in try names(fd) {
      // Names are shown escaped (FileName), never decoded lossily: what ls shows, cat reaches.
      let name = FileName.escaped(raw)
      let cName = Self.cString(raw)
      var st = stat()
      // Gone since readdir (a box process removed it): nothing to list.
      guard fstatat(fd, cName, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
      switch st.st_mode & S_IFMT {
      case S_IFDIR: out.append(DirectoryEntry(name: name, kind: .directory(opaque: false)))
      case S_IFLNK:
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlinkat(fd, cName, &buffer, buffer.count)
        let target = n > 0 ? FileName.escaped(buffer[0..<n].map { UInt8(bitPattern: $0) }) : "?"
        out.append(DirectoryEntry(name: name, kind: .symlink(target: target)))
      case S_IFREG: out.append(DirectoryEntry(name: name, kind: .file([])))
      default: out.append(DirectoryEntry(name: name, kind: .special(LayerDirectory.specialKind(st.st_mode))))
      }
    }
    return out
  }

  /// The names in the directory `fd`, as the kernel's bytes, in byte order.
  private func names(_ fd: Int32) throws(Failure) -> [[UInt8]] {
    do {
      return try LayerDirectory.names(fd, "")
    } catch {
      throw Failure(stage: .parents, errno: error.errno)
    }
  }
}
