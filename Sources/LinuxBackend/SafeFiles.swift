import Glibc
import Synchronization

/// The one way boxwalk creates or replaces a file: ledgers, the image store's index and blobs,
/// `record` transcripts, lesson progress, REPL history, `test --update` rewrites.
///
/// boxwalk often runs as root, and many of its files sit in directories other users can write
/// (/tmp, a shared BOXWALK_HOME, the directory a learner records into). A fixed temporary name
/// such as FILE.tmp opened with O_TRUNC is an old trap there: anyone can plant a symbolic link
/// at FILE.tmp first, and open(2) follows it and truncates whatever it points at (/etc/shadow).
/// So every temporary file here is new: its name carries this process's PID and a counter, and
/// open(2) gets O_CREAT|O_EXCL, which fails with EEXIST if anything at all (a file, a link, a
/// dangling link) already has the name, and O_NOFOLLOW for good measure (open(2)). The finished
/// file is then rename(2)d over FILE: rename replaces the directory entry itself, so a link at
/// FILE is replaced, never followed, and a reader sees the old content or the new, never half.
package enum SafeFiles {
  private static let counter = Atomic<Int>(0)

  /// What every temporary name adds after the file's own name: ".tmp-PID-N". The image store's
  /// start-up sweep and `image prune` recognise leftovers of killed processes by it.
  package static let temporaryMarker = ".tmp-"

  /// Creates a new file beside `path` (O_CREAT|O_EXCL|O_NOFOLLOW, so never an existing one) and
  /// returns its descriptor and name.
  package static func createTemporary(beside path: String, mode: mode_t) throws(SystemCallError) -> (
    fd: Int32, path: String
  ) {
    for _ in 0..<64 {
      let n = counter.add(1, ordering: .relaxed).newValue
      let temporary = path + temporaryMarker + "\(getpid())-\(n)"
      let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
      if fd >= 0 { return (fd, temporary) }
      // EEXIST: a leftover of a killed process that had our PID, or something planted; take
      // the next name, never that one.
      guard errno == EEXIST else {
        throw SystemCallError(call: "open(\(SmallFiles.quoted(temporary)), O_CREAT|O_EXCL)", errno: errno)
      }
    }
    throw SystemCallError(call: "open(\(SmallFiles.quoted(path + temporaryMarker)), O_CREAT|O_EXCL)", errno: EEXIST)
  }

  /// Replaces `path` with `bytes` atomically: a new temporary file, written, fsync(2)ed when
  /// `durable` (so the new content survives a crash of the machine, not only of this process,
  /// which the rename alone covers: the page cache outlives us), then rename(2)d over `path`.
  package static func replace(_ path: String, with bytes: [UInt8], mode: mode_t, durable: Bool)
    throws(SystemCallError)
  {
    let (fd, temporary) = try createTemporary(beside: path, mode: mode)
    var failure: SystemCallError?
    do {
      try FileDescriptors.writeAll(fd, bytes, shown: SmallFiles.quoted(temporary))
    } catch {
      failure = error
    }
    if failure == nil && durable && fsync(fd) != 0 {
      failure = SystemCallError(call: "fsync(\(SmallFiles.quoted(temporary)))", errno: errno)
    }
    close(fd)
    if failure == nil && rename(temporary, path) != 0 {
      failure = SystemCallError(
        call: "rename(\(SmallFiles.quoted(temporary)), \(SmallFiles.quoted(path)))", errno: errno)
    }
    if let failure {
      unlink(temporary)
      throw failure
    }
  }

  /// Appends `bytes` to the existing file `path` (open(2) with O_APPEND, never following a
  /// symbolic link), fdatasync(2)ed when `durable`. A crash can leave the end of what was being
  /// written missing, never anything else changed: readers must accept a short last line.
  package static func append(_ path: String, _ bytes: [UInt8], durable: Bool) throws(SystemCallError) {
    let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      throw SystemCallError(call: "open(\(SmallFiles.quoted(path)), O_WRONLY|O_APPEND|O_NOFOLLOW)", errno: errno)
    }
    defer { close(fd) }
    try FileDescriptors.writeAll(fd, bytes, shown: SmallFiles.quoted(path))
    if durable && fdatasync(fd) != 0 {
      throw SystemCallError(call: "fdatasync(\(SmallFiles.quoted(path)))", errno: errno)
    }
  }

  /// Whether `name` is a temporary file of ours whose writer is gone: "…​.tmp-PID-N" with no
  /// process PID any more (kill(2) with signal 0 only checks). A live PID, even a recycled one,
  /// keeps its files: removing a file another session is still writing would break it, while a
  /// leftover kept a little longer costs nothing.
  package static func isAbandonedTemporary(_ name: String) -> Bool {
    guard let pid = writerPID(name, marker: temporaryMarker) else { return false }
    return !processExists(pid)
  }

  /// The PID in "…MARKER PID[-N]", or nil when `name` has no such suffix.
  package static func writerPID(_ name: String, marker: String) -> pid_t? {
    let bytes = Array(name.utf8)
    let mark = Array(marker.utf8)
    guard bytes.count > mark.count,
      let start = (0...(bytes.count - mark.count)).reversed().first(where: {
        Array(bytes[$0..<$0 + mark.count]) == mark
      })
    else { return nil }
    let tail = String(decoding: bytes[(start + mark.count)...], as: UTF8.self).split(
      separator: "-", omittingEmptySubsequences: false)
    guard (1...2).contains(tail.count), let pid = pid_t(tail[0]), pid > 0 else { return nil }
    if tail.count == 2 && Int(tail[1]) == nil { return nil }
    return pid
  }

  /// Unlinks every temporary file beside `path` (FILE.tmp of older versions too), whoever's it
  /// was: for a directory whose owner is known to be gone, such as a dead session's.
  static func removeTemporaries(of path: String) {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return }
    let directory = String(path[..<slash])
    let prefix = String(path[path.index(after: slash)...]) + ".tmp"
    for name in (try? SmallFiles.list(directory)) ?? [] where name.hasPrefix(prefix) {
      unlink(directory + "/" + name)
    }
  }

  package static func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
  }
}
