/// A typed wildcard in an expected line: `{{pid}}`, or `{{pid:NAME}}` to capture the value.
///
/// Host PIDs, inode numbers and MAC addresses differ on every machine and every run, so a golden
/// transcript cannot spell them out. A class says *what kind* of text is there, which is stricter
/// than `{{*}}`: `{{pid}}` will not accept an error message where a number should be.
public enum TranscriptClass: String, CaseIterable, Sendable {
  case pid, int, inode, hex, bytes, dur, ip4, mac, veth, host, path, word

  /// The regular expression (Swift `Regex` syntax) one value of the class matches. It is used
  /// inside an anchored whole-line regex, so it needs no anchors of its own.
  public var pattern: String {
    switch self {
    // A process ID: the kernel hands out positive integers (see pid_namespaces(7)).
    case .pid: return "[0-9]+"
    case .int: return "-?[0-9]+"
    // A namespace or file inode number, as in /proc/PID/ns/uts -> 'uts:[4026531838]'.
    case .inode: return "[0-9]+"
    case .hex: return "(?:0x)?[0-9A-Fa-f]+"
    // A size: 4096, 4096 B, 1.5 KiB, 12MB, 8k.
    case .bytes: return "[0-9]+(?:\\.[0-9]+)?(?: ?(?:[KMGTPE]i?B|[kKMGTPE]|B))?"
    // A duration: 20ms, 1.5s, 3µs, or Go-style 1m30s.
    case .dur: return "(?:[0-9]+(?:\\.[0-9]+)?(?:ns|us|µs|μs|ms|s|m|h))+"
    // An IPv4 address, with an optional prefix length: 10.0.0.2/24. Each octet is 0-255.
    case .ip4:
      let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
      return "\(octet)(?:\\.\(octet)){3}(?:/(?:3[0-2]|[12]?[0-9]))?"
    // An Ethernet address: six colon-separated hex pairs (ip-link(8) prints lowercase).
    case .mac: return "[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"
    // A veth interface name, as the kernel or iproute2 makes them up: veth1a2b3c.
    case .veth: return "veth[A-Za-z0-9_.-]*"
    // A hostname: anything up to whitespace or a quote, so `"lab-box"` captures lab-box.
    case .host: return "[^\\s\"]+"
    case .path: return "/\\S*"
    case .word: return "\\S+"
    }
  }

  /// Values that name one kernel object each. Two different capture names of these classes may not
  /// hold the same value: `{{inode:HOST_UTS}}` and `{{inode:BOX_UTS}}` equal would mean the box did
  /// not get a namespace of its own, which is exactly the bug a transcript should catch. PIDs are
  /// deliberately not distinct: two PID namespaces both have a PID 1.
  public var isDistinct: Bool {
    switch self {
    case .inode, .ip4, .mac, .veth: return true
    default: return false
    }
  }

  static var names: [String] { allCases.map(\.rawValue) }
}
