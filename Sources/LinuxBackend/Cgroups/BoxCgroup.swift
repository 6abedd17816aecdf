import Kernel

/// Where a box's cgroup lives: `boxwalk/SESSION/BOX` under the root of each hierarchy it uses
/// (`/sys/fs/cgroup/boxwalk/...` on v2, `/sys/fs/cgroup/memory/boxwalk/...`, `.../pids/boxwalk/...`
/// on v1).
///
/// Why this shape:
/// - Everything boxwalk makes in a cgroup hierarchy is under `boxwalk/`, so one `ls` shows a leak
/// and
///   `cleanup` never looks anywhere else.
/// - The middle directory is the session id, the name of the session's state directory
///   (`PID-STARTTIME[-N]`, see SessionDirectory). A cgroup file system lives in memory, so a
///   directory found there was made in this boot, and PID + start time tell whether the session
///   that made it still runs: `cleanup` finds a dead session's cgroups by listing `boxwalk/`, even
///   if its ledger is gone (CgroupLeftovers). Two REPLs never share a directory, so one never
///   kills the other's boxes (docs/security.md).
/// - The session directory also gives v2 a place to hand controllers down: it holds no process,
///   so its cgroup.subtree_control can be written (the no-internal-processes rule, CgroupV2Driver).
package struct BoxCgroup: Equatable, Hashable, Sendable {
  package static let topDirectory = "boxwalk"

  package let session: String
  package let box: String

  /// Both names become directory names: they must match `[A-Za-z0-9][A-Za-z0-9_.-]*`
  /// (docs/architecture.md, "Errors") and fit NAME_MAX (255 bytes). That also rules out ".", ".."
  /// and "/".
  package init(session: String, box: String) throws(CgroupError) {
    for (what, name) in [("session", session), ("box", box)] where !Self.isValidName(name) {
      throw CgroupError(
        call: "mkdir(\"\(Self.topDirectory)/\(session)/\(box)\")", errno: .EINVAL,
        explanation: "the \(what) name \"\(name)\" is not a valid cgroup directory name for boxwalk "
          + "([A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 bytes)")
    }
    self.session = session
    self.box = box
  }

  /// `boxwalk/SESSION/BOX`, relative to a hierarchy's root.
  package var path: String { Self.sessionPath(session) + "/" + box }

  /// `boxwalk/SESSION`.
  package static func sessionPath(_ session: String) -> String { topDirectory + "/" + session }

  package static func isValidName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, bytes.count <= 255, isAlphanumeric(first) else { return false }
    return bytes.allSatisfy {
      isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
    }
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
  }
}
