import Kernel

/// /proc/PID/mountinfo (proc(5)): one line per mount, mount points shown relative to that
/// process's root directory (mounts it cannot reach are left out).
///
///     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
///     (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
///
/// (5) is the mount point, (7) the optional fields: `shared:N` (a member of peer group N),
/// `master:N` (a slave of group N), neither (private).
enum Mountinfo {
  struct Entry: Equatable {
    var mountPoint: String
    var propagation: Propagation
  }

  static func parse(_ text: String) -> [Entry] {
    text.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash >= 6 else { return nil }
      let optional = fields[6..<dash]
      let propagation: Propagation =
        optional.contains { $0.hasPrefix("master:") }
        ? .slave : optional.contains { $0.hasPrefix("shared:") } ? .shared : .private
      return Entry(mountPoint: unescape(String(fields[4])), propagation: propagation)
    }
  }

  /// The kernel writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
  static func unescape(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var bytes: [UInt8] = []
    let raw = Array(s.utf8)
    var i = 0
    while i < raw.count {
      if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count,
        let v = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        bytes.append(v)
        i += 4
      } else {
        bytes.append(raw[i])
        i += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
