import Kernel

/// The deterministic in-memory kernel. It models the same objects as Linux (namespaces with
/// owners and parents, processes, mounts, System V IPC objects, the UTS names) and fails with the
/// same errno for the same mistake, so a transcript passes on it and on the real kernel with
/// identical output. Host PIDs and namespace inodes are made up but deterministic; they are
/// volatile anyway.
public final class SimulatedKernel: Kernel {
  public let backend: Backend = .sim

  var namespaces: [UInt64: SimNamespace] = [:]
  var host: SimProcess
  /// Every box, in creation order; its stamp is the facts' `boxListStamp` (BoxList).
  var boxes = BoxList<SimBox>()
  var tasks: [SimTask] = []
  /// How many times every namespace was looked at for ones that died (`collectGarbage()`).
  var fullCollections = 0
  var nextInode: UInt64 = 4_026_532_200
  var nextPID: Int
  var nextRootfs = 1
  /// The next peer group ID a mount made shared gets (the kernel's mnt_group_id). The host's "/"
  /// is shared, as systemd makes it, in group 0.
  var nextPeerGroup = 1
  var cgroups: [String: SimCgroup] = [:]
  /// The cgroup interface the simulated host has: the CLI passes this machine's, so `cgroup set`
  /// shows the same v1 translation on sim and real.
  public let cgroupVersion: CgroupVersion
  /// What uname(2) says besides the hostname: the kernel's release and version and the machine.
  /// The CLI passes this machine's, so `run uname -a` prints what the real backend prints here.
  public var unameRelease = "6.1.0-sim"
  public var unameVersion = "#1 SMP PREEMPT_DYNAMIC"
  public var unameMachine = "x86_64"
  /// The type of the file system a host path is on (for bind mounts of host directories); the
  /// CLI reads this machine's mount table.
  public var hostFilesystemType: (String) -> String = { _ in "ext4" }
  /// Whether a path of the host's tree is a symbolic link (lstat(2)); the CLI asks this machine.
  /// None by default: the simulated host is a tree of plain directories.
  public var hostSymlink: (String) -> Bool = { _ in false }
  /// The applets this machine's busybox has (`busybox --list`), which the busybox image's binary
  /// is; nil when unknown (then every applet the image links is taken to be there).
  public var busyboxApplets: Set<String>?
  /// The capability sets of a process in the host's user namespace (capabilities(7)): every
  /// capability unless the CLI passes the ones this machine gave boxwalk.
  public var hostCapabilities = (
    effective: Capabilities.all, permitted: Capabilities.all, bounding: Capabilities.all
  )

  /// The busybox image's layer is made from this machine's busybox-static (the CLI reads it)
  /// rather than the stand-in, so its diff_id is the one the real backend shows.
  public func useBusyboxBinary(_ binary: [UInt8]) {
    store.useBusyboxBinary(binary)
    mergedLowersCache[SimImageStore.busyboxLowers.diffIDs] = nil
  }
  var machine: SimPrograms.Machine {
    SimPrograms.Machine(release: unameRelease, version: unameVersion, machine: unameMachine)
  }
  /// The lab's host side: the network namespace boxwalk keeps for the session in place of the
  /// machine's. No process is in it; it lives as long as the session.
  var hostNet: UInt64 = 0
  /// The lab's outside (OutsideNet), once `net outside` made it: like the host side, a network
  /// namespace no process is in, which lives until the session ends.
  var outsideNet: UInt64?
  private var faults: [Fault] = []
  /// Images, layers and registries (SimulatedKernel+Layers.swift).
  var store = SimImageStore()
  /// Box root filesystems (overlays) by id.
  var filesystems: [Int: SimFilesystem] = [:]
  /// What is in each tmpfs a box mounted (a container's /dev too), by superblock: every copy of
  /// the mount (another mount namespace's, a bind of a directory in it) shows the same files.
  var tmpfsFiles: [Int: LayerContents] = [:]
  var nextSuperblock = 1
  /// The last FSFacts built for each filesystem, with what they were built from: the merged view
  /// only changes when the upper layer or the stack does (a layer's contents never change once
  /// stored), and building it sorts every path, so facts() reuses it between steps.
  var fsFactsCache: [Int: (lowers: [String], upper: LayerContents, facts: FSFacts)] = [:]
  /// The merged view of each stack of lower layers in use, by layer names (`mergedLowers`): a
  /// write to the upper layer then costs laying the upper over it, not merging every layer again.
  var mergedLowersCache: [[String]: MergedLowers] = [:]
  /// Reads a host directory for `image import`. The simulator touches no files of its own: the
  /// CLI gives it a reader of the real directory, tests give it fixtures; without one, ENOENT.
  public var hostDirectoryReader: (@Sendable (String) -> Result<LayerContents, HostDirectoryError>)?
  /// Writes an OCI bundle for `box export` (DIR, config.json, rootfs): the CLI gives the real
  /// writer (HostBundle), tests a fixture; without one, ENOSYS.
  public var bundleWriter: (@Sendable (String, [UInt8], LayerContents) -> Result<Void, HostDirectoryError>)?
  /// `box import-bundle DIR` reads DIR/config.json from the machine through this, as the real
  /// backend reads it (the CLI gives the same reader); without it the read is ENOSYS.
  public var bundleConfigReader: (@Sendable (String) -> Result<[UInt8], HostDirectoryError>)?
  /// Whether a registry server listens on 127.0.0.1:PORT of the host (`image push`/`pull` to
  /// HOST:PORT/...). The CLI probes the real port; without a probe, none does.
  public var registryListens: (@Sendable (Int) -> Bool)?
  /// The last answer of facts(), until the next step or teardown. The simulated state changes
  /// only there, so a second read in between (ping's verdict, then the Lab's read after the
  /// step; `show` after `show`) is the same answer, built once.
  var factsMemo: KernelFacts?

  /// A rule for fault injection (steps are values, so a rule matches a kind): fail the next `count`
  /// steps of kind `stepKind` (`Step.kindName`, e.g. "sethostname"; "*" for any) with `errno`,
  /// changing nothing.
  public struct Fault: Sendable {
    public var stepKind: String
    public var errno: Errno
    public var count: Int
    public init(stepKind: String, errno: Errno, count: Int = 1) {
      self.stepKind = stepKind
      self.errno = errno
      self.count = count
    }
  }

  /// - Parameters:
  ///   - hostname: the simulated host's hostname. The CLI passes the machine's own, so a piped
  ///     session prints the same text on sim and real.
  ///   - domainname: the simulated host's NIS domain name ("(none)" is what Linux reports unset).
  ///   - firstPID: where made-up host PIDs start (a seed: they are volatile and never printed).
  public init(
    hostname: String = "sim-host", domainname: String = "(none)", firstPID: Int = 4200,
    cgroupVersion: CgroupVersion = .v2
  ) {
    nextPID = firstPID
    self.cgroupVersion = cgroupVersion
    // The host's namespaces carry the inode numbers Linux gives the initial namespaces
    // (include/linux/proc_ns.h: PROC_IPC_INIT_INO = 0xEFFFFFFF and down), for realism.
    let initial: [NamespaceKind: UInt64] = [
      .ipc: 0xEFFF_FFFF, .uts: 0xEFFF_FFFE, .user: 0xEFFF_FFFD, .pid: 0xEFFF_FFFC,
      .cgroup: 0xEFFF_FFFB, .time: 0xEFFF_FFFA, .mnt: 0xF000_0000, .net: 0xF000_0008,
    ]
    for (kind, inode) in initial {
      namespaces[inode] = SimNamespace(
        kind: kind, inode: inode, owner: kind == .user ? nil : initial[.user], parent: nil,
        hostname: kind == .uts ? hostname : "", domainname: domainname, populated: true,
        rootPropagation: .shared, rootPeer: kind == .mnt ? 0 : nil, uidMap: kind == .user ? [.identity] : nil,
        gidMap: kind == .user ? [.identity] : nil)
    }
    host = SimProcess(hostPID: 1000, ns: initial, activePID: 0xEFFF_FFFC)
    hostNet = create(.net, owner: initial[.user], parent: nil)
    mergedLowersCache[SimImageStore.busyboxLowers.diffIDs] = SimImageStore.busyboxLowers.merged
  }

  public func inject(_ fault: Fault) { faults.append(fault) }

  // MARK: Kernel

  @discardableResult
  public func perform(_ step: Step) throws(KernelError) -> StepResult {
    factsMemo = nil
    try consumeFault(step)
    // Each area's steps in its own file: SimulatedKernel+Processes, +Namespaces, +Mounts,
    // +Cgroups, +Net and +Layers.
    switch step {
    case .process(let s): return try performProcess(s, step)
    case .namespace(let s): return try performNamespace(s, step)
    case .mount(let s): return try performMount(s, step)
    case .cgroup(let s): return try performCgroup(s, step)
    case .net(let s): return try performNet(s, step)
    case .layer(let s): return try performLayer(s, step)
    }
  }

  public func facts() throws(KernelError) -> KernelFacts {
    if let factsMemo { return factsMemo }
    var facts = KernelFacts(
      host: hostFacts(),
      boxes: boxes.map { BoxFacts(name: $0.name, process: boxFacts($0.name, $0.process)) },
      images: store.imageFacts, layers: store.layerFacts, outside: outsideNet.flatMap { netFacts($0) })
    facts.boxListStamp = boxes.stamp
    factsMemo = facts
    return facts
  }

  public func teardown() {
    factsMemo = nil
    tasks.removeAll()
    cgroups.removeAll()
    boxes.removeAll()
    // The box scratch (upper layers) goes; the image store and registries stay.
    filesystems.removeAll()
    fsFactsCache.removeAll()
    // Objects boxwalk made in the host's IPC namespace are removed at teardown (IPC_RMID).
    if let ipc = host.ns[.ipc] {
      namespaces[ipc]?.ipc.removeAll()
      namespaces[ipc]?.posixMQ.removeAll()
    }
    // The host side's namespace dies with the session; the next one starts afresh.
    namespaces[hostNet]?.net = SimNet()
    outsideNet = nil
    collectGarbage()
  }

  // MARK: Facts

  func hostFacts() -> ProcessFacts {
    let uts = host.ns[.uts].flatMap { namespaces[$0] }
    var facts = ProcessFacts(
      hostPID: host.hostPID, namespaces: host.ns, hostname: uts?.hostname ?? "",
      domainname: uts?.domainname ?? "(none)", ipc: host.ns[.ipc].flatMap { namespaces[$0]?.ipc } ?? [],
      user: userFacts(host), net: netFacts(hostNet))
    facts.posixMQ = host.ns[.ipc].flatMap { namespaces[$0]?.posixMQ } ?? []
    return facts
  }

  func boxFacts(_ name: String, _ p: SimProcess) -> ProcessFacts {
    var facts = boxFactsWithoutCgroup(name, p)
    facts.cgroup = cgroupReport(name)
    facts.posixMQ = (p.ns[.ipc].flatMap { namespaces[$0]?.posixMQ } ?? []).sorted()
    facts.clockOffsets = p.ns[.time].flatMap { namespaces[$0]?.clockOffsets } ?? ClockOffsets()
    return facts
  }

  private func boxFactsWithoutCgroup(_ name: String, _ p: SimProcess) -> ProcessFacts {
    let uts = p.ns[.uts].flatMap { namespaces[$0] }
    let pidNS = p.ns[.pid].flatMap { namespaces[$0] }
    let ownMounts = p.ns[.mnt] != host.ns[.mnt]
    var facts = ProcessFacts(
      hostPID: p.hostPID, namespaces: p.ns, hostname: uts?.hostname ?? "",
      domainname: uts?.domainname ?? "(none)",
      processes: tasks.filter { $0.box == name }.sorted { $0.pid < $1.pid }.map { t in
        // getppid(2) in the process's own namespace: a parent outside it (the helper) is 0.
        let inHost = t.pidNamespace == host.activePID
        let parent = tasks.first { $0.hostPID == t.parent && $0.pidNamespace == t.pidNamespace }
        return BoxProcessFacts(
          pid: t.pid, hostPID: t.hostPID, command: t.argv.joined(separator: " "), inHostPIDNamespace: inHost,
          ppid: inHost ? t.parent : parent?.pid ?? 0, hostPPID: t.parent)
      },
      pidNamespaceAlive: pidNS?.alive ?? true,
      mounts: ownMounts ? visibleMounts(p) : [],
      rootPropagation: ownMounts ? rootPropagation(p) : nil,
      root: p.root.facts,
      ipc: p.ns[.ipc].flatMap { namespaces[$0]?.ipc } ?? [],
      user: userFacts(p),
      owners: Dictionary(
        uniqueKeysWithValues: p.ns.compactMap { kind, inode in
          kind == .user ? nil : namespaces[inode]?.owner.map { (kind, $0) }
        }),
      net: p.ns[.net] == host.ns[.net] ? nil : p.ns[.net].flatMap(netFacts), fs: fsFacts(p))
    facts.procPIDNamespace = procShown(p)
    return facts
  }

  // MARK: Bookkeeping

  func index(of name: String) -> Int? { boxes.index(named: name) }

  /// The index of the box `step` acts on, or the error that says there is no such box.
  func boxIndex(_ step: Step) throws(KernelError) -> Int {
    guard let name = step.owner.box, let i = index(of: name) else { throw missing(step, step.owner.name) }
    return i
  }

  func missing(_ step: Step, _ name: String) -> KernelError {
    KernelError(step: step, call: step.firstCall, errno: .ESRCH, detail: "no box named \(name)")
  }

  func allocateInode() -> UInt64 {
    defer { nextInode += 1 }
    return nextInode
  }

  func allocatePID() -> Int {
    defer { nextPID += 1 }
    return nextPID
  }

  /// After a process left namespaces (`left`, its namespaces before; `now`, after, or nil when it
  /// is gone): only they can have lost their last holder. When every one of them is the host's,
  /// which holds them for the whole session, none died and nothing else is looked at: a box
  /// leaving the host's namespaces, as every new box does, costs the same in a lab of 1,000
  /// boxes as in a lab of one. Otherwise only they, and the owners and parents they kept alive,
  /// are looked at (`collectGarbage(heldBy:)`).
  func collectGarbage(left: SimProcess, now: SimProcess?) {
    var held = Set(host.ns.values)
    held.insert(host.activePID)
    held.insert(hostNet)
    if let outsideNet { held.insert(outsideNet) }
    let stillHeld = { (inode: UInt64) in
      held.contains(inode) || now.map { $0.activePID == inode || $0.ns.values.contains(inode) } == true
    }
    if left.ns.values.allSatisfy(stillHeld) && stillHeld(left.activePID) { return }
    collectGarbage(heldBy: left)
    assert(namespaces.keys.allSatisfy(liveNamespaces().contains), "a namespace outlived its last holder")
  }

  /// The namespaces `left` held, and the owners and parents they needed, that nothing else holds
  /// now die. Every other namespace was live before (each change of who holds what collects
  /// after it) and nothing it needs was only `left`'s, so it is not looked at: a box leaving
  /// namespaces of its own (`box rm`) compares numbers with every box's, but hashes none and
  /// copies no namespace, which made the whole collection most of a `box rm` in a large lab.
  /// Debug builds check the answer against the whole collection.
  private func collectGarbage(heldBy left: SimProcess) {
    // The host's namespaces live as long as the session, and so does everything they need.
    var hosts = Array(host.ns.values) + [host.activePID, hostNet]
    if let outsideNet { hosts.append(outsideNet) }
    // What may die: what `left` held, and what those need, as far as they are namespaces.
    var candidates: [UInt64] = []
    // Whether one of them is a user or pid namespace: only those are other namespaces' owners
    // (a user namespace) or parents (the pid namespace), and so needed by namespaces that live on.
    var needed = false
    var work = Array(left.ns.values) + [left.activePID]
    while let inode = work.popLast() {
      guard !hosts.contains(inode), !candidates.contains(inode), let ns = namespaces[inode] else { continue }
      candidates.append(inode)
      if ns.kind == .user || ns.kind == .pid { needed = true }
      if let owner = ns.owner { work.append(owner) }
      if let parent = ns.parent { work.append(parent) }
    }
    guard !candidates.isEmpty else { return }
    // Of those, what a process, a task or a namespace that lives on still holds or needs.
    var live: [UInt64] = []
    func hold(_ inode: UInt64) {
      if candidates.contains(inode) && !live.contains(inode) { live.append(inode) }
    }
    for b in boxes {
      for inode in b.process.ns.values { hold(inode) }
      hold(b.process.activePID)
    }
    for t in tasks { hold(t.pidNamespace) }
    if needed {
      for (inode, ns) in namespaces where !candidates.contains(inode) {
        if let owner = ns.owner { hold(owner) }
        if let parent = ns.parent { hold(parent) }
      }
    }
    var k = 0
    while k < live.count {
      if let ns = namespaces[live[k]] {
        if let owner = ns.owner { hold(owner) }
        if let parent = ns.parent { hold(parent) }
      }
      k += 1
    }
    let dead = candidates.filter { !live.contains($0) }
    guard !dead.isEmpty else { return }
    releaseDyingNetworks(dead)
    for inode in dead { namespaces[inode] = nil }
  }

  /// A namespace dies when no process is in it and no namespace needs it as owner or parent.
  func collectGarbage() {
    fullCollections += 1
    let live = liveNamespaces()
    let dead = namespaces.keys.filter { !live.contains($0) }
    releaseDyingNetworks(dead)
    for inode in dead { namespaces[inode] = nil }
  }

  /// What processes and tasks hold, and the owners and parents of what is live, each looked up
  /// once (not every namespace copied out again until nothing changes).
  func liveNamespaces() -> Set<UInt64> {
    var live = Set<UInt64>(minimumCapacity: namespaces.count)
    var held: [UInt64] = Array(host.ns.values) + [host.activePID, hostNet]
    if let outsideNet { held.append(outsideNet) }
    for b in boxes {
      held.append(contentsOf: b.process.ns.values)
      held.append(b.process.activePID)
    }
    for t in tasks { held.append(t.pidNamespace) }
    while let inode = held.popLast() {
      guard live.insert(inode).inserted, let i = namespaces.index(forKey: inode) else { continue }
      if let owner = namespaces.values[i].owner { held.append(owner) }
      if let parent = namespaces.values[i].parent { held.append(parent) }
    }
    return live
  }

  private func consumeFault(_ step: Step) throws(KernelError) {
    guard
      let i = faults.firstIndex(where: { $0.count > 0 && ($0.stepKind == "*" || $0.stepKind == step.kindName) })
    else { return }
    faults[i].count -= 1
    throw KernelError(step: step, call: step.firstCall, errno: faults[i].errno, detail: "injected fault")
  }
}

/// A simulated box: its name and its one process (the helper's stand-in).
struct SimBox: BoxListElement {
  var name: String
  var process: SimProcess
  var boxName: String { name }
}
