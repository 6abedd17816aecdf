/// User and group ID maps (user_namespaces(7)): a user namespace maps ranges of IDs inside it to
/// ranges outside, in its parent. `0 100000 65536` makes inside 0..65535 the parent's
/// 100000..165535. An ID with no mapping shows as the overflow ID 65534 ("nobody").
public struct IDMapRange: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var inside: UInt32
  public var outside: UInt32
  public var count: UInt32

  public init(inside: UInt32, outside: UInt32, count: UInt32) {
    self.inside = inside
    self.outside = outside
    self.count = count
  }

  /// The overflow ID the kernel shows for anything unmapped (/proc/sys/kernel/overflowuid).
  public static let overflow: UInt32 = 65534

  /// The identity map of the host's (initial) user namespace.
  public static let identity = IDMapRange(inside: 0, outside: 0, count: 4_294_967_295)

  public var description: String { "\(inside) \(outside) \(count)" }

  /// The ID inside the namespace for an outside ID, or nil when this range does not map it.
  public func inside(of outsideID: UInt32) -> UInt32? {
    outsideID >= outside && UInt64(outsideID) < UInt64(outside) + UInt64(count) ? inside + (outsideID - outside) : nil
  }

  /// The outside ID for an inside ID.
  public func outside(of insideID: UInt32) -> UInt32? {
    insideID >= inside && UInt64(insideID) < UInt64(inside) + UInt64(count) ? outside + (insideID - inside) : nil
  }

  /// Parses `0 100000 65536`, as /proc/PID/uid_map prints it (with any run of spaces).
  public static func parse(_ line: String) -> IDMapRange? {
    let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    return f.count == 3 ? IDMapRange(inside: f[0], outside: f[1], count: f[2]) : nil
  }
}

extension IDMapRange {
  /// An ID seen through a map: the inside value of `outsideID`, or the overflow ID.
  public static func inside(_ outsideID: UInt32, through map: [IDMapRange]) -> UInt32 {
    for range in map { if let v = range.inside(of: outsideID) { return v } }
    return overflow
  }
}

/// uid or gid, for `map`.
public enum IDKind: String, CaseIterable, Equatable, Hashable, Sendable {
  case uid, gid
}

/// Who a box's process is: its IDs inside its user namespace and on the host, the maps, and its
/// capabilities (capabilities(7)).
public struct UserFacts: Equatable, Sendable {
  /// The IDs as the box sees them.
  public var uid: UInt32
  public var gid: UInt32
  /// The IDs as the host sees them (the kernel's own kuid and kgid).
  public var hostUID: UInt32
  public var hostGID: UInt32
  public var uidMap: [IDMapRange]
  public var gidMap: [IDMapRange]
  /// What /proc/PID/setgroups says for the process's user namespace: true for "allow", false
  /// once "deny" was written there (user_namespaces(7)). A new user namespace starts with its
  /// parent's value; "deny" is written before an unprivileged writer's gid_map, and is for good.
  public var setgroupsAllowed: Bool
  /// Effective, permitted and bounding sets by name, relative to the process's own user namespace.
  public var effective: [String]
  public var permitted: [String]
  public var bounding: [String]

  public init(
    uid: UInt32, gid: UInt32, hostUID: UInt32, hostGID: UInt32, uidMap: [IDMapRange], gidMap: [IDMapRange],
    effective: [String], permitted: [String], bounding: [String], setgroupsAllowed: Bool = true
  ) {
    self.setgroupsAllowed = setgroupsAllowed
    self.uid = uid
    self.gid = gid
    self.hostUID = hostUID
    self.hostGID = hostGID
    self.uidMap = uidMap
    self.gidMap = gidMap
    self.effective = effective
    self.permitted = permitted
    self.bounding = bounding
  }

  /// Root on the host with every capability: what the helper is before any user namespace.
  public static let hostRoot = UserFacts(
    uid: 0, gid: 0, hostUID: 0, hostGID: 0, uidMap: [.identity], gidMap: [.identity], effective: Capabilities.all,
    permitted: Capabilities.all, bounding: Capabilities.all)
}

/// Capability names by number (include/uapi/linux/capability.h), 0 to CAP_LAST_CAP (40 since
/// Linux 5.9).
public enum Capabilities {
  public static let names = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
  ]
  public static let all = names

  /// Names of the bits set in a mask, as /proc/PID/status shows it in hex (CapEff: 000001ffffffffff).
  public static func names(ofHexMask hex: String) -> [String] {
    guard let mask = UInt64(hex, radix: 16) else { return [] }
    return names.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
  }

  /// "all", "none", or the names: how the state tree shows a set.
  public static func summary(_ set: [String]) -> String {
    set == names ? "all" : set.isEmpty ? "none" : set.joined(separator: ",")
  }
}
