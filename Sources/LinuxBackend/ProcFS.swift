import CShim
import Glibc
import Kernel

/// Who a process is, as /proc/PID/stat says (proc(5)): enough to tell a process from a later one
/// that got the same PID. The start time (field 22, in clock ticks since boot) differs between two
/// processes that ever had the same PID in one boot.
package struct ProcessIdentity: Equatable, Sendable {
  package var comm: String
  /// Field 3: R, S, D, Z (zombie: exited, not yet reaped), ...
  package var state: Character
  package var startTime: UInt64

  package init(comm: String, state: Character, startTime: UInt64) {
    self.comm = comm
    self.state = state
    self.startTime = startTime
  }

  /// Parse the one line of /proc/PID/stat. The comm field is in parentheses and may itself
  /// contain spaces and ')', so fields are counted from the last ')'.
  package init?(statLine: String) { self.init(statBytes: Array(statLine.utf8)) }

  /// The same from the file's bytes: comm is any 15 bytes a process chose (prctl(2) PR_SET_NAME),
  /// so it is kept escaped as KernelName.shown shows names, never decoded lossily.
  package init?(statBytes bytes: [UInt8]) {
    guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
      open < close
    else { return nil }
    let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self).split(
      separator: " ", omittingEmptySubsequences: true)
    // rest[0] is field 3 (state), so field 22 (starttime) is rest[19].
    guard rest.count > 19, let state = rest[0].first, let start = UInt64(rest[19]) else { return nil }
    self.init(comm: KernelName.shown(bytes[(open + 1)..<close]), state: state, startTime: start)
  }
}

/// Reads under a proc(5) mount; the root is a parameter so parsers can be tested on plain files
/// (docs/architecture.md, "Habits": filesystem roots are parameters).
struct ProcFS {
  let root: String

  /// /proc/sys/kernel/random/boot_id: a random UUID the kernel makes at every boot. A ledger from
  /// another boot names PIDs that mean nothing now.
  func bootID() throws(SystemCallError) -> String {
    let text = try SmallFiles.readText(root + "/sys/kernel/random/boot_id")
    return String(text.filter { !$0.isWhitespace })
  }

  /// The identity of `pid` ("self" or a number), or nil if there is no such process.
  func identity(_ pid: String) -> ProcessIdentity? {
    guard let bytes = try? SmallFiles.read("\(root)/\(pid)/stat") else { return nil }
    return ProcessIdentity(statBytes: bytes)
  }

  /// The inode of /proc/PID/ns/ENTRY: the identity of the namespace (two processes share a
  /// namespace exactly when these are equal, namespaces(7)). `shown` is how the call prints:
  /// host PIDs are volatile, so a box's process is written `<web>`.
  func namespaceInode(pid: String, shown: String, kind: NamespaceKind) throws(SystemCallError) -> UInt64 {
    var info = stat()
    guard stat("\(root)/\(pid)/ns/\(kind.procEntry)", &info) == 0 else {
      throw SystemCallError(call: "stat(\"/proc/\(shown)/ns/\(kind.procEntry)\")", errno: errno)
    }
    return UInt64(info.st_ino)
  }

  /// The new PID namespace of a process that called unshare(CLONE_NEWPID) but has no child yet:
  /// /proc/PID/ns/pid_for_children is ENOENT until that namespace has an init, so ask the pidfd
  /// (ioctl PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE, Linux 6.11). nil where the kernel cannot say.
  static func pidForChildrenInode(pid: pid_t) -> UInt64? {
    let pidfd = bw_pidfd_open(pid, 0)
    guard pidfd >= 0 else { return nil }
    defer { close(pidfd) }
    let nsfd = bw_pidfd_pid_for_children_ns(pidfd)
    guard nsfd >= 0 else { return nil }
    defer { close(nsfd) }
    var info = stat()
    return fstat(nsfd, &info) == 0 ? UInt64(info.st_ino) : nil
  }

  /// readlink(2) of /proc/self/exe: the file this process runs.
  func ownExecutable() -> String? { SmallFiles.readLink(root + "/self/exe") }
}
