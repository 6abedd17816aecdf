/// Raw facts about one process as a kernel reports them: what `/proc/PID/ns/*` links point at,
/// what uname(2) says inside. The state tree is built from these by pure code, the same for every
/// backend, so the two kernels cannot disagree on the tree's shape.
public struct ProcessFacts: Equatable, Sendable {
  /// The host PID of the process (volatile: it differs every run).
  public var hostPID: Int
  /// Namespace identity per kind: the inode number of /proc/PID/ns/KIND (for pid and time, of
  /// pid_for_children and time_for_children). Two processes share a namespace when these match.
  public var namespaces: [NamespaceKind: UInt64]
  /// uname(2) nodename as seen inside the process's UTS namespace.
  public var hostname: String
  /// uname(2) domainname ("(none)" when unset, as the kernel reports it).
  public var domainname: String
  /// The box's processes (not the helper itself), by box PID. Empty for the host.
  public var processes: [BoxProcessFacts]
  /// False once PID 1 of the box's own pid namespace has exited: the kernel then killed every
  /// process in it, and no new one can enter (fork(2) fails with ENOMEM).
  public var pidNamespaceAlive: Bool
  /// The pid namespace whose processes the proc file system at /proc shows, as the box sees its
  /// root (docs/state-paths.md, `BOX.pid.proc`): the host's while the box sees the host's /proc,
  /// the one it was mounted for after `mount proc /proc`. nil when there is no proc at /proc
  /// (a root filesystem of its own without one). Always nil for the host.
  public var procPIDNamespace: UInt64?
  /// Mounts that differ from the host's (every mount once the box has a root filesystem of its own),
  /// sorted by path. Empty while the box shares the host's mount namespace.
  public var mounts: [MountFacts]
  /// Propagation of the box's "/" mount; nil while it shares the host's mount namespace.
  public var rootPropagation: Propagation?
  public var root: RootFacts
  /// System V IPC objects visible in the process's IPC namespace. For the host: only those
  /// created since the session started (the host's own are host-specific; docs/transcripts.md).
  public var ipc: [IPCObjectFacts]
  /// POSIX message queues of the process's IPC namespace, by name ("/jobs"), sorted. For the
  /// host: only those made in this session, as for `ipc`.
  public var posixMQ: [String] = []
  /// The clock offsets of the time namespace the box's next process enters (time_for_children).
  public var clockOffsets = ClockOffsets()
  /// IDs, maps and capabilities.
  public var user: UserFacts
  /// For every kind but user: the inode of the user namespace that owns the process's namespace
  /// (ioctl_ns(2), NS_GET_USERNS). Privileged operations on a namespace are checked there.
  public var owners: [NamespaceKind: UInt64]
  /// The box's cgroup: its limits and usage; nil before `cgroup new`.
  public var cgroup: CgroupReport?
  /// The network the process sees, when it is one of boxwalk's network namespaces. nil for a box
  /// that still shares the machine's network namespace: the machine's links and routes differ
  /// between hosts (docs/transcripts.md, "What is volatile") and boxwalk never reads or changes
  /// them. For the host, this is the lab's host side: the network namespace boxwalk keeps for the
  /// session that stands in for the host, never the machine's own.
  public var net: NetFacts?
  /// The box's layers, when its root filesystem is an overlay (nil otherwise).
  public var fs: FSFacts?

  public init(
    hostPID: Int, namespaces: [NamespaceKind: UInt64], hostname: String, domainname: String,
    processes: [BoxProcessFacts] = [], pidNamespaceAlive: Bool = true, mounts: [MountFacts] = [],
    rootPropagation: Propagation? = nil, root: RootFacts = .host, ipc: [IPCObjectFacts] = [],
    user: UserFacts = .hostRoot, owners: [NamespaceKind: UInt64] = [:], net: NetFacts? = nil,
    fs: FSFacts? = nil
  ) {
    self.hostPID = hostPID
    self.namespaces = namespaces
    self.hostname = hostname
    self.domainname = domainname
    self.processes = processes
    self.pidNamespaceAlive = pidNamespaceAlive
    self.mounts = mounts
    self.rootPropagation = rootPropagation
    self.root = root
    self.ipc = ipc
    self.user = user
    self.owners = owners
    self.cgroup = nil
    self.net = net
    self.fs = fs
  }
}

public struct BoxFacts: Equatable, Sendable {
  public var name: String
  public var process: ProcessFacts
  public init(name: String, process: ProcessFacts) {
    self.name = name
    self.process = process
  }
}

public struct KernelFacts: Equatable, Sendable {
  /// The host: the namespaces boxwalk itself runs in.
  public var host: ProcessFacts
  /// Every box, in creation order.
  public var boxes: [BoxFacts]
  /// The host's image store: images by name, and the layers they are made of.
  public var images: [ImageFacts]
  public var layers: [LayerFacts]
  /// The lab's outside (OutsideNet), once `net outside` made it.
  public var outside: NetFacts?
  public init(
    host: ProcessFacts, boxes: [BoxFacts], images: [ImageFacts] = [], layers: [LayerFacts] = [],
    outside: NetFacts? = nil
  ) {
    self.outside = outside
    self.host = host
    self.boxes = boxes
    self.images = images
    self.layers = layers
  }

  public func box(_ name: String) -> BoxFacts? { boxes.first { $0.name == name } }
}
