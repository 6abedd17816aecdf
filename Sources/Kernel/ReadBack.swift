/// What a step can have changed, and so what the lab must read back after it: the one place that
/// says which steps may touch which boxes. Reading every box after every step made a step's cost
/// grow with the lab (a hostname in the last of 1,000 boxes read all 1,000); reading only what
/// the kernel can have changed keeps it to the step's own reach.
///
/// A kernel state is reached through namespaces: a change made in a namespace is seen by every
/// process in it (namespaces(7)). So a step reaches its box and every box that shares the
/// namespace it changes, and the host when the host is in that namespace too. What crosses
/// namespaces is read whole (`everything`): mounts propagate between mount namespaces through
/// peer groups (mount_namespaces(7), "Shared subtrees"), and a veth pair, a bridge's ports and
/// the lab's routes and firewall rules join network namespaces (veth(4)).
public struct ReadBack: Equatable, Sendable {
  /// Read the whole state again: the host, every box, the lab network and the image store.
  public var everything: Bool
  /// The boxes to read again, each once, in the order first named. A name no box has any more
  /// (the step removed it) means: leave it out.
  public var boxes: [String]
  /// The host's own facts: its hostname and domain name, the IPC objects and queues boxes made in
  /// its IPC namespace, its IDs (its network is the lab network's: never read here).
  public var host: Bool
  /// The image store (its images and layers).
  public var images: Bool

  public init(everything: Bool = false, boxes: [String] = [], host: Bool = false, images: Bool = false) {
    self.everything = everything
    self.boxes = boxes
    self.host = host
    self.images = images
  }

  public static let all = ReadBack(everything: true)

  /// Adds boxes, keeping each once.
  mutating func add(_ names: [String]) {
    // A step in the host's UTS namespace reaches every box still in it: most of a large lab.
    guard boxes.count * names.count > 64 else {
      for name in names where !boxes.contains(name) { boxes.append(name) }
      return
    }
    var seen = Set(boxes)
    for name in names where seen.insert(name).inserted { boxes.append(name) }
  }

  /// `merge` in place, for the usual case: the kernel has the boxes `facts` had, in the same
  /// order (`count` of them, the i-th called `name(i)`), or those and one more at the end, which
  /// `fresh` holds. The fresh boxes replace their entries where they are; nothing else is copied
  /// or compared, so the cost is that of what was read, not of the number of boxes (when the
  /// caller owns `facts` alone, the array is changed where it is). The kernel's `stamp` says its
  /// list is the one `facts` was read from, grown at the end only (`KernelFacts.boxListStamp`);
  /// without it (0, or another stamp) the names are compared one by one. False, and `facts`
  /// untouched, otherwise: the caller merges as `merge` does or reads everything.
  public static func merge(
    into facts: inout KernelFacts, count: Int, name: (Int) -> String, stamp: UInt64 = 0, fresh: [BoxFacts],
    host: ProcessFacts?, images: (images: [ImageFacts], layers: [LayerFacts])?
  ) -> Bool {
    let known = facts.boxes.count
    guard count == known || count == known + 1 else { return false }
    if stamp == 0 || facts.boxListStamp != stamp {
      // Only string comparisons here: the same names in the same places.
      for i in 0..<known where name(i) != facts.boxes[i].name { return false }
    }
    var places: [Int] = []
    places.reserveCapacity(fresh.count)
    for box in fresh {
      if count == known + 1, box.name == name(known) {
        places.append(known)
      } else if let i = facts.position(of: box.name) {
        places.append(i)
      } else {
        return false
      }
    }
    // A new box at the end must have been read.
    if count == known + 1, !places.contains(known) { return false }
    for (place, box) in zip(places, fresh) where place != known { facts.setProcess(box.process, at: place) }
    for (place, box) in zip(places, fresh) where place == known { facts.append(box) }
    facts.boxListStamp = stamp
    if let host { facts.host = host }
    if let images {
      facts.images = images.images
      facts.layers = images.layers
    }
    return true
  }

  /// Brings `facts` up to date with a read of what this step reached: in place when the kernel's
  /// boxes are those `facts` had (`merge(into:...)`), also after one of them left
  /// (`BoxList.lastRemoval`, `box rm`), else as a merged copy (`merge(previous:...)`, in the order
  /// of the kernel's `list`). False when neither can place what was read: the caller then reads
  /// everything (`facts` may have lost the box that left).
  public static func apply<Element>(
    to facts: inout KernelFacts, list: BoxList<Element>, fresh: [BoxFacts], host: ProcessFacts?,
    images: (images: [ImageFacts], layers: [LayerFacts])?
  ) -> Bool {
    // Facts read before the kernel's one removal hold the box that left at its place, and the
    // others before and after it in order: without it they are a prefix of the kernel's list.
    if let removal = list.lastRemoval, facts.boxListStamp == removal.stampBefore,
      list.stamp == removal.stampBefore &+ 1, removal.place < facts.boxes.count,
      facts.boxes[removal.place].name == removal.name
    {
      facts.removeBox(at: removal.place)
      facts.boxListStamp = list.stamp
    }
    let name = { (i: Int) in list[i].boxName }
    if merge(into: &facts, count: list.count, name: name, stamp: list.stamp, fresh: fresh, host: host, images: images) {
      return true
    }
    guard
      var merged = merge(
        previous: facts, order: list.map(\.boxName), fresh: fresh, host: host, images: images)
    else { return false }
    merged.boxListStamp = list.stamp
    facts = merged
    return true
  }

  /// The facts after a step, from those before it (`previous`) and a fresh read of what this says
  /// (`fresh`, the boxes named here, in the kernel's box order: `order`). A box not named keeps its
  /// facts from before; so do the host and the image store unless named.
  public static func merge(
    previous: KernelFacts, order: [String], fresh: [BoxFacts], host: ProcessFacts?,
    images: (images: [ImageFacts], layers: [LayerFacts])?
  ) -> KernelFacts? {
    var byName: [String: ProcessFacts] = [:]
    byName.reserveCapacity(fresh.count)
    for box in fresh { byName[box.name] = box.process }
    // The boxes before, by position: most are where they were (a step appends or removes one).
    var merged: [BoxFacts] = []
    merged.reserveCapacity(order.count)
    var j = 0
    for name in order {
      if let process = byName[name] {
        merged.append(BoxFacts(name: name, process: process))
        continue
      }
      while j < previous.boxes.count, previous.boxes[j].name != name { j += 1 }
      // A box that was neither read nor there before: the caller must read everything.
      guard j < previous.boxes.count else { return nil }
      merged.append(previous.boxes[j])
      j += 1
    }
    var facts = previous
    facts.replaceBoxes(merged)
    if let host { facts.host = host }
    if let images {
      facts.images = images.images
      facts.layers = images.layers
    }
    return facts
  }
}

extension Step {
  /// What this step can change, judged from the facts before it (`facts`). See `ReadBack`.
  public func readBack(in facts: KernelFacts) -> ReadBack {
    // The boxes (and the host) that share the box's namespace of each kind with it, as the step
    // leaves them: steps that move a box between namespaces name the target's too.
    func sharing(_ name: String, _ kinds: [NamespaceKind], includeHostNamespace: Bool = true) -> ReadBack {
      var out = ReadBack(boxes: [name])
      guard let own = facts.box(name)?.process.namespaces else { return out }
      for kind in kinds {
        guard let inode = own[kind] else { continue }
        let isHosts = facts.host.namespaces[kind] == inode
        // The host's mount and pid namespaces hold nothing a box shows: a box in them has no
        // mounts of its own, and its processes are its helper's children, wherever they are.
        if isHosts && !includeHostNamespace { continue }
        if isHosts { out.host = true }
        out.add(facts.boxes(in: kind, inode))
      }
      return out
    }
    /// A box in a network namespace of the lab's with more than its loopback: a link there may
    /// have a peer, a master or a route elsewhere, so what changes in it can show elsewhere.
    func wiredToOthers(_ name: String) -> Bool {
      guard let net = facts.box(name)?.process.net else { return false }
      return net.links.contains { $0.name != "lo" }
    }
    switch self {
    case .boxNew(let b):
      // fork(2): a new helper in the host's namespaces changes none of them. The host is read
      // again for the rootless backend, whose host is a process the first box may start.
      return ReadBack(boxes: [b], host: true)
    case .boxRemove(let b):
      // The box's processes die: a pid namespace whose PID 1 was one of them dies for every box
      // in it; IPC objects and hostnames live as long as their namespace. A mount namespace
      // that dies takes with it the mounts others saw through propagation, and a network
      // namespace that dies takes its end of every veth (veth(4)): read everything then.
      // A network namespace with only its loopback joins nothing: what dies with it is seen only
      // by the boxes in it (the sockets its helper held), read as sharers.
      guard let box = facts.box(b) else { return .all }
      if box.process.namespaces[.mnt] != facts.host.namespaces[.mnt] || wiredToOthers(b) { return .all }
      return sharing(b, [.uts, .ipc, .pid, .time, .net], includeHostNamespace: false)
    case .unshare(let b, let kinds, _):
      // A new mount namespace is a copy that receives propagated mounts; a new network namespace
      // becomes a member of the lab's network.
      if kinds.contains(.mnt) || kinds.contains(.net) && wiredToOthers(b) { return .all }
      // Leaving a namespace changes nothing in it for the others (unshare(2)), but for the
      // sockets the box's helper held in its network namespace: they stay with the helper, so a
      // port it listened on closes for every box that shares that namespace. The host is read
      // when the box leaves its namespaces, which may then die and be forgotten.
      var out = kinds.contains(.net) ? sharing(b, [.net], includeHostNamespace: false) : ReadBack(boxes: [b])
      out.host = true
      return out
    case .join(let b, let kind, let target):
      // setns(2) into a mount or network namespace: the same reasons as unshare.
      if kind == .mnt || kind == .net { return .all }
      // The box now shows the target's namespace: its hostname, its objects, whether its PID 1
      // is alive. Read the target and what shares that namespace.
      var out = sharing(target, [kind])
      out.add([b])
      out.host = true
      return out
    case .setHostname(let b, _), .setDomainname(let b, _):
      // sethostname(2) changes the UTS namespace: every process in it sees the new name.
      return sharing(b, [.uts])
    case .ipcNew(let b, _, _), .posixMQNew(let b, _):
      // An IPC object belongs to the IPC namespace (ipc_namespaces(7)).
      return sharing(b, [.ipc])
    case .clockOffset(let b, _, _):
      // /proc/PID/timens_offsets belongs to the time namespace (time_namespaces(7)).
      return sharing(b, [.time])
    case .map(let b, _, _):
      // uid_map and gid_map belong to the user namespace (user_namespaces(7)): every process in
      // it is now mapped.
      return sharing(b, [.user])
    case .run(let b, _, _), .kill(let b, _), .stress(let b, _):
      // A program can change what its namespaces hold (a hostname, an IPC object, a mount), and
      // when the PID 1 of a pid namespace exits every process in that namespace dies
      // (pid_namespaces(7)). A program in a wired network namespace may change a link whose
      // other end is elsewhere.
      if wiredToOthers(b) { return .all }
      if facts.box(b).map({ $0.process.namespaces[.mnt] != facts.host.namespaces[.mnt] }) == true {
        // Its own mount namespace: a program's mount may propagate to a peer.
        return .all
      }
      return sharing(b, [.uts, .ipc]).with(sharing(b, [.pid], includeHostNamespace: false))
    case .cgroupNew(let b), .cgroupSet(let b, _):
      // A box's cgroup is its own: boxwalk makes one per box.
      return ReadBack(boxes: [b])
    case .writeFile(let b, _, _), .removeFile(let b, _):
      // The box's writable layer is its own.
      return ReadBack(boxes: [b])
    case .commit(let b, _):
      // A new layer and image in the store, from the box's files.
      return ReadBack(boxes: [b], host: true, images: true)
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove:
      // The store is the host's; no box's layers can be removed while it uses them.
      return ReadBack(host: true, images: true)
    case .mount, .umount, .propagation, .pivotRoot, .chroot, .overlay:
      // Mounts propagate between mount namespaces (mount_namespaces(7)).
      return .all
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .ping, .netOutside, .netForward,
      .netNAT, .netPublish, .netListen, .connect:
      // Network steps join namespaces: a veth's two ends, a bridge and its ports, routes and rules.
      return .all
    }
  }
}

extension ReadBack {
  /// Both reads together.
  func with(_ other: ReadBack) -> ReadBack {
    if everything || other.everything { return .all }
    var out = self
    out.add(other.boxes)
    out.host = host || other.host
    out.images = images || other.images
    return out
  }
}

extension Kernel {
  /// A kernel that reads only as a whole (a test double) reads everything.
  public func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts {
    try facts()
  }

  /// A kernel that merges only into a copy answers with `facts(_:previous:)`.
  public func readBack(_ scope: ReadBack, into facts: inout KernelFacts) throws(KernelError) {
    facts = try self.facts(scope, previous: facts)
  }
}
