/// The eight kinds of Linux namespace (namespaces(7)). Each wraps one global resource so that the
/// processes inside see their own instance of it.
public enum NamespaceKind: String, CaseIterable, Sendable, Comparable, Codable {
  case cgroup, ipc, mnt, net, pid, time, user, uts

  public static func < (a: NamespaceKind, b: NamespaceKind) -> Bool { a.rawValue < b.rawValue }

  // Equal and hashed by the clone flag, one per kind, rather than through the String raw value
  // (RawRepresentable's default): kinds key the dictionaries of every state read.
  public static func == (a: NamespaceKind, b: NamespaceKind) -> Bool { a.cloneFlag == b.cloneFlag }
  public func hash(into hasher: inout Hasher) { hasher.combine(cloneFlag) }

  /// The flag that unshare(2), clone(2) and setns(2) take for this kind.
  public var cloneFlagName: String {
    switch self {
    case .cgroup: "CLONE_NEWCGROUP"
    case .ipc: "CLONE_NEWIPC"
    case .mnt: "CLONE_NEWNS"  // the first namespace (2002) got the generic name
    case .net: "CLONE_NEWNET"
    case .pid: "CLONE_NEWPID"
    case .time: "CLONE_NEWTIME"
    case .user: "CLONE_NEWUSER"
    case .uts: "CLONE_NEWUTS"
    }
  }

  /// The numeric value of the flag (linux/sched.h), so pure code can describe requests exactly.
  public var cloneFlag: UInt32 {
    switch self {
    case .cgroup: 0x0200_0000
    case .ipc: 0x0800_0000
    case .mnt: 0x0002_0000
    case .net: 0x4000_0000
    case .pid: 0x2000_0000
    case .time: 0x0000_0080
    case .user: 0x1000_0000
    case .uts: 0x0400_0000
    }
  }

  /// The file under /proc/PID/ns/ that names the namespace this kind's *new processes* will use.
  /// For pid and time, unshare(2) does not move the caller: only its children enter the new
  /// namespace, so the kernel shows it as pid_for_children / time_for_children.
  public var procEntry: String {
    switch self {
    case .pid: "pid_for_children"
    case .time: "time_for_children"
    default: rawValue
    }
  }

  /// The util-linux unshare(1) / nsenter(1) long option for this kind.
  public var utilLinuxOption: String {
    switch self {
    case .mnt: "--mount"
    default: "--\(rawValue)"
    }
  }

  /// What the namespace isolates, in a few words, for the learner.
  public var isolates: String {
    switch self {
    case .cgroup: "the view of the cgroup tree (/proc/self/cgroup)"
    case .ipc: "System V IPC objects and POSIX message queues"
    case .mnt: "the mount table"
    case .net: "network devices, addresses, routes and ports"
    case .pid: "process IDs"
    case .time: "the boot-time and monotonic clocks"
    case .user: "user and group IDs and capabilities"
    case .uts: "the hostname and NIS domain name"
    }
  }
}
