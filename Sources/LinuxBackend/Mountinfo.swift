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
    /// The file system type, the first field after the "-" (for a bind mount, the type of the
    /// file system the source is on).
    var fstype = ""
    /// N of `shared:N` and of `master:N`: the peer group the mount is in, and the one it is a
    /// slave of. A mount and its copies propagated to peers in other namespaces share the group.
    var peerGroup: Int?
    var masterGroup: Int?
  }

  /// Scanned as bytes without splitting into arrays: every separator the kernel writes is ASCII,
  /// a mount point may hold any byte but NUL, and a box's mountinfo is read after every step.
  static func parse(_ text: String) -> [Entry] { parse(bytes: Array(text.utf8)) }

  static func parse(bytes raw: [UInt8]) -> [Entry] {
    var entries: [Entry] = []
    raw.withUnsafeBufferPointer { bytes in
      var start = 0
      while start < bytes.count {
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        if let entry = entry(bytes[start..<end]) { entries.append(entry) }
        start = end + 1
      }
    }
    return entries
  }

  /// One line: field 5 is the mount point; fields 7 up to the lone "-" are the optional fields.
  private static func entry(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> Entry? {
    var field = 0
    var mountPoint: Slice<UnsafeBufferPointer<UInt8>>?
    var propagation = Propagation.private
    var peerGroup: Int?
    var masterGroup: Int?
    var separated = false
    var i = line.startIndex
    while i < line.endIndex {
      while i < line.endIndex && line[i] == UInt8(ascii: " ") { i += 1 }
      let first = i
      while i < line.endIndex && line[i] != UInt8(ascii: " ") { i += 1 }
      guard i > first else { break }
      let word = line[first..<i]
      if field == 4 { mountPoint = word }
      if separated {
        guard let mountPoint else { return nil }
        return Entry(
          mountPoint: unescape(Array(mountPoint)), propagation: propagation,
          fstype: String(decoding: word, as: UTF8.self), peerGroup: peerGroup, masterGroup: masterGroup)
      }
      if field >= 6 {
        if word.count == 1 && word.first == UInt8(ascii: "-") {
          separated = true
          field += 1
          continue
        }
        if word.starts(with: "master:".utf8) {
          propagation = .slave
          masterGroup = Int(String(decoding: word.dropFirst(7), as: UTF8.self))
        } else if word.starts(with: "shared:".utf8) {
          if propagation != .slave { propagation = .shared }
          peerGroup = Int(String(decoding: word.dropFirst(7), as: UTF8.self))
        }
      }
      field += 1
    }
    return nil  // no separator: not a mountinfo line
  }

  /// The kernel writes space, tab, newline and backslash in paths as \040, \011, \012, \134;
  /// the path's bytes are then spelled as boxwalk spells every name (FileName: `\xNN` for bytes
  /// that are not UTF-8 text), so a mount point a box made with an odd name still matches.
  static func unescape(_ raw: [UInt8]) -> String {
    var bytes: [UInt8] = []
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
    return FileName.escaped(bytes)
  }
}
