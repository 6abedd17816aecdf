import CShim
import Glibc
import HelperWire

/// boxwalk's own directories, held open by the helper so that it reaches them whatever the box
/// mounts over them.
///
/// A box's overlay needs directories of boxwalk's: its upper, work and mount directories in the
/// session's directory (under /run), its lower layers in the image store. The helper opens them
/// by name, in the box's mount namespace, and a box with a mount namespace of its own may mount
/// over any directory of the host's tree: after `mount tmpfs /run` every lookup of
/// /run/boxwalk/... in that namespace ends in the new, empty tmpfs (ENOENT). The mounts beneath are
/// still there, only out of reach by name. A descriptor opened before still leads to them: a
/// lookup relative to a descriptor starts at its directory, whatever is mounted on the directories
/// above (path_resolution(7)). And the kernel takes such a directory as an overlay layer
/// (fsconfig(2) FSCONFIG_SET_FD, Linux 6.13) and as a mount point (move_mount(2)
/// MOVE_MOUNT_T_EMPTY_PATH), as long as its mount belongs to the caller's mount namespace:
/// overlayfs refuses a layer of another namespace with EINVAL (clone_private_mount in
/// fs/namespace.c), so a descriptor the REPL opened in the host's namespace would not do.
///
/// So the helper holds the two directories open (the scratch anchor and the store anchor) from
/// the moment it is in the mount namespace it works in: opened when it starts (in the host's
/// namespace, which no box mounts in), carried into the copy unshare(CLONE_NEWNS) makes, and
/// taken from the other box's helper after `join mnt`. Each is held at a fixed descriptor number
/// for the helper's life, so the REPL can reach the box's root filesystem through
/// /proc/HELPER/fd/N too (LinuxKernel+Layers.swift).
///
/// A path is still looked up by name first, and used by name whenever that reaches the same
/// directory: then every call is the one the step prints, with the kernel's own answer (EACCES
/// for a box whose user cannot search the session's directory, for one). The descriptor is used
/// only for a directory the name no longer reaches.
final class Anchors {
  struct Anchor {
    /// The host path the directory was opened as, e.g. /run/boxwalk/123-456.
    var path: [UInt8]
    var fd: Int32
  }

  /// The session's directory, then the image store.
  private(set) var anchors: [Anchor?] = [nil, nil]
  /// The descriptor numbers the anchors keep (fcntl F_DUPFD above `firstNumber` the first time).
  private var numbers: [Int32] = [-1, -1]
  private static let firstNumber: Int32 = 10
  private let hostProc: Int32

  init(hostProc: Int32) { self.hostProc = hostProc }

  var descriptors: [Int32] { anchors.map { $0?.fd ?? -1 } }

  /// `anchor`: opens each source (a host path, or /proc/PID/fd/N, looked up in the host's proc)
  /// and holds it as the anchor for `paths[i]`. A source that does not open leaves no anchor:
  /// paths are then only looked up by name, as before any anchor.
  func set(paths: [[UInt8]], sources: [[UInt8]]) -> HelperReply {
    for i in 0..<min(anchors.count, paths.count, sources.count) {
      let fd = openDirectory(sources[i])
      install(i, fd < 0 ? nil : Anchor(path: paths[i], fd: fd))
    }
    let held = descriptors
    return .answer(AnchorDescriptors(scratch: held[0], store: held[1]))
  }

  /// O_PATH|O_DIRECTORY of `path`; a path under /proc/ through the host's proc, which the box
  /// may have covered with a proc of its own or a tmpfs (as NamespaceOperations.setns does).
  private func openDirectory(_ path: [UInt8]) -> Int32 {
    guard !path.isEmpty, !path.contains(0) else { return -1 }
    let prefix = Array("/proc/".utf8)
    let flags = BW_O_PATH | O_DIRECTORY | O_CLOEXEC
    if hostProc >= 0, path.starts(with: prefix) {
      return withCPath(Array(path.dropFirst(prefix.count))) { openat(hostProc, $0, flags) }
    }
    return withCPath(path) { Glibc.open($0, flags) }
  }

  /// Puts `anchor` at slot `i`'s descriptor number,
  /// or closes the slot.
  private func install(_ i: Int, _ anchor: Anchor?) {
    guard var anchor else {
      if numbers[i] >= 0 { close(numbers[i]) }
      numbers[i] = -1
      anchors[i] = nil
      return
    }
    if numbers[i] < 0 {
      numbers[i] = fcntl(anchor.fd, F_DUPFD_CLOEXEC, Self.firstNumber)
      close(anchor.fd)
      guard numbers[i] >= 0 else {
        anchors[i] = nil
        return
      }
    } else if anchor.fd != numbers[i] {
      // dup2(2) replaces what was at the number at once; the copy is not close-on-exec.
      let moved = dup2(anchor.fd, numbers[i])
      close(anchor.fd)
      _ = fcntl(numbers[i], F_SETFD, FD_CLOEXEC)
      guard moved >= 0 else {
        install(i, nil)
        return
      }
    }
    anchor.fd = numbers[i]
    anchors[i] = anchor
  }

  /// Closes every anchor: paths are then looked up by name only.
  func dropAll() {
    for i in anchors.indices { install(i, nil) }
  }

  // MARK: unshare(CLONE_NEWNS)

  /// Whether the helper's root is a directory chroot(2) chose rather than its mount namespace's
  /// root (BoxOperations.chroot sets it; pivot_root(2) makes the new root the namespace's).
  var chrooted = false

  /// What `finishCarry` needs from before unshare(2).
  struct Carry {
    /// Anchors the old namespace still shows by name: opened by name again in the copy.
    var byName: [Bool]
    var savedCwd: Int32
    /// The store anchor went in as the root directory (see prepareCarry); the old root, to go
    /// back to if unshare(2) fails.
    var storeAsRoot: Int32?
  }

  /// Before unshare(CLONE_NEWNS). The kernel moves the caller's root and working directory to
  /// their copies in the new namespace, and nothing else (copy_mnt_ns in fs/namespace.c); a
  /// descriptor stays in the old namespace, where overlayfs would refuse it. An anchor the old
  /// namespace still shows by name is simply opened by name in the copy. Otherwise (a mount the
  /// box made hides it) it rides on those two: the scratch anchor becomes the working directory
  /// for the call, and the store anchor, if the helper is not chrooted, the root directory
  /// (chroot(2) to it, undone after the call by setns(2) into the new namespace itself, which
  /// sets root and working directory to the namespace's root: setns(2), "CLONE_NEWNS").
  func prepareCarry() -> Carry {
    let byName = anchors.map { anchor in anchor.map { reachesByName($0) } ?? false }
    var carry = Carry(byName: byName, savedCwd: Glibc.open(".", BW_O_PATH | O_DIRECTORY | O_CLOEXEC))
    if let store = anchors[1], !byName[1], !chrooted, anchors[0].flatMap({ Self.below(store.path, $0.path) }) == nil {
      let root = Glibc.open("/", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
      if root >= 0, fchdir(store.fd) == 0, Glibc.chroot(".") == 0 {
        carry.storeAsRoot = root
      } else if root >= 0 {
        close(root)
      }
    }
    if let scratch = anchors[0] { _ = fchdir(scratch.fd) }
    return carry
  }

  /// After unshare(2), successful or not: the anchors in the namespace the helper is in now, and
  /// the root and working directory back where they were (their copies: the namespace's root and
  /// "/" of it). Returns false when the root could not be put back (the helper's root is then the
  /// image store's copy: the caller must not go on in this namespace).
  func finishCarry(_ carry: Carry, unshared: Bool) -> Bool {
    defer {
      if carry.savedCwd >= 0 { close(carry.savedCwd) }
      if let root = carry.storeAsRoot { close(root) }
    }
    guard unshared else {
      if let root = carry.storeAsRoot, fchdir(root) == 0 { _ = Glibc.chroot(".") }
      if carry.savedCwd >= 0 { _ = fchdir(carry.savedCwd) }
      return true
    }
    let movedScratch = anchors[0] != nil ? Glibc.open(".", BW_O_PATH | O_DIRECTORY | O_CLOEXEC) : -1
    var movedStore: Int32 = -1
    if carry.storeAsRoot != nil {
      movedStore = Glibc.open("/", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
      let own = hostProc >= 0 ? openat(hostProc, "self/ns/mnt", O_RDONLY | O_CLOEXEC) : -1
      let back = own >= 0 && bw_setns(own, Int32(BW_CLONE_NEWNS)) == 0
      if own >= 0 { close(own) }
      guard back else {
        if movedScratch >= 0 { close(movedScratch) }
        if movedStore >= 0 { close(movedStore) }
        return false
      }
    }
    // The helper's working directory is always "/" between requests (main.swift): a program it
    // starts inherits it.
    _ = chdir("/")
    if let scratch = anchors[0] { install(0, movedScratch < 0 ? nil : Anchor(path: scratch.path, fd: movedScratch)) }
    guard let store = anchors[1] else { return true }
    if carry.byName[1] {
      let fd = withCPath(store.path) { Glibc.open($0, BW_O_PATH | O_DIRECTORY | O_CLOEXEC) }
      install(1, fd < 0 ? nil : Anchor(path: store.path, fd: fd))
    } else if carry.storeAsRoot != nil {
      install(1, movedStore < 0 ? nil : Anchor(path: store.path, fd: movedStore))
    } else if let scratch = anchors[0], let rest = Self.below(store.path, scratch.path) {
      // The store of `boxwalk test` lives in the session's directory: reached from its copy.
      let fd = withCPath(rest) { bw_openat2(scratch.fd, $0, BW_O_PATH | O_DIRECTORY, 0, Self.resolve) }
      install(1, fd < 0 ? nil : Anchor(path: store.path, fd: fd))
    } else {
      // Hidden by name in the old namespace, and the helper chrooted: the new namespace
      // reaches the store by name only.
      install(1, nil)
    }
    return true
  }

  /// Whether `anchor.path` looked up by name now is the anchor's directory.
  private func reachesByName(_ anchor: Anchor) -> Bool {
    let fd = withCPath(anchor.path) { Glibc.open($0, BW_O_PATH | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return Self.sameFile(fd, anchor.fd)
  }

  // MARK: Reaching a directory

  static let resolve = UInt64(BW_RESOLVE_BENEATH | BW_RESOLVE_NO_SYMLINKS)

  /// An O_PATH descriptor of boxwalk's directory `path`, and whether it was reached through an
  /// anchor rather than by name; nil with errno set when neither reaches it.
  ///
  /// By name when the name reaches the directory the anchor leads to (or there is no anchor
  /// above `path`). Through the anchor when the name reaches nothing or something else: a mount
  /// the box made is in the way. A lookup by name refused for permission (EACCES) is the answer
  /// as it is: the anchor is for what a mount hides, not for what the box may not search.
  func reach(_ path: [UInt8]) -> (fd: Int32, anchored: Bool)? {
    guard !path.contains(0) else {
      errno = EINVAL
      return nil
    }
    let named = withCPath(path) { Glibc.open($0, BW_O_PATH | O_DIRECTORY | O_CLOEXEC) }
    let namedErrno = errno
    // The innermost anchor above the path (the store of `boxwalk test` is in the session's).
    let candidates = anchors.compactMap { $0 }.compactMap { a in Self.below(path, a.path).map { (a, $0) } }
    guard let (anchor, rest) = candidates.max(by: { $0.0.path.count < $1.0.path.count }) else {
      if named >= 0 { return (named, false) }
      errno = namedErrno
      return nil
    }
    let via =
      rest.isEmpty
      ? fcntl(anchor.fd, F_DUPFD_CLOEXEC, 0)
      : withCPath(rest) { bw_openat2(anchor.fd, $0, BW_O_PATH | O_DIRECTORY, 0, Self.resolve) }
    let viaErrno = errno
    if named >= 0 {
      if via < 0 || Self.sameFile(named, via) {
        if via >= 0 { close(via) }
        return (named, false)
      }
      close(named)
      return (via, true)
    }
    if namedErrno == EACCES || via < 0 {
      if via >= 0 { close(via) }
      errno = namedErrno == EACCES ? namedErrno : viaErrno
      return nil
    }
    return (via, true)
  }

  /// The names of `path` below `base`, without the leading "/" ("" for `base` itself); nil
  /// when `path` is not below `base`.
  static func below(_ path: [UInt8], _ base: [UInt8]) -> [UInt8]? {
    guard path.starts(with: base) else { return nil }
    let rest = path.dropFirst(base.count)
    if rest.isEmpty { return [] }
    guard rest.first == UInt8(ascii: "/") else { return nil }
    return Array(rest.drop { $0 == UInt8(ascii: "/") })
  }

  static func sameFile(_ a: Int32, _ b: Int32) -> Bool {
    var sa = stat()
    var sb = stat()
    guard fstat(a, &sa) == 0, fstat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }
}

/// `body` with `bytes` as a NUL-terminated C string; -1 (EINVAL) if it has no storage.
func withCPath(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> Int32) -> Int32 {
  let cString = bytes.map { CChar(bitPattern: $0) } + [0]
  return cString.withUnsafeBufferPointer { buffer in
    guard let base = buffer.baseAddress else {
      errno = EINVAL
      return -1
    }
    return body(base)
  }
}
