import CShim
import Glibc
import HelperWire
import Kernel
import Synchronization
import NetWire

/// The real kernel (docs/architecture.md, "Processes"). Each box is one
/// boxwalk-helper process that holds the box's namespaces and makes the namespace system calls on
/// itself; this process only spawns helpers, asks them for one step at a time, and reads the
/// outside view from /proc. It never calls unshare, setns or mount on itself: it may be
/// multi-threaded, and those calls need a single-threaded caller or move only one thread.
///
/// Helpers die with the thread that created the kernel (PR_SET_PDEATHSIG), so use a kernel from one
/// long-lived thread, as the REPL does.
public final class LinuxKernel: Kernel {
  /// `.real` as root, or `.rootless`: the same steps inside a user namespace of the session's
  /// own (LinuxKernel+Rootless.swift).
  public let backend: Backend
  /// The rootless backend's rules, asked wherever it differs from the real one (RootlessPolicy).
  let rootlessPolicy: RootlessPolicy
  /// Rootless only: the session's anchor, a boxwalk-helper alone in the session's user namespace,
  /// which stands in for the host (LinuxKernel+Rootless.swift). Not a box.
  var anchor: HelperProcess?

  let stateRoot: String
  let helperPath: String
  let procfs: ProcFS
  /// Every box's helper (HelperPool): the one owner of the list and of the look-up by name.
  var pool = HelperPool()
  /// Every box, in creation order.
  var helpers: [HelperProcess] { pool.elements }

  /// The helper of the box called `box`.
  func helper(named box: String) -> HelperProcess? { pool.helper(named: box) }

  /// The lab's host side and outside (LinuxKernel+HostSide.swift): not boxes.
  var hostSideHelpers = LabHostSide()
  /// Helpers a step found gone (their socket at end of file, helperError): the step's error is
  /// the one report of the death, so takeNotices forgets them without a note of its own.
  var deathsReported: Set<pid_t> = []
  /// Sequence numbers for rtnetlink requests.
  var netlinkSequence: UInt32 = 0
  /// nil after teardown(); made again by the next `box new`.
  var session: SessionDirectory?
  /// What boxwalk knows of each box that /proc cannot say: its root and the mounts it made.
  var boxState: [String: BoxState] = [:]
  /// IPC objects made in the host's IPC namespace (by boxes that share it), removed at teardown.
  var hostIPC: [(kind: String, key: Int32, id: Int32)] = []
  /// POSIX message queues made in the host's IPC namespace, with their inodes, removed at teardown.
  var hostQueues: [(name: String, inode: UInt64)] = []
  /// Every POSIX queue name a step made, in any namespace: what a helper that cannot read its
  /// mqueue file system tries one by one (HelperProtocol, `facts`).
  var queueNames: [String] = []
  /// The cgroup driver for this host's layout (v1, v2 or hybrid), made at the first `cgroup new`.
  var cgroupDriver: (any CgroupDriver)?
  /// Boxes that have a cgroup, and where.
  var cgroupOf: [String: BoxCgroup] = [:]
  /// The session's name, which is also the cgroup directory under boxwalk/ (PID-STARTTIME).
  var sessionName: String? { session.map { String($0.path.split(separator: "/").last ?? "") } }

  /// The cgroup interface this kernel's cgroup steps use: the driver's once there is one, else
  /// what this host offers (v2 when it offers none: cgroup steps then fail with the reason).
  public var cgroupVersion: CgroupVersion {
    if let cgroupDriver { return cgroupDriver.version }
    if probedCgroupVersion == nil { probedCgroupVersion = Self.cgroupVersion() ?? .v2 }
    return probedCgroupVersion ?? .v2
  }
  private var probedCgroupVersion: CgroupVersion?

  /// pivot_root(2)'s EINVAL for a new root that is a mount point (the helper names the other
  /// one): when the box's / is shared, that is the rule it broke (the current root and the new
  /// root's parent must not be shared), which the simulator says with the same detail.
  func pivotRefusal(_ error: KernelError, _ box: String) -> KernelError {
    guard error.errno == .EINVAL, error.detail == nil, let helper = helper(named: box) else {
      return error
    }
    let mountinfo = Mountinfo.parse(bytes: (try? SmallFiles.read("\(procfs.root)/\(helper.pid)/mountinfo")) ?? [])
    guard mountinfo.last(where: { $0.mountPoint == "/" })?.propagation == .shared else { return error }
    var shared = error
    shared.detail = Step.pivotRootShared
    return shared
  }

  /// busybox-static's bytes, which the busybox image's layer is made of, for the simulator
  /// (whose own busybox is a stand-in); nil without busybox-static. Read again only when the
  /// file changed (its device, inode, size or mtime): each lesson starts a new simulated kernel,
  /// and the daemon one per session, so that all share one copy of the 2 MB (and the
  /// simulator's layer made of it).
  public static func busyboxBinary(path: String = "/bin/busybox") -> [UInt8]? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    let identity = [
      Int(info.st_dev), Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec,
    ]
    if let read = busyboxRead.withLock({ $0 }), read.path == path, read.identity == identity { return read.binary }
    let store = ImageStore(home: "/nonexistent", busybox: path)
    let binary = store.busyboxAvailable ? try? store.readBusybox() : nil
    busyboxRead.withLock { $0 = (path, identity, binary) }
    return binary
  }

  private static let busyboxRead = Mutex<(path: String, identity: [Int], binary: [UInt8]?)?>(nil)

  /// The applets busybox-static has (`busybox --list`, one name a line), for the simulator: the
  /// busybox image links more names than some builds have. nil without busybox-static or when
  /// it does not answer.
  public static func busyboxApplets(path: String = "/bin/busybox") -> Set<String>? {
    guard access(path, X_OK) == 0 else { return nil }
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("--list"), nil]
    defer { argv.forEach { free($0) } }
    let env: [UnsafeMutablePointer<CChar>?] = [nil]
    let rc = posix_spawn(&pid, path, &actions, nil, argv, env)
    close(fds[1])
    defer { close(fds[0]) }
    guard rc == 0 else { return nil }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while bytes.count < 1 << 20 {
      let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += chunk[..<n]
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else { return nil }
    let names = Set(bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) })
    return names.isEmpty ? nil : names
  }

  /// The type of the file system a path of this machine is on: that of the longest mount point
  /// above it in /proc/self/mountinfo (proc(5)), what a bind mount of it reports. For the
  /// simulator, which cannot see the host's mounts.
  public static func filesystemType(ofHostPath path: String) -> String? {
    guard let bytes = try? SmallFiles.read("/proc/self/mountinfo") else { return nil }
    let entries = Mountinfo.parse(String(decoding: bytes, as: UTF8.self))
    let above = entries.filter { path == $0.mountPoint || $0.mountPoint == "/" || path.hasPrefix($0.mountPoint + "/") }
    return above.max { $0.mountPoint.count < $1.mountPoint.count }?.fstype
  }

  /// The cgroup interface boxwalk uses on this host, for the simulator and transcript features.
  public static func cgroupVersion(procRoot: String = "/proc") -> CgroupVersion? {
    let layout = CgroupLayout.probe(procRoot: procRoot)
    return (try? layout.makeDriver())?.version
  }

  /// The doctor's line about cgroups.
  public static func cgroupLayoutDescription(procRoot: String = "/proc") -> String {
    CgroupLayout.probe(procRoot: procRoot).description
  }
  /// The image store: $BOXWALK_HOME or /var/lib/boxwalk, or (`ephemeralImages`) a fresh one in
  /// the session directory, removed with it (`boxwalk test` uses that, so every transcript starts
  /// from the busybox image alone).
  var images: ImageStore
  let ephemeralImages: Bool
  /// How long one `image pull` or `image push` may take with a registry server, all its requests
  /// together, in seconds; past it the operation stops with ETIMEDOUT (HTTPClient).
  public var registryTimeout: Double = 120
  /// The most bytes of layer blobs one `image pull` fetches, all layers together. A pull keeps
  /// every new blob in memory until all are fetched and checked, so a failure leaves the store as
  /// it was; a bound per blob alone would let a registry list dozens of large layers and take the
  /// machine's memory. Tests lower it.
  public var pullByteLimit: Int = OCILayout.maxBlob
  /// This process's own namespaces and credentials, read once: they are fixed for its lifetime.
  /// Only the process itself could change them (unshare, setns, set*id, capset), and the REPL
  /// never does (all namespace work is in the helpers); no one outside can. Reading them again
  /// after every step was eight stat(2)s and three /proc files for nothing.
  var hostNamespaces: [NamespaceKind: UInt64]?
  var hostUser: UserFacts?

  /// A mount a step made, in the mount namespace it was made in: in the root filesystem
  /// (`inRootfs`) or in the host's tree, by path inside that tree.
  struct MountRecord {
    var namespace: UInt64
    var inRootfs: Bool
    var request: MountRequest
  }
  /// Every mount the steps made, oldest first (the kernel's mountinfo confirms each). Kept by
  /// mount namespace, not by box: a box that joins another's namespace sees its mounts, and a
  /// umount by either is gone for both (mount_namespaces(7)).
  var mountLog: [MountRecord] = []
  /// The pid namespace each proc file system a `mount proc` made shows, by the device number of
  /// its superblock (LinuxKernel+Proc.swift): read back only for a pid namespace with no process
  /// in it, where nothing in the proc itself names it.
  var procMounts: [UInt64: UInt64] = [:]

  /// The inode of the mount namespace `box` is in now.
  func mountNamespace(_ box: String, step: Step) throws(KernelError) -> UInt64 {
    guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
    do {
      return try procfs.namespaceInode(pid: String(helper.pid), shown: "<\(box)>", kind: .mnt)
    } catch {
      throw KernelError(step: step, call: error.call, errno: Errno(rawValue: error.errno))
    }
  }

  /// A box's root, as the steps made it.
  struct BoxState {
    var root = RootFacts.host
    /// Whether paths given by the learner are in the root filesystem.
    var inRootfs: Bool { root != .host }
    /// The box's root filesystem (`overlay` or `rootfs`): its layers and directories
    /// (LinuxKernel+Layers).
    var overlay: OverlayState?
    /// The host path where the root filesystem is mounted, in the box's mount namespace.
    var rootfsPath: String? { overlay?.merged }
    /// The owner of each namespace the box was last seen in, with that namespace's inode (see
    /// `owners`).
    var owners: [NamespaceKind: (inode: UInt64, owner: UInt64)] = [:]
    /// Descriptors holding a shared flock(2) on each store layer the box's overlay mounts, so no
    /// session removes a layer under it (ImageStore+Holds.swift); closed when the box is gone.
    var layerHolds: [Int32] = []
  }

  /// - Parameters:
  ///   - stateRoot: where session directories and their ledgers live (docs/security.md, "Where
  ///   sessions live").
  ///   - helperPath: the boxwalk-helper executable; by default $BOXWALK_HELPER, else
  ///     `boxwalk-helper` beside this process's own executable.
  ///   - procRoot: where proc(5) is mounted.
  ///   - imageHome: the image store's directory (default $BOXWALK_HOME, else /var/lib/boxwalk).
  ///   - ephemeralImages: keep the image store in the session directory instead, removed with it.
  ///   - rootless: the rootless backend: no root needed, state under $XDG_RUNTIME_DIR/boxwalk and
  ///     images under $XDG_DATA_HOME/boxwalk by default (docs/security.md, "Where sessions live").
  public init(
    stateRoot: String? = nil, helperPath: String? = nil, procRoot: String = "/proc", imageHome: String? = nil,
    ephemeralImages: Bool = false, rootless: Bool = false
  ) throws(KernelError) {
    guard rootless || geteuid() == 0 else {
      throw KernelError(
        call: "geteuid()", errno: .EPERM, detail: "the real backend needs root; use --backend rootless or --backend sim"
      )
    }
    let policy = RootlessPolicy(backend: rootless ? .rootless : .real)
    self.backend = rootless ? .rootless : .real
    self.rootlessPolicy = policy
    self.stateRoot = stateRoot ?? policy.defaultStateRoot
    self.procfs = ProcFS(root: procRoot)
    self.images = ImageStore(home: imageHome ?? policy.defaultImageHome)
    self.ephemeralImages = ephemeralImages
    guard let path = helperPath ?? Self.defaultHelperPath(procfs: procfs) else {
      throw KernelError(
        call: "readlink(\"/proc/self/exe\")", errno: .ENOENT,
        detail: "cannot tell where boxwalk-helper is; set BOXWALK_HELPER")
    }
    guard access(path, X_OK) == 0 else {
      throw KernelError(
        call: "access(\(SmallFiles.quoted(path)), X_OK)", errno: Errno(rawValue: errno),
        detail: "boxwalk-helper is missing or not executable; build it or set BOXWALK_HELPER")
    }
    self.helperPath = path
    do {
      session = try SessionDirectory.create(stateRoot: self.stateRoot, procfs: procfs)
    } catch {
      throw KernelError(
        call: error.call, errno: Errno(rawValue: error.errno),
        detail: "cannot create the session directory under \(self.stateRoot)")
    }
    try useEphemeralStore()
  }

  deinit { teardown() }

  private static func defaultHelperPath(procfs: ProcFS) -> String? {
    if let fromEnvironment = getenv("BOXWALK_HELPER"), fromEnvironment.pointee != 0 {
      return String(cString: fromEnvironment)
    }
    guard let executable = procfs.ownExecutable(), let slash = executable.lastIndex(of: "/") else { return nil }
    return executable[..<slash] + "/boxwalk-helper"
  }

  // MARK: - Steps

  @discardableResult
  public func perform(_ step: Step) throws(KernelError) -> StepResult {
    do {
      return try performStep(step)
    } catch {
      // A helper that died while the step waited on it is said once, here, with how it died and
      // the command that recovers; the refresh after the error then shows its box gone.
      guard let sentence = buryDeathsReported() else { throw error }
      var error = error
      error.detail = sentence
      throw error
    }
  }

  private func performStep(_ step: Step) throws(KernelError) -> StepResult {
    if let refusal = rootlessPolicy.refusal(step) { throw refusal }
    // Each area's steps in its own file: LinuxKernel+Processes, +Namespaces (and +IPC), +Mounts,
    // +Cgroups, +Net, and Images/LinuxKernel+Layers.
    switch step {
    case .process(let s): return try performProcessStep(s, step)
    case .namespace(let s): return try performNamespaceStep(s, step)
    case .mount(let s): return try performMountStep(s, step)
    case .cgroup(let s): return try performCgroupStep(s, step)
    case .net(let s): return try performNet(s, step)
    case .layer(let s): return try performLayerStep(s, step)
    }
  }

  /// `writeOnce` from a child process that joined the user namespace of process `pid` first
  /// (bw_write_in_user_namespace); the errno of whichever call failed.
  func writeOnce(_ path: String, _ text: String, inUserNamespaceOf pid: Int32) -> Int32? {
    let nsfd = open("\(procfs.root)/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    guard nsfd >= 0 else { return errno }
    defer { close(nsfd) }
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { bw_write_in_user_namespace(nsfd, path, $0.baseAddress, $0.count) }
    return result == 0 ? nil : errno
  }

  /// open(2) + a single write(2), for /proc files that take their whole value in one write.
  static func writeOnce(_ path: String, _ text: String) -> Int32? {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    return n == bytes.count ? nil : (n < 0 ? errno : EIO)
  }

  /// IDs, maps and capabilities of a process, read from the host: /proc/PID/status gives the IDs
  /// as the host sees them and the capability masks; /proc/PID/uid_map and gid_map the maps of
  /// its user namespace (shown relative to ours, the host's).
  func userFacts(_ pid: String) -> UserFacts {
    let status = (try? SmallFiles.read("\(procfs.root)/\(pid)/status")) ?? []
    let fields = ProcStatus.fields(status, ["Uid", "Gid", "CapEff", "CapPrm", "CapBnd"])
    func map(_ file: String) -> [IDMapRange] {
      ((try? SmallFiles.readText("\(procfs.root)/\(pid)/\(file)")) ?? "").split(separator: "\n").compactMap {
        IDMapRange.parse(String($0))
      }
    }
    let uidMap = map("uid_map")
    let gidMap = map("gid_map")
    let setgroups = (try? SmallFiles.readText("\(procfs.root)/\(pid)/setgroups")) ?? ""
    let hostUID = fields["Uid"]?.first.flatMap { UInt32($0) } ?? IDMapRange.overflow
    let hostGID = fields["Gid"]?.first.flatMap { UInt32($0) } ?? IDMapRange.overflow
    return UserFacts(
      uid: IDMapRange.inside(hostUID, through: uidMap), gid: IDMapRange.inside(hostGID, through: gidMap),
      hostUID: hostUID, hostGID: hostGID, uidMap: uidMap, gidMap: gidMap,
      effective: Capabilities.names(ofHexMask: fields["CapEff"]?.first ?? ""),
      permitted: Capabilities.names(ofHexMask: fields["CapPrm"]?.first ?? ""),
      bounding: Capabilities.names(ofHexMask: fields["CapBnd"]?.first ?? ""),
      setgroupsAllowed: !setgroups.hasPrefix("deny"))
  }

  /// The owning user namespace of each of a box's namespaces (ioctl_ns(2) NS_GET_USERNS), given
  /// the namespaces' inodes. A namespace's owner is fixed when the namespace is made, so each is
  /// asked once (open, ioctl, fstat, two closes) and kept with the inode; it is asked again only
  /// when the box is in another namespace of that kind. The helper holds the namespace it is in,
  /// so that inode cannot be freed and reused by another namespace between two reads.
  func owners(_ helper: HelperProcess, _ namespaces: [NamespaceKind: UInt64]) -> [NamespaceKind: UInt64] {
    var known = boxState[helper.box]?.owners ?? [:]
    var out: [NamespaceKind: UInt64] = [:]
    // Rootless: the session's host is the anchor, whose uts, ipc, mnt, ... are the machine's,
    // owned by the machine's user namespace (boxwalk's own). Those are the host's namespaces
    // here, so they are shown owned by the host's user namespace, the session's, as on the real
    // backend; namespaces a box makes are owned by the session's user namespace anyway.
    let machineUser =
      rootlessPolicy.machineOwnerShownAsSession
      ? try? procfs.namespaceInode(pid: "self", shown: "self", kind: .user) : nil
    let sessionUser = anchor.flatMap { try? procfs.namespaceInode(pid: String($0.pid), shown: "anchor", kind: .user) }

    for kind in NamespaceKind.allCases where kind != .user {
      if let inode = namespaces[kind], let seen = known[kind], seen.inode == inode {
        out[kind] = seen.owner
        continue
      }
      var owner: UInt64 = 0
      var rc = bw_ns_owner_inode("\(procfs.root)/\(helper.pid)/ns/\(kind.procEntry)", &owner)
      if rc != 0 && kind == .pid { rc = bw_pid_for_children_owner_inode(helper.pid, &owner) }
      guard rc == 0 else { continue }
      out[kind] = owner
      if let inode = namespaces[kind] { known[kind] = (inode, owner) }
    }
    boxState[helper.box]?.owners = known
    if let machineUser, let sessionUser {
      for (kind, inode) in out where inode == machineUser { out[kind] = sessionUser }
    }
    return out
  }

  /// The queue names a helper tries when it cannot read its mqueue file system, as many as fit
  /// in one request (Framing.maxMessage).
  func candidateQueueNames() -> [[UInt8]] {
    var total = 0
    return queueNames.map { Array($0.utf8) }.prefix { name in
      total += name.count + 1
      return total < 3000
    }
  }

  /// A new session directory after teardown() removed the last one.
  func reopenSession(_ step: Step) throws(KernelError) {
    do {
      session = try SessionDirectory.create(stateRoot: stateRoot, procfs: procfs)
    } catch {
      throw KernelError(
        step: step, call: error.call, errno: Errno(rawValue: error.errno), detail: "cannot create the session directory"
      )
    }
    try useEphemeralStore()
  }

  /// Has the box's helper hold boxwalk's session directory and image store open, to reach them
  /// whatever the box mounts over them later (BoxwalkHelper/Anchors.swift): opened by name, or
  /// (`from`, after `join mnt`) through that helper's own anchors, which are in the namespace
  /// joined. A store not made yet is anchored at its nearest existing parent. Best effort: a
  /// helper without anchors reaches everything by name, as the steps print it.
  func anchor(_ box: String, from holder: HelperProcess?) {
    guard let helper = helper(named: box), let session else { return }
    var store = images.home
    while access(store, F_OK) != 0, let slash = store.lastIndex(of: "/"), slash > store.startIndex {
      store = String(store[..<slash])
    }
    var paths = [session.path, store]
    var sources = paths
    if let holder {
      for i in 0..<2 where holder.anchors[i] >= 0 {
        paths[i] = holder.anchorPaths[i]
        sources[i] = "\(procfs.root)/\(holder.pid)/fd/\(holder.anchors[i])"
      }
    }
    let request = HelperRequest.anchor(paths: paths.map { Array($0.utf8) }, sources: sources.map { Array($0.utf8) })
    guard let reply = try? exchange(helper, request, step: nil), let held = reply.answer(as: AnchorDescriptors.self)
    else { return }
    helper.anchors = [held.scratch, held.store]
    helper.anchorPaths = paths
  }

  /// The session directory, made again after a teardown.
  /// The session directory, made again after a teardown (with its throwaway image store).
  func ensureSession(step: Step) throws(KernelError) -> SessionDirectory {
    if self.session == nil { try reopenSession(step) }
    guard let session else {
      throw KernelError(step: step, call: step.firstCall, errno: .ENOENT, detail: "no session directory")
    }
    return session
  }

  // MARK: - Facts

  public func facts() throws(KernelError) -> KernelFacts {
    var hostFacts = try hostProcessFacts()
    let store = try storeFacts()
    let hostNamespaces = hostFacts.namespaces
    // Every helper is asked first (its hostname and IPC objects, and a dump of each lab network
    // namespace), and /proc is read while they answer: the helpers run on other CPUs, so a read
    // waits about one round trip in all, not one per request.
    var boxNamespaces: [[NamespaceKind: UInt64]] = []
    for helper in helpers { boxNamespaces.append(try namespaces(pid: String(helper.pid), shown: "<\(helper.box)>")) }
    let network = networkMembers(
      machine: hostNamespaces[.net], boxes: helpers.indices.map { (helpers[$0], boxNamespaces[$0]) })
    var boxes = try askForFacts(network, boxNamespaces: boxNamespaces, hostMount: hostNamespaces[.mnt])
    // The answers, in the order asked: every helper's facts, then the dumps.
    var failure = collectBoxViews(into: &boxes, host: hostFacts)
    Self.spreadPIDNamespaceDeaths(&boxes, boxNamespaces: boxNamespaces)
    let dumps = collectDumps(network, failure: &failure)
    if let failure { throw failure }
    var outside: NetFacts?
    addNetworkFacts(network, dumps: dumps, host: &hostFacts, boxes: &boxes, outside: &outside)
    if hostRulesMade, hostNetwork != nil { hostFacts.net?.rules = try hostRules(step: nil) }
    var facts = KernelFacts(host: hostFacts, boxes: boxes, images: store.images, layers: store.layers, outside: outside)
    facts.boxListStamp = pool.stamp
    return facts
  }

  /// Sends every helper its `facts` request and every lab network namespace's helper its
  /// `netdump`, then reads each box from outside (/proc, mountinfo, boxwalk's records) while they
  /// answer. On a failure, reads the answers already asked for, so the next request to each
  /// helper gets its own answer.
  private func askForFacts(
    _ network: NetworkMembers, boxNamespaces: [[NamespaceKind: UInt64]], hostMount: UInt64?
  ) throws(KernelError) -> [BoxFacts] {
    // Each lab mount namespace's mountinfo, read once through one of its boxes: a mount made in
    // one namespace shows in another that is its peer (see `mounts`).
    var mountinfos: [UInt64: [Mountinfo.Entry]] = [:]
    for (i, helper) in helpers.enumerated() {
      guard let mnt = boxNamespaces[i][.mnt], mnt != hostMount, mountinfos[mnt] == nil else { continue }
      mountinfos[mnt] = Mountinfo.parse(bytes: (try? SmallFiles.read("\(procfs.root)/\(helper.pid)/mountinfo")) ?? [])
    }
    var asked: [HelperProcess] = []
    var boxes: [BoxFacts] = []
    do throws(KernelError) {
      for helper in helpers {
        try post(helper, .facts(candidates: candidateQueueNames()), step: nil)
        asked.append(helper)
      }
      for member in network.members {
        try post(member.helper, .netdump(pids: network.others(than: member)), step: nil)
        asked.append(member.helper)
      }
      for (i, helper) in helpers.enumerated() {
        let process = try outsideFacts(
          of: helper, namespaces: boxNamespaces[i], hostMount: hostMount, mounts: .mountinfo(peers: mountinfos))
        boxes.append(BoxFacts(name: helper.box, process: process))
      }
    } catch {
      for helper in asked { _ = try? helper.reply() }
      throw error
    }
    return boxes
  }

  /// Every helper's answer to `facts` (what only the helper can say of its box), applied to its
  /// box; the first failure, after every answer has been read.
  private func collectBoxViews(into boxes: inout [BoxFacts], host: ProcessFacts) -> KernelError? {
    var failure: KernelError?
    for (i, helper) in helpers.enumerated() {
      let reply: HelperReply
      do throws(KernelError) { reply = try collect(helper, step: nil) } catch {
        failure = failure ?? error
        continue
      }
      guard let view = reply.answer(as: BoxView.self) else {
        failure = failure ?? Self.unexpectedFactsReply(reply, from: helper)
        continue
      }
      Self.apply(view, to: &boxes[i].process, host: host)
    }
    return failure
  }

  /// A pid namespace dies once, for every process that has it as pid_for_children: a box that
  /// joined a namespace whose PID 1 had exited is in a dead namespace too (its next fork fails
  /// with ENOMEM), though its own helper never saw that PID 1 exit.
  private static func spreadPIDNamespaceDeaths(_ boxes: inout [BoxFacts], boxNamespaces: [[NamespaceKind: UInt64]]) {
    let dead = Set(boxes.indices.filter { !boxes[$0].process.pidNamespaceAlive }.compactMap { boxNamespaces[$0][.pid] })
    for i in boxes.indices where boxNamespaces[i][.pid].map(dead.contains) == true {
      boxes[i].process.pidNamespaceAlive = false
    }
  }

  /// Each lab network namespace's answer to `netdump`, in the order of `network.members`; a
  /// failure is kept in `failure` unless one came first.
  private func collectDumps(_ network: NetworkMembers, failure: inout KernelError?) -> [Dump] {
    var dumps: [Dump] = []
    for member in network.members {
      do throws(KernelError) {
        dumps.append(try dump(of: member.helper, from: try collect(member.helper, step: nil), step: nil))
      } catch {
        failure = failure ?? error
      }
    }
    return dumps
  }

  /// Where a box's mounts come from when it is read.
  enum BoxMounts {
    /// A full read: its mount namespace's mountinfo, and each lab mount namespace's (for the
    /// mounts that propagated here).
    case mountinfo(peers: [UInt64: [Mountinfo.Entry]])
    /// A read-back: kept from its facts before the step (nil: a new box), since it is still in
    /// the same mount namespace (LinuxKernel.readBack).
    case kept(ProcessFacts?)
  }

  /// What /proc and boxwalk's own records say of a box, read from outside while its helper
  /// answers the `facts` request (what only the helper can say comes with that answer: `apply`).
  /// Both the full read and the read-back fill a box's facts here.
  func outsideFacts(
    of helper: HelperProcess, namespaces ns: [NamespaceKind: UInt64], hostMount: UInt64?, mounts source: BoxMounts
  ) throws(KernelError) -> ProcessFacts {
    let state = boxState[helper.box] ?? BoxState()
    let ownMounts = ns[.mnt] != hostMount
    var boxMounts: [MountFacts] = []
    var rootPropagation: Propagation?
    if ownMounts {
      switch source {
      case .mountinfo(let mountinfos):
        let mountinfo = Mountinfo.parse(bytes: (try? SmallFiles.read("\(procfs.root)/\(helper.pid)/mountinfo")) ?? [])
        boxMounts = mounts(state, ns[.mnt], mountinfo, peers: mountinfos.filter { $0.key != ns[.mnt] })
        rootPropagation = mountinfo.last { $0.mountPoint == "/" }?.propagation
      case .kept(let before):
        boxMounts = before?.mounts ?? []
        rootPropagation = before?.rootPropagation
      }
    }
    var process = ProcessFacts(
      hostPID: Int(helper.pid), namespaces: ns, hostname: "", domainname: "",
      processes: procfs.descendants(of: helper.pid), pidNamespaceAlive: false, mounts: boxMounts,
      rootPropagation: rootPropagation, root: state.root, ipc: [], user: userFacts(String(helper.pid)),
      owners: owners(helper, ns), fs: try fsFacts(state))
    process.cgroup = cgroupOf[helper.box].flatMap { try? cgroupDriver?.report($0) }
    process.clockOffsets = ClockOffsets.parse(
      (try? SmallFiles.readText("\(procfs.root)/\(helper.pid)/timens_offsets")) ?? "")
    process.procPIDNamespace = procNamespace(of: helper)
    return process
  }

  /// What a helper's answer to `facts` says, into its box's facts: the UTS names, whether its
  /// pid namespace's PID 1 lives, and its IPC objects. A box in the host's IPC namespace sees the
  /// host's objects: it shows only those made in this session, as the host does (the machine's
  /// own objects differ between machines; docs/transcripts.md).
  static func apply(_ view: BoxView, to process: inout ProcessFacts, host: ProcessFacts) {
    process.hostname = KernelName.shown(view.nodename)
    process.domainname = KernelName.shown(view.domainname)
    process.pidNamespaceAlive = view.initAlive
    let hostIPC = process.namespaces[.ipc] == host.namespaces[.ipc]
    process.ipc =
      hostIPC
      ? host.ipc
      : view.ipc.compactMap { object in
        IPCKind(rawValue: object.kind.rawValue).map { IPCObjectFacts(kind: $0, key: object.key) }
      }
    process.posixMQ = hostIPC ? host.posixMQ : view.queues.sorted()
  }

  /// The error a helper's answer to `facts` stands for when it is not a BoxView.
  static func unexpectedFactsReply(_ reply: HelperReply, from helper: HelperProcess) -> KernelError {
    if case .err(let errno, _, _) = reply {
      return KernelError(call: "uname()", errno: Errno(rawValue: errno), detail: "in box \(helper.box)")
    }
    return KernelError(call: "uname()", errno: .EPROTO, detail: "the helper for \(helper.box) sent an unexpected reply")
  }

  /// The host's own facts, without its network (the lab network's host side, read with every
  /// lab network namespace): the namespaces and IDs boxwalk runs with, uname(2), and the IPC
  /// objects and queues boxes made in its IPC namespace that still exist.
  func hostProcessFacts() throws(KernelError) -> ProcessFacts {
    var names = utsname()
    guard uname(&names) == 0 else { throw KernelError(call: "uname()", errno: Errno(rawValue: errno)) }
    // Rootless: the host of the session is the anchor, in the session's user namespace (and the
    // machine's others), so a new box shares every namespace with it, as on the real backend.
    // The real backend's host is this process, whose namespaces never change: read them once.
    let hostProc = try hostProcess(step: nil)
    let fixed = rootlessPolicy.hostFactsAreFixed
    let hostNamespaces: [NamespaceKind: UInt64]
    if fixed, let known = self.hostNamespaces {
      hostNamespaces = known
    } else {
      hostNamespaces = try namespaces(pid: hostProc, shown: hostProc)
      if fixed { self.hostNamespaces = hostNamespaces }
    }
    var hostFacts = ProcessFacts(
      hostPID: Int(getpid()), namespaces: hostNamespaces,
      hostname: Self.name(names.nodename), domainname: Self.name(names.__domainname))
    let liveHostIPC = hostIPC.isEmpty ? [] : HostIPC.list()
    // Objects boxes made in the host's IPC namespace may have been removed since (ipcrm).
    hostIPC.removeAll { o in !liveHostIPC.contains { $0.kind == o.kind && $0.key == o.key && $0.id == o.id } }
    hostFacts.ipc = hostIPC.compactMap { o in IPCKind(rawValue: o.kind).map { IPCObjectFacts(kind: $0, key: o.key) } }
    // Queues boxes made in the host's namespace may have been removed since (mq_unlink).
    hostQueues.removeAll { !HostIPC.queueExists(name: $0.name, inode: $0.inode) }
    hostFacts.posixMQ = hostQueues.map(\.name).sorted()
    let hostUser = fixed ? (self.hostUser ?? userFacts(hostProc)) : userFacts(hostProc)
    if fixed { self.hostUser = hostUser }
    hostFacts.user = hostUser
    return hostFacts
  }

  /// The mounts boxwalk made that the kernel still shows, in the tree the box's paths address,
  /// with the propagation mountinfo reports. A bind mount has the type mountinfo gives it: that
  /// of the file system its source is on, which differs between hosts (so it is volatile).
  /// The mounts a box shows: those the steps made in its namespace, and those made in another
  /// lab namespace that propagated here (mount_namespaces(7), "Shared subtrees"). A propagated
  /// copy is in the same peer group as the mount it copies (or a slave of it), so this
  /// namespace's mountinfo has, at the same place, an entry whose `shared:N` or `master:N` is the
  /// N of the original in the other namespace's mountinfo (`peers`).
  func mounts(
    _ state: BoxState, _ namespace: UInt64?, _ mountinfo: [Mountinfo.Entry], peers: [UInt64: [Mountinfo.Entry]] = [:]
  ) -> [MountFacts] {
    var top: [String: MountFacts] = [:]
    if !state.inRootfs {
      for record in mountLog where record.namespace != namespace && !record.inRootfs {
        let target = record.request.target
        guard let group = peers[record.namespace]?.last(where: { $0.mountPoint == target })?.peerGroup,
          let entry = mountinfo.last(where: {
            $0.mountPoint == target && ($0.peerGroup == group || $0.masterGroup == group)
          })
        else { continue }
        var facts = MountFacts(
          path: target, fstype: record.request.fstype, source: record.request.source, propagation: entry.propagation)
        if case .bind = record.request, !entry.fstype.isEmpty {
          facts.fstype = entry.fstype
          facts.fstypeOfSource = true
        }
        top[target] = facts
      }
    }
    for record in mountLog where record.namespace == namespace && record.inRootfs == state.inRootfs {
      let request = record.request
      // Where mountinfo shows it: relative to the helper's root, which is the root filesystem
      // after pivot_root or chroot, the host's "/" before.
      var shown = request.target
      if case .prepared = state.root, let rootfs = state.rootfsPath {
        shown = request.target == "/" ? rootfs : rootfs + request.target
      }
      guard let entry = mountinfo.last(where: { $0.mountPoint == shown }) else { continue }
      var facts = MountFacts(
        path: request.target, fstype: request.fstype, source: request.source, propagation: entry.propagation)
      var isBind = false
      switch request {
      case .bind, .device: isBind = true
      default: break
      }
      if isBind, !entry.fstype.isEmpty {
        facts.fstype = entry.fstype
        facts.fstypeOfSource = true
      }
      top[request.target] = facts
    }
    return top.values.sorted { $0.path < $1.path }
  }

  /// The inode of every /proc/PID/ns entry. A PID namespace made by unshare(2) has no entry until
  /// its first process exists; the pidfd ioctl names it anyway, and if the kernel is too old for
  /// that the kind is left out rather than guessed.
  func namespaces(pid: String, shown: String) throws(KernelError) -> [NamespaceKind: UInt64] {
    var inodes: [NamespaceKind: UInt64] = [:]
    for kind in NamespaceKind.allCases {
      do {
        inodes[kind] = try procfs.namespaceInode(pid: pid, shown: shown, kind: kind)
      } catch {
        if kind == .pid, error.errno == ENOENT, let number = pid_t(pid) {
          inodes[kind] = ProcFS.pidForChildrenInode(pid: number)
          continue
        }
        throw KernelError(call: error.call, errno: Errno(rawValue: error.errno))
      }
    }
    return inodes
  }

  /// A NUL-terminated name field of utsname, escaped as KernelName.shown shows names.
  private static func name<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { KernelName.shown($0.prefix { $0 != 0 }) }
  }

  // MARK: - Teardown

  public func teardown() {
    // Kill them all first and reap after: they die in parallel.
    // The host side's helper too: its network namespace dies with it, and every veth with it
    // (a veth dies with either end's namespace), so no link is ever deleted one by one.
    let all =
      helpers + (hostNetwork.map { [$0] } ?? []) + (outsideNetwork.map { [$0] } ?? []) + (anchor.map { [$0] } ?? [])
    for helper in all { helper.signalKill() }
    for helper in all { helper.reap() }
    _ = pool.removeAll()
    hostNetwork = nil
    hostRulesMade = false
    outsideNetwork = nil
    anchor = nil
    for o in hostIPC { _ = HostIPC.remove(kind: o.kind, key: o.key, id: o.id) }
    for q in hostQueues { _ = HostIPC.removeQueue(name: q.name, inode: q.inode) }
    hostQueues = []
    queueNames = []
    if let driver = cgroupDriver, let name = sessionName, !cgroupOf.isEmpty {
      // The helpers are dead; kill anything left in the cgroups and remove them with the session's.
      _ = try? driver.teardownSession(name)
    }
    cgroupOf = [:]
    hostIPC = []
    procMounts = [:]
    for state in boxState.values { ImageStore.release(state.layerHolds) }
    boxState = [:]
    session?.remove()
    session = nil
  }
}
