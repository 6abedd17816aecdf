/// Builds the state tree (docs/state-paths.md) from raw kernel facts. Shared by every backend, so
/// the tree's shape and labels cannot differ between them. It keeps the labeler for the whole
/// session.
///
/// It also keeps the last build's subtree of the host and of each box, with the facts each was
/// built from: most steps change one box or none, and the tree is rebuilt after every step, so a
/// subtree whose facts are equal to last time is reused rather than built again (and the diff,
/// seeing the same storage on both sides, skips it: `StateMap.isSameStorage`).
public struct StateTreeBuilder: Sendable {
  public private(set) var labeler = Labeler()

  public init() {}

  private var hostUserNamespace: UInt64?
  private var hostUser: UserFacts?

  /// A subtree of the last build, what it was built from, and the inodes it labels.
  private struct Memo: Sendable {
    var process: ProcessFacts
    var map: StateMap
    var inodes: [NamespaceInode]
  }
  /// The host's subtree (its images and layers too).
  private var lastHost: (memo: Memo, images: [ImageFacts], layers: [LayerFacts])?
  /// Each box's subtree, for the boxes of the last build only.
  private var lastBoxes: [String: Memo] = [:]
  /// The last build's root: a step that reached a few boxes (`build(_:scope:)`) replaces their
  /// entries and leaves the others where they are. It finds a box's entry with the map's own
  /// look-up (`StateMap.position(of:)`, indexed once the lab has a few dozen boxes).
  private var lastRoot: StateMap?
  /// Whether the last build had the lab's outside (then the boxes start one entry later).
  private var lastOutside: NetFacts?
  /// How many subtrees of the last build (host and boxes) label each inode: an inode that no
  /// subtree labels any more is forgotten, without a look at the subtrees nobody changed.
  private var inodeUses: [NamespaceInode: Int] = [:]
  /// The top-level keys whose subtree the last build made again, with their place in the root,
  /// in tree order: the only ones in which the diff against the build before can find a change
  /// (`StateDiff.between(_:_:only:)`). nil after a whole build.
  public private(set) var changedKeys: [StateDiff.TopLevelKey]?
  /// The tree before the last build, as far as the diff and a step's summary need it: after a
  /// whole build, the whole tree before; after a build for a scope, the old values of
  /// `changedKeys` only, in a map of their own (a key the build added has none). So the root of
  /// a large lab is changed where it is, not copied, as long as nobody else holds the last tree
  /// while the builder builds the next (Session drops its own first).
  public private(set) var replaced: StateValue = .map(StateMap())

  /// Why reuse is exact: a subtree is a pure function of its facts, of the host's user namespace
  /// and IDs (a box shows "host" for capabilities equal to the host's), and of the labels of the
  /// inodes it names. The labeler hands out a label only to an inode it does not know, and keeps
  /// the label of every inode the last build saw; a box of the last build saw all of its own, so
  /// with equal facts (and the same host user) its labels, and so its subtree, come out the same.
  /// The same holds for each part of a subtree (`ns`, `mounts`, `user`, ...) with the facts it is
  /// made from, which is how a box whose facts changed is built again (`processMap`). A box that
  /// was not in the last build (new, or removed and made again under the same name) is always
  /// built afresh, and so is every box when the host's user namespace or IDs changed.
  public mutating func build(_ facts: KernelFacts) -> StateValue {
    replaced = .map(lastRoot ?? StateMap())
    let hostUserChanged = hostUserNamespace != facts.host.namespaces[.user] || hostUser != facts.host.user
    hostUserNamespace = facts.host.namespaces[.user]
    hostUser = facts.host.user
    // The inodes labelled by subtrees of the last build that were built again or removed, and by
    // the subtrees built in their place: only these can change which inodes are in use.
    var dropped: [NamespaceInode] = []
    var added: [NamespaceInode] = []
    var root = StateMap()
    root.reserveCapacity(facts.boxes.count + 1)
    // The host first, so that every one of its namespaces is label 0.
    if let last = lastHost, last.memo.process == facts.host, last.images == facts.images, last.layers == facts.layers {
      root.appendNew("host", .map(last.memo.map))
    } else {
      var host = processMap(facts.host, hostPIDKey: nil, previous: lastHost.map { ($0.memo.process, $0.memo.map) })
      host["images"] = .map(Self.images(facts))
      host["layers"] = .map(Self.layers(facts))
      let memo = Memo(process: facts.host, map: host, inodes: Self.inodes(facts.host, isBox: false))
      dropped += lastHost?.memo.inodes ?? []
      added += memo.inodes
      lastHost = (memo, facts.images, facts.layers)
      root.appendNew("host", .map(host))
    }
    // The lab's outside, beside the host side: only its network.
    if let outside = facts.outside {
      root.appendNew(OutsideNet.name, .map(StateMap([("net", Self.netMap(outside))])))
    }
    var boxes: [String: Memo] = [:]
    boxes.reserveCapacity(facts.boxes.count)
    for box in facts.boxes {
      let last = lastBoxes.removeValue(forKey: box.name)
      let memo: Memo
      if let last, !hostUserChanged, last.process == box.process {
        memo = last
      } else {
        let map = processMap(
          box.process, hostPIDKey: "host_pid", previous: hostUserChanged ? nil : last.map { ($0.process, $0.map) })
        memo = Memo(process: box.process, map: map, inodes: Self.inodes(box.process, isBox: true))
        dropped += last?.inodes ?? []
        added += memo.inodes
      }
      boxes[box.name] = memo
      // A kernel names each box once, and no box may be called "host" or "outside"
      // (Names.reservedBoxNames): every key is new, and appendNew skips the search of the whole
      // map a subscript set makes, which made building the tree quadratic in the number of boxes.
      root.appendNew(box.name, .map(memo.map))
    }
    // What is left of the last build's boxes was removed.
    for memo in lastBoxes.values { dropped += memo.inodes }
    lastBoxes = boxes
    forgetUnused(dropped, added: added)
    lastRoot = root
    lastOutside = facts.outside
    changedKeys = nil
    return .map(root)
  }

  /// The same tree as `build(_:)`, for facts read back after a step that could change only what
  /// `scope` names (`Step.readBack`): every box it does not name has the very facts it had at the
  /// last build (`ReadBack.merge` copies them), so its subtree is the last one, and only the
  /// boxes named (and the host, when named) are looked at. The cost is that of what the step
  /// reached, not of the number of boxes. A box the scope names that the facts no longer have
  /// (`box rm`) leaves the root where it was, and the diff sees its old subtree go
  /// (`StateDiff.TopLevelKey.removed`). Whatever this cannot place for sure (two boxes removed, a
  /// new box not at the end, the host's user namespace changed, the outside made) is a whole
  /// build. `changedKeys` then lists what was made again, for the diff.
  public mutating func build(_ facts: KernelFacts, scope: ReadBack) -> StateValue {
    guard !scope.everything, var root = lastRoot, facts.outside == lastOutside,
      facts.host.namespaces[.user] == hostUserNamespace, facts.host.user == hostUser
    else { return build(facts) }
    let offset = facts.outside == nil ? 1 : 2
    guard let (positions, removed) = Self.places(of: scope.boxes, in: facts, root: root, offset: offset) else {
      return build(facts)
    }
    var changed: [StateDiff.TopLevelKey] = []
    var dropped: [NamespaceInode] = []
    var added: [NamespaceInode] = []
    let hostChanged =
      scope.host && lastHost != nil
      && !(lastHost?.memo.process == facts.host && lastHost?.images == facts.images
        && lastHost?.layers == facts.layers)
    if !hostChanged,
      facts.images != lastHost?.images || facts.layers != lastHost?.layers || facts.host != lastHost?.memo.process
    {
      // Facts the scope said could not change did: build it all, as without a scope.
      return build(facts)
    }
    // From here on the root is changed where it is: the builder lets go of its own reference
    // first, so that the map's storage is copied only if someone else still holds the last tree.
    lastRoot = nil
    var old = StateMap()
    // The host first, as in a whole build, so that labels are handed out in the same order.
    if hostChanged, let last = lastHost {
      var host = processMap(facts.host, hostPIDKey: nil, previous: (last.memo.process, last.memo.map))
      host["images"] = .map(Self.images(facts))
      host["layers"] = .map(Self.layers(facts))
      let memo = Memo(process: facts.host, map: host, inodes: Self.inodes(facts.host, isBox: false))
      dropped += last.memo.inodes
      added += memo.inodes
      lastHost = (memo, facts.images, facts.layers)
      old.appendNew("host", root.entries[0].1)
      root.setValue(at: 0, .map(host))
      changed.append(StateDiff.TopLevelKey(key: "host", index: 0))
    }
    if let removed {
      old.appendNew(removed.name, root.entries[removed.index].1)
      root.remove(at: removed.index)
      dropped += lastBoxes.removeValue(forKey: removed.name)?.inodes ?? []
    }
    // In the order of the last tree, as a whole diff walks it: the box that left comes before
    // the boxes that were after it.
    var removedKey = removed.map { StateDiff.TopLevelKey(key: $0.name, index: $0.index, removed: true) }
    for position in positions {
      if let key = removedKey, position + offset >= key.index {
        changed.append(key)
        removedKey = nil
      }
      let box = facts.boxes[position]
      let last = lastBoxes[box.name]
      if let last, last.process == box.process { continue }
      let map = processMap(box.process, hostPIDKey: "host_pid", previous: last.map { ($0.process, $0.map) })
      let memo = Memo(process: box.process, map: map, inodes: Self.inodes(box.process, isBox: true))
      dropped += last?.inodes ?? []
      added += memo.inodes
      lastBoxes[box.name] = memo
      if last == nil {
        root.appendNew(box.name, .map(map))
      } else {
        old.appendNew(box.name, root.entries[position + offset].1)
        root.setValue(at: position + offset, .map(map))
      }
      changed.append(StateDiff.TopLevelKey(key: box.name, index: position + offset))
    }
    if let removedKey { changed.append(removedKey) }
    forgetUnused(dropped, added: added)
    lastRoot = root
    changedKeys = changed
    replaced = .map(old)
    return .map(root)
  }

  /// Where the boxes `names` are in the facts (the kernel's box order, as in the tree), ascending,
  /// a box new at the end included, and the one box among them that left (its place in the last
  /// root); nil when they cannot be placed for sure (then the build is whole).
  private static func places(of names: [String], in facts: KernelFacts, root: StateMap, offset: Int)
    -> (positions: [Int], removed: (name: String, index: Int)?)?
  {
    var removed: (name: String, index: Int)?
    for name in names where facts.position(of: name) == nil {
      guard let i = root.position(of: name) else { continue }
      guard i >= offset, removed == nil else { return nil }
      removed = (name, i)
    }
    let lastCount = root.entries.count - offset - (removed == nil ? 0 : 1)
    var positions: [Int] = []
    positions.reserveCapacity(names.count)
    var appended: String?
    for name in names where name != removed?.name {
      let place = root.position(of: name).map { i in removed.map { i > $0.index ? i - 1 : i } ?? i }
      if let i = place, i >= offset {
        guard i - offset < facts.boxes.count, facts.boxes[i - offset].name == name else { return nil }
        positions.append(i - offset)
      } else if place == nil, facts.boxes.count == lastCount + 1, facts.boxes.last?.name == name {
        appended = name
      } else if place != nil || facts.position(of: name) != nil {
        return nil
      }  // else: a name no box has (the step removed or never made it)
    }
    guard facts.boxes.count == lastCount + (appended == nil ? 0 : 1), removed == nil || appended == nil else {
      return nil
    }
    if appended != nil { positions.append(facts.boxes.count - 1) }
    positions.sort()
    return (positions, removed)
  }

  /// A namespace's inode with the kind of label it gets (an owner is labelled as a user namespace).
  struct NamespaceInode: Equatable, Hashable, Sendable {
    var kind: NamespaceKind
    var inode: UInt64
  }

  /// Every inode a process's subtree labels: its namespaces, and for a box the user namespaces
  /// that own them and the pid namespace its /proc shows.
  private static func inodes(_ p: ProcessFacts, isBox: Bool) -> [NamespaceInode] {
    var out = p.namespaces.map { NamespaceInode(kind: $0.key, inode: $0.value) }
    if isBox {
      for (kind, inode) in p.owners where kind != .user { out.append(NamespaceInode(kind: .user, inode: inode)) }
      // The pid namespace its /proc shows, which a proc mount keeps alive after the box left it.
      if let proc = p.procPIDNamespace { out.append(NamespaceInode(kind: .pid, inode: proc)) }
    }
    return out
  }

  /// Makes the labeler forget every inode that no subtree of this build labels (its namespace
  /// died, and the kernel may give the number to a new one, ioctl_ns(2)). `dropped` are the
  /// inodes of the subtrees replaced or removed, `added` those of the subtrees made in their
  /// place; a count per inode of the subtrees that label it says which are left unlabelled,
  /// so a step that changed one box does not visit every box.
  private mutating func forgetUnused(_ dropped: [NamespaceInode], added: [NamespaceInode]) {
    // Every subtree's inodes are counted in `inodeUses` when it is made and uncounted when it is
    // replaced or removed, so an inode whose count falls to zero is labelled by no subtree.
    for a in added { inodeUses[a, default: 0] += 1 }
    for d in dropped {
      let n = (inodeUses[d] ?? 1) - 1
      inodeUses[d] = n > 0 ? n : nil
    }
    for d in dropped where inodeUses[d] == nil { labeler.forget(d.kind, d.inode) }
  }

  /// One process's subtree. `previous` is the same process's facts and subtree from the last
  /// build, given only when reusing its parts is exact (see `build`): each part whose own facts
  /// are equal is taken from it as it is, so a step that changed one thing about a box (its
  /// hostname, a mount) builds that part only, and the diff skips the rest by identity.
  private mutating func processMap(
    _ p: ProcessFacts, hostPIDKey: String?, previous: (process: ProcessFacts, map: StateMap)?
  ) -> StateMap {
    /// The last build's value under `key`, when `unchanged` says the facts it came from are equal.
    func reused(_ key: String, _ unchanged: (ProcessFacts) -> Bool) -> StateValue? {
      guard let previous, unchanged(previous.process) else { return nil }
      return previous.map[key]
    }
    var m = StateMap()
    m.reserveCapacity(16)
    // Every key below is new to its map: appendNew skips the search a subscript set makes.
    m.appendNew("hostname", .string(p.hostname))
    m.appendNew("domainname", .string(p.domainname))
    m.appendNew("ns", reused("ns", { $0.namespaces == p.namespaces }) ?? .map(namespaceMap(p)))
    let isBox = hostPIDKey != nil
    if isBox {
      m.appendNew("root", .string(p.root.text))
      if let propagation = p.rootPropagation { m.appendNew("propagation", .string(propagation.rawValue)) }
      m.appendNew("mounts", reused("mounts", { $0.mounts == p.mounts }) ?? .map(Self.mounts(p.mounts)))
      m.appendNew(
        "pid",
        reused(
          "pid",
          {
            $0.processes == p.processes && $0.pidNamespaceAlive == p.pidNamespaceAlive
              && $0.procPIDNamespace == p.procPIDNamespace
          })
          ?? .map(pid(p)))
      if let fs = p.fs { m.appendNew("fs", reused("fs", { $0.fs == fs }) ?? .map(Self.fs(fs))) }
    }
    // The user part also depends on whether the process is in the host's user namespace (the
    // host's own user namespace and IDs are the same as last time whenever `previous` is given).
    m.appendNew(
      "user",
      reused("user", { $0.user == p.user && $0.namespaces[.user] == p.namespaces[.user] })
        ?? .map(userMap(p, isBox: isBox)))
    if isBox {
      m.appendNew("owner", reused("owner", { $0.owners == p.owners }) ?? .map(ownerMap(p)))
    }
    if isBox, let report = p.cgroup { m["cgroup"] = reused("cgroup", { $0.cgroup == report }) ?? report.state }
    m.appendNew(
      "ipc", reused("ipc", { $0.ipc == p.ipc && $0.posixMQ == p.posixMQ }) ?? .map(Self.ipc(p.ipc, p.posixMQ)))
    if isBox {
      m.appendNew("clock", .map(StateMap([("offsets", .map(Self.clockOffsets(p.clockOffsets)))])))
    }
    if let net = p.net {
      m.appendNew("net", reused("net", { $0.net == net }) ?? Self.netMap(net, forward: isBox ? nil : net.forward))
    }
    if let key = hostPIDKey { m.appendNew(key, .volatile(.int(p.hostPID))) }
    return m
  }

  /// `ns.uts` = "uts:1": a label per namespace kind.
  private mutating func namespaceMap(_ p: ProcessFacts) -> StateMap {
    var ns = StateMap()
    for kind in NamespaceKind.allCases {
      guard let inode = p.namespaces[kind] else { continue }
      ns.appendNew(kind.rawValue, .string(labeler.label(kind, inode)))
    }
    return ns
  }

  /// `mounts["/proc"]` = {fstype, source, propagation}.
  static func mounts(_ list: [MountFacts]) -> StateMap {
    var mounts = StateMap()
    for mount in list {
      mounts[mount.path] = .map(
        StateMap([
          // A bind mount's type is its source's file system's (ext4, xfs, tmpfs...): the host's.
          ("fstype", mount.fstypeOfSource ? .volatile(.string(mount.fstype)) : .string(mount.fstype)),
          ("source", .string(mount.source)),
          ("propagation", .string(mount.propagation.rawValue)),
        ]))
    }
    return mounts
  }

  /// `pid.ps` (a process in the host's pid namespace has a host PID and a host parent: volatile;
  /// docs/transcripts.md), `pid.alive`, and `pid.proc`: the label of the pid namespace the box's
  /// /proc shows, or "none" when there is no proc at /proc.
  private mutating func pid(_ p: ProcessFacts) -> StateMap {
    let ps = p.processes.map { proc in
      StateValue.map(
        StateMap([
          ("pid", proc.inHostPIDNamespace ? .volatile(.int(proc.pid)) : .int(proc.pid)),
          // The parent as the process sees it: after its parent exits, the orphan's new parent
          // (the namespace's PID 1, or the nearest child subreaper above it: prctl(2)).
          ("ppid", proc.inHostPIDNamespace ? .volatile(.int(proc.ppid)) : .int(proc.ppid)),
          ("cmd", .string(proc.command)),
          ("host_pid", .volatile(.int(proc.hostPID))),
          ("host_ppid", .volatile(.int(proc.hostPPID))),
        ]))
    }
    let proc = p.procPIDNamespace.map { labeler.label(.pid, $0) } ?? "none"
    return StateMap([("ps", .list(ps)), ("alive", .bool(p.pidNamespaceAlive)), ("proc", .string(proc))])
  }

  /// Who the process is, inside and out (user_namespaces(7)). Volatile? No: boxwalk chooses
  /// every ID here, and the host's own user namespace always has the identity map.
  private func userMap(_ p: ProcessFacts, isBox: Bool) -> StateMap {
    let u = p.user
    // What root holds on the host differs between machines (a container host may drop some), so
    // the host's own sets are volatile, and a box still in the host's user namespace shows "host"
    // when it has exactly the host's set (host facts are diffs, not dumps: docs/transcripts.md).
    let inHostUserNS = isBox && p.namespaces[.user] == hostUserNamespace
    func set(_ names: [String], _ hostNames: [String]) -> StateValue {
      if !isBox { return .volatile(.string(Capabilities.summary(names))) }
      if inHostUserNS && names == hostNames { return .string("host") }
      return .string(Capabilities.summary(names))
    }
    let caps = StateMap([
      ("effective", set(u.effective, hostUser?.effective ?? [])),
      ("permitted", set(u.permitted, hostUser?.permitted ?? [])),
      ("bounding", set(u.bounding, hostUser?.bounding ?? [])),
    ])
    return StateMap([
      ("uid", .int(Int(u.uid))), ("gid", .int(Int(u.gid))), ("host_uid", .int(Int(u.hostUID))),
      ("host_gid", .int(Int(u.hostGID))), ("uid_map", .list(u.uidMap.map { .string($0.description) })),
      ("gid_map", .list(u.gidMap.map { .string($0.description) })),
      ("setgroups", .string(u.setgroupsAllowed ? "allow" : "deny")), ("caps", .map(caps)),
    ])
  }

  /// `owner.uts` = "user:1": the user namespace that owns each of the box's namespaces.
  private mutating func ownerMap(_ p: ProcessFacts) -> StateMap {
    var owners = StateMap()
    for kind in NamespaceKind.allCases where kind != .user {
      guard let inode = p.owners[kind] else { continue }
      owners.appendNew(kind.rawValue, .string(labeler.label(.user, inode)))
    }
    return owners
  }

  /// `ipc.mq` = ["0x1"]: the keys of the System V IPC objects, by kind; `ipc.posix_mq` =
  /// ["/jobs"]: the names of the POSIX message queues.
  static func ipc(_ objects: [IPCObjectFacts], _ posixMQ: [String] = []) -> StateMap {
    var ipc = StateMap()
    for kind in IPCKind.allCases {
      let keys = objects.filter { $0.kind == kind }.map { StateValue.string(IPCObjectFacts.keyText($0.key)) }
      ipc.appendNew(kind.rawValue, .list(keys))
    }
    ipc.appendNew("posix_mq", .list(posixMQ.sorted().map { .string($0) }))
    return ipc
  }

  /// `clock.offsets` = {monotonic: 0, boottime: 86400}: seconds, per clock.
  static func clockOffsets(_ offsets: ClockOffsets) -> StateMap {
    StateMap(TimeClock.allCases.map { ($0.rawValue, StateValue.int(Int(offsets[$0]))) })
  }

  /// `net.links["eth0"]` = {kind, state, [master], [peer], addrs, index (volatile), mac (volatile)};
  /// `net.routes` = the main table as `ip route` prints it; for the host side also
  /// `net.forward` = its net.ipv4.ip_forward, 0 or 1.
  static func netMap(_ net: NetFacts, forward: Bool? = nil) -> StateValue {
    var links = StateMap()
    for link in net.links {
      var l = StateMap()
      l["kind"] = .string(link.kind)
      l["state"] = .string(link.up ? "up" : "down")
      if let master = link.master { l["master"] = .string(master) }
      if let peer = link.peer { l["peer"] = .string(peer.description) }
      l["addrs"] = .list(link.addrs.map { .string($0.description) })
      l["index"] = .volatile(.int(link.index))
      l["mac"] = .volatile(.string(link.mac))
      links[link.name] = .map(l)
    }
    var map = StateMap([("links", .map(links)), ("routes", .list(net.routes.map { .string($0.description) }))])
    // Only once something listens, so a namespace that has no listener shows as it always did.
    if !net.listening.isEmpty { map.appendNew("listening", .list(net.listening.map { .string($0.description) })) }
    if let forward {
      map.appendNew("forward", .int(forward ? 1 : 0))
      map.appendNew("rules", .list(net.rules.map { .string($0.description) }))
    }
    return .map(map)
  }

  /// BOX.fs (docs/state-paths.md): the lower layers top first, every regular file with the layer it
  /// comes from, the whiteouts, and the upper layer's entries by kind.
  static func fs(_ fs: FSFacts) -> StateMap {
    var files = StateMap()
    for (path, layer) in fs.files { files[path] = .map(StateMap([("layer", .string(layer))])) }
    var upper = StateMap()
    let truncated = Set(fs.truncated)
    for (path, kind) in fs.upper {
      // A directory at the depth limit whose entries were left out says so.
      let note = truncated.contains(path) ? ", not read below: deeper than \(LayerContents.depthLimit) levels" : ""
      upper[path] = .string(kind.word + note)
    }
    let whiteouts = fs.upper.filter { $0.kind == .whiteout }.map { StateValue.string($0.path) }
    return StateMap([
      ("layers", .list(fs.layers.map { .string($0) })), ("files", .map(files)), ("whiteouts", .list(whiteouts)),
      ("upper", .map(upper)),
    ])
  }

  /// host.images["app:v1"].layers, top first (docker's image store, `docker image ls`).
  static func images(_ facts: KernelFacts) -> StateMap {
    var m = StateMap()
    for image in facts.images.sorted(by: { $0.name.full < $1.name.full }) {
      m[image.name.description] = .map(StateMap([("layers", .list(image.layers.map { .string($0) }))]))
    }
    return m
  }

  /// host.layers["app"]: the diff_id (volatile when the content is host-specific) and file count.
  static func layers(_ facts: KernelFacts) -> StateMap {
    var m = StateMap()
    for layer in facts.layers.sorted(by: { $0.name < $1.name }) {
      let digest = StateValue.string(layer.diffID)
      m[layer.name] = .map(
        StateMap([("diff_id", layer.hostSpecific ? .volatile(digest) : digest), ("files", .int(layer.files))]))
    }
    return m
  }
}
