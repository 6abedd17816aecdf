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

extension KernelFacts {
  /// The boxes (and the host) that share box `name`'s namespace of each kind with it, as the
  /// step leaves them: steps that move a box between namespaces name the target's too. The
  /// host's mount and pid namespaces hold nothing a box shows (a box in them has no mounts of
  /// its own, and its processes are its helper's children): `includeHostNamespace: false`
  /// leaves the host out when the namespace is the host's.
  func sharers(of name: String, _ kinds: [NamespaceKind], includeHostNamespace: Bool = true) -> ReadBack {
    var out = ReadBack(boxes: [name])
    guard let own = box(name)?.process.namespaces else { return out }
    for kind in kinds {
      guard let inode = own[kind] else { continue }
      let isHosts = host.namespaces[kind] == inode
      if isHosts && !includeHostNamespace { continue }
      if isHosts { out.host = true }
      out.add(boxes(in: kind, inode))
    }
    return out
  }

  /// A box in a network namespace of the lab's with more than its loopback: a link there may
  /// have a peer, a master or a route elsewhere, so what changes in it can show elsewhere.
  func isWiredToOthers(_ name: String) -> Bool {
    guard let net = box(name)?.process.net else { return false }
    return net.links.contains { $0.name != "lo" }
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
