/// The cleanup ledger of one session: a small text journal of every host-side object the session
/// made, so that `boxwalk cleanup` can remove what a crashed session left (docs/security.md).
///
///     boxwalk-ledger 1 BOOT_ID PID STARTTIME
///     helper BOX PID STARTTIME
///
/// The first line names the owner: the boxwalk process (its PID and start time, field 22 of
/// /proc/PID/stat) in the boot BOOT_ID. The session is dead when the boot differs, or the PID is
/// gone, or the PID now has another start time. Each later line is one object; later issues add
/// kinds (cgroup directories, veths, ...). A field is percent-encoded outside [A-Za-z0-9_.-], so a
/// line always splits on spaces. A new object's line is appended (the cost of a record is one
/// line, not the whole ledger: a lab of a thousand boxes has a few thousand lines); a line
/// dropped is written by replacing the file whole, atomically. A last line without its newline
/// was being appended when its writer died, before the object it names was made: it is skipped.
package struct Ledger: Equatable, Sendable {
  package static let fileName = "ledger"
  package static let formatVersion = 1

  package struct Owner: Equatable, Sendable {
    package var bootID: String
    package var pid: Int32
    package var startTime: UInt64
    package init(bootID: String, pid: Int32, startTime: UInt64) {
      self.bootID = bootID
      self.pid = pid
      self.startTime = startTime
    }
  }

  package enum Record: Equatable, Sendable {
    /// A boxwalk-helper process holding a box's namespaces, or (box "host", a name no box can
    /// have) the network namespace of the lab's host side.
    case helper(box: String, pid: Int32, startTime: UInt64)
    /// A directory tree boxwalk made inside the session directory (a box's overlay directories,
    /// or a throwaway image store).
    case scratch(box: String, path: String)
    /// A System V IPC object made in the host's IPC namespace (KIND mq, shm or sem): removed at
    /// teardown, since it would outlive the session.
    case ipc(kind: String, key: Int32, id: Int32)
    /// A POSIX message queue made in the host's IPC namespace, by name ("/jobs") and by the inode
    /// it had, so that a later queue of the same name made by someone else is left alone.
    case posixMQ(name: String, inode: UInt64)
    /// A line of a kind this build does not know (written by a newer boxwalk): kept as it is.
    case unknown(String)

    /// Whether the object can still exist after the machine crashed and restarted: files can
    /// (where /run is on disk); processes and System V IPC objects cannot. Unknown kinds are
    /// assumed to.
    package var outlivesTheMachine: Bool {
      switch self {
      case .helper, .ipc, .posixMQ: false
      case .scratch, .unknown: true
      }
    }
  }

  package struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    package var line: Int
    package var reason: String
    package var description: String { "line \(line): \(reason)" }
  }

  package var owner: Owner
  package var records: [Record]

  package init(owner: Owner, records: [Record] = []) {
    self.owner = owner
    self.records = records
  }

  package var text: String {
    let header = "boxwalk-ledger \(Self.formatVersion) \(Self.escape(owner.bootID)) \(owner.pid) \(owner.startTime)"
    return ([header] + records.map(Self.line)).joined(separator: "\n") + "\n"
  }

  /// One record's line, without its newline.
  package static func line(_ record: Record) -> String {
    switch record {
    case .helper(let box, let pid, let start): "helper \(escape(box)) \(pid) \(start)"
    case .scratch(let box, let path): "scratch \(escape(box)) \(escape(path))"
    case .ipc(let kind, let key, let id): "ipc \(kind) \(key) \(id)"
    case .posixMQ(let name, let inode): "posix_mq \(escape(name)) \(inode)"
    case .unknown(let line): line
    }
  }

  package static func parse(_ text: String) throws(ParseError) -> Ledger {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // A last line with no newline was cut short as it was appended (see above); the header is
    // always written whole.
    if lines.count > 1, !text.hasSuffix("\n") { lines.removeLast() }
    guard let header = lines.first, !header.isEmpty else { throw ParseError(line: 1, reason: "empty ledger") }
    let h = header.split(separator: " ").map(String.init)
    guard h.count == 5, h[0] == "boxwalk-ledger" else {
      throw ParseError(line: 1, reason: "not a boxwalk ledger header")
    }
    guard h[1] == String(formatVersion) else {
      throw ParseError(line: 1, reason: "ledger format \(h[1]), this boxwalk reads \(formatVersion)")
    }
    guard let boot = unescape(h[2]), let pid = Int32(h[3]), let start = UInt64(h[4]) else {
      throw ParseError(line: 1, reason: "bad owner fields")
    }
    var ledger = Ledger(owner: Owner(bootID: boot, pid: pid, startTime: start))
    for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty {
      let f = line.split(separator: " ").map(String.init)
      switch f.first {
      case "helper":
        guard f.count == 4, let box = unescape(f[1]), let pid = Int32(f[2]), let start = UInt64(f[3]) else {
          throw ParseError(line: index + 1, reason: "bad helper record")
        }
        ledger.records.append(.helper(box: box, pid: pid, startTime: start))
      case "scratch":
        guard f.count == 3, let box = unescape(f[1]), let path = unescape(f[2]) else {
          throw ParseError(line: index + 1, reason: "bad scratch record")
        }
        ledger.records.append(.scratch(box: box, path: path))
      case "ipc":
        guard f.count == 4, ["mq", "shm", "sem"].contains(f[1]), let key = Int32(f[2]), let id = Int32(f[3]) else {
          throw ParseError(line: index + 1, reason: "bad ipc record")
        }
        ledger.records.append(.ipc(kind: f[1], key: key, id: id))
      case "posix_mq":
        guard f.count == 3, let name = unescape(f[1]), name.hasPrefix("/"), let inode = UInt64(f[2]) else {
          throw ParseError(line: index + 1, reason: "bad posix_mq record")
        }
        ledger.records.append(.posixMQ(name: name, inode: inode))
      default:
        ledger.records.append(.unknown(line))
      }
    }
    return ledger
  }

  /// Percent-encoding of every byte outside [A-Za-z0-9_.-] (RFC 3986 style, `%2F`).
  package static func escape(_ s: String) -> String {
    var out = ""
    for byte in s.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
        out.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        let hex = String(byte, radix: 16, uppercase: true)
        out += "%" + (hex.count == 1 ? "0" : "") + hex
      }
    }
    return out
  }

  /// The inverse of `escape`; nil for a malformed escape.
  package static func unescape(_ s: String) -> String? {
    var bytes: [UInt8] = []
    var iterator = Array(s.utf8).makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let hi = iterator.next(), let lo = iterator.next(),
        let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)
      else { return nil }
      bytes.append(value)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
