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
  /// Every box, in creation order. Changed only through `append`, `setProcess` and
  /// `replaceBoxes`, which keep the index in step, so that finding a box, or the boxes in a
  /// namespace, costs the same in a lab of one box or of a thousand.
  public var boxes: [BoxFacts] { list }
  /// The host's image store: images by name, and the layers they are made of.
  public var images: [ImageFacts]
  public var layers: [LayerFacts]
  /// The lab's outside (OutsideNet), once `net outside` made it.
  public var outside: NetFacts?
  /// Which kernel's box list these facts were read from, as that kernel stamps it: a kernel
  /// changes its stamp whenever a box leaves its list, and only then, so facts with the kernel's
  /// stamp hold a prefix of its boxes, in its order (`ReadBack.merge`). 0: not known.
  public var boxListStamp: UInt64 = 0
  private var list: [BoxFacts]
  private var index: BoxIndex

  public init(
    host: ProcessFacts, boxes: [BoxFacts], images: [ImageFacts] = [], layers: [LayerFacts] = [],
    outside: NetFacts? = nil
  ) {
    self.outside = outside
    self.host = host
    self.list = boxes
    self.images = images
    self.layers = layers
    self.index = BoxIndex(boxes)
  }

  /// The facts themselves: the stamp and the index say how they were read and are found.
  public static func == (a: KernelFacts, b: KernelFacts) -> Bool {
    a.host == b.host && a.list == b.list && a.images == b.images && a.layers == b.layers && a.outside == b.outside
  }

  public func box(_ name: String) -> BoxFacts? { index.position[name].map { list[$0] } }

  /// Where the box called `name` is in `boxes`.
  public func position(of name: String) -> Int? { index.position[name] }

  /// The boxes whose namespace of `kind` is `inode`, in box order.
  public func boxes(in kind: NamespaceKind, _ inode: UInt64) -> [String] {
    (index.members[kind]?[inode] ?? []).map { list[$0].name }
  }

  /// A box read after the others, at the end of the list.
  public mutating func append(_ box: BoxFacts) {
    index.add(box.process.namespaces, at: list.count)
    index.position[box.name] = list.count
    list.append(box)
  }

  /// The box at `place` read again.
  public mutating func setProcess(_ process: ProcessFacts, at place: Int) {
    let old = list[place].process.namespaces
    if old != process.namespaces {
      index.remove(old, at: place)
      index.add(process.namespaces, at: place)
    }
    list[place].process = process
  }

  /// The box at `place` left; the boxes after it move one place up. The index is changed where
  /// it is: the places after it are counted down, with no hashing, rather than made again (which
  /// made each `box rm` in a large lab hash every box's name and namespaces).
  public mutating func removeBox(at place: Int) {
    let box = list.remove(at: place)
    index.remove(box.process.namespaces, at: place)
    index.position[box.name] = nil
    index.moveUp(after: place)
  }

  /// A new list of boxes (after one left, or in another order): the index is made again.
  public mutating func replaceBoxes(_ boxes: [BoxFacts]) {
    list = boxes
    index = BoxIndex(boxes)
  }
}

/// KernelFacts' index: each box's place by name, and the places of the boxes in each namespace,
/// ascending (box order).
private struct BoxIndex: Sendable {
  var position: [String: Int] = [:]
  var members: [NamespaceKind: [UInt64: [Int]]] = [:]

  init(_ boxes: [BoxFacts]) {
    position.reserveCapacity(boxes.count)
    for (i, box) in boxes.enumerated() {
      position[box.name] = i
      add(box.process.namespaces, at: i)
    }
  }

  // Changed where they are (Dictionary's subscripts modify in place), not copied out and back:
  // the boxes still in the host's namespaces can be most of a large lab.
  mutating func add(_ namespaces: [NamespaceKind: UInt64], at place: Int) {
    for (kind, inode) in namespaces {
      // Usually the box goes last (appended, or read again as the last one).
      if let places = members[kind]?[inode], let last = places.last, last > place,
        let at = places.firstIndex(where: { $0 > place })
      {
        members[kind]?[inode]?.insert(place, at: at)
      } else {
        members[kind, default: [:]][inode, default: []].append(place)
      }
    }
  }

  /// The places after `place` are one less (the box there left).
  mutating func moveUp(after place: Int) {
    for i in position.values.indices where position.values[i] > place { position.values[i] -= 1 }
    for k in members.values.indices {
      for j in members.values[k].values.indices {
        // Ascending: only the tail moves.
        guard let last = members.values[k].values[j].last, last > place else { continue }
        let (first, count): (Int, Int) = {
          let places = members.values[k].values[j]
          var first = places.count - 1
          while first > 0, places[first - 1] > place { first -= 1 }
          return (first, places.count)
        }()
        for m in first..<count { members.values[k].values[j][m] -= 1 }
      }
    }
  }

  mutating func remove(_ namespaces: [NamespaceKind: UInt64], at place: Int) {
    for (kind, inode) in namespaces {
      members[kind]?[inode]?.removeAll { $0 == place }
      if members[kind]?[inode]?.isEmpty == true { members[kind]?[inode] = nil }
    }
  }
}
