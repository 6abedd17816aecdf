import Kernel

/// One simulated namespace. Like the kernel's, each non-user namespace is owned by the user
/// namespace its creator was in (user_namespaces(7), "Interaction of user namespaces and other
/// types of namespaces"); permission to change it is checked against that owner. Each kind
/// carries the state it isolates.
struct SimNamespace {
  let kind: NamespaceKind
  let inode: UInt64
  /// The owning user namespace (for a user namespace: its parent). nil for the host's user namespace.
  let owner: UInt64?
  /// For pid namespaces: the parent pid namespace (pid_namespaces(7)); nil for the host's.
  let parent: UInt64?
  /// UTS: the two names uname(2) reports.
  var hostname = ""
  var domainname = "(none)"
  /// pid: whether a process has entered it (until then /proc/PID/ns/pid_for_children cannot be
  /// opened: ENOENT), whether its PID 1 is still alive, and the next PID to hand out.
  var populated = false
  var alive = true
  var nextPID = 1
  /// mnt: the mounts boxwalk made in it (bottom to top) and the propagation of its "/".
  var mounts: [SimMount] = []
  var rootPropagation = Propagation.private
  /// The peer group "/" is in when shared, and the group it receives from when a slave (see
  /// SimMount.peer).
  var rootPeer: Int?
  var rootMaster: Int?
  /// ipc: System V objects, and POSIX message queues by name ("/jobs").
  var ipc: [IPCObjectFacts] = []
  var posixMQ: [String] = []
  /// time: the clock offsets. `populated` (above) says whether a process has entered the
  /// namespace: from then on the kernel refuses to change the offsets.
  var clockOffsets = ClockOffsets()
  /// user: the ID maps, written once each (nil until then); the host's is the identity.
  var uidMap: [IDMapRange]?
  var gidMap: [IDMapRange]?
  /// user: what /proc/PID/setgroups says, "allow" (true) until "deny" is written; a new user
  /// namespace starts with its parent's value (create_user_ns copies the flag).
  var setgroupsAllowed = true
  /// net: links, addresses and routes (a new network namespace has only lo, down).
  var net = SimNet()
}

/// A mount in a simulated mount namespace, keyed by the root it is relative to.
struct SimMount {
  var root: SimRoot
  var path: String
  var request: MountRequest
  var propagation: Propagation
  /// Shared subtrees (mount_namespaces(7)): a shared mount is in a peer group, and a mount or
  /// unmount under one member happens under every other; a slave receives from the group it is
  /// the slave of (its master) and passes nothing back. /proc/PID/mountinfo shows these as
  /// `shared:N` and `master:N`. Both are nil for a private mount.
  var peer: Int?
  var master: Int?
  /// For proc: the pid namespace whose processes it lists.
  var pidNamespace: UInt64?
  /// For mqueue: the IPC namespace whose queues it shows (the mounter's).
  var ipcNamespace: UInt64?
  /// For sysfs: the network namespace whose devices it shows. sysfs keeps one superblock per
  /// network namespace, so every sysfs mount made from one namespace is the same filesystem.
  var netNamespace: UInt64?
  /// MNT_LOCKED: the mount was copied into a mount namespace that a less privileged user
  /// namespace owns (mount_namespaces(7), "Restrictions on mount namespaces"). The kernel keeps
  /// such a mount glued to what it covers: umount2(2) of it is EINVAL, and pivot_root(2) will
  /// not make it the new root (EINVAL), since either would let the new owner see what the more
  /// privileged owner had hidden under it.
  var locked = false
  /// The files the mount shows at its root (SimulatedKernel+MountedFiles.swift): nil for a
  /// mount in the host's tree, whose files the simulator does not know.
  var shows: SimMountSource?
}

/// Which directory tree a path is in: the host's, or a box's root filesystem (an overlay of an image).
enum SimRoot: Equatable, Hashable {
  case host
  case rootfs(Int)
}

/// Where a box's root is (see RootFacts), with the id of its root filesystem.
enum SimRootState: Equatable {
  case host
  case prepared(image: String, id: Int)
  case pivoted(image: String, id: Int)
  case chrooted(image: String, id: Int)

  /// The tree paths given by the learner are in.
  var tree: SimRoot {
    switch self {
    case .host: .host
    case .prepared(_, let id), .pivoted(_, let id), .chrooted(_, let id): .rootfs(id)
    }
  }

  /// The tree the box's processes see as "/": a prepared root filesystem is not entered yet.
  var seen: SimRoot {
    if case .prepared = self { return .host }
    return tree
  }

  var facts: RootFacts {
    switch self {
    case .host: .host
    case .prepared(let i, _): .prepared(image: i)
    case .pivoted(let i, _): .pivoted(image: i)
    case .chrooted(let i, _): .chrooted(image: i)
    }
  }
}

/// One simulated box: the process that holds its namespaces (boxwalk-helper on Linux). For pid
/// and time, `ns` holds the `*_for_children` namespaces; `activePID` is the pid namespace the
/// process itself lives in, which unshare(2) never changes (only children enter the new one).
struct SimProcess {
  var hostPID: Int
  var ns: [NamespaceKind: UInt64]
  var activePID: UInt64
  var root = SimRootState.host
  /// The process's IDs as the kernel stores them: in the host's user namespace (kuid, kgid).
  var hostUID: UInt32 = 0
  var hostGID: UInt32 = 0
  /// The mount namespace the helper took its handles of the host's device nodes in (for
  /// `mount dev`): the last one it got by unshare or join while its root was the host's. nil
  /// before any. Copying a handle in another namespace fails with EINVAL (may_copy_tree).
  var deviceHandles: UInt64?
  /// The first device node (index in ContainerDev.devices) of which no handle could be taken,
  /// because a mount the box made hides the host's node at that name.
  var missingDeviceHandle: Int?
}

/// A program a box started with `run`.
struct SimTask {
  var box: String
  var pid: Int
  var hostPID: Int
  var argv: [String]
  var pidNamespace: UInt64
  /// The parent's host PID: the box's helper for a program `run` started, the shell for a job
  /// it left in the background, and after the parent exits the orphan's new parent (the
  /// namespace's PID 1, or the helper, a child subreaper, in the host's pid namespace).
  var parent: Int
  /// Started after the box got a cgroup, so it is in it (children inherit their parent's cgroup).
  var inCgroup = false
  /// A shell's background job has /dev/null open as its stdin: when that is a node `mount dev`
  /// bound, the mount namespace and path of that mount, which is busy while the job lives.
  var openDevice: (mnt: UInt64, root: SimRoot, path: String)?
}

/// Directories the simulator assumes on the host: the Filesystem Hierarchy Standard's top level,
/// which every Linux distribution has. The real host may have more; transcripts use these.
enum SimHostTree {
  static let directories: Set<String> = [
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/mnt", "/opt", "/proc", "/root", "/run", "/srv", "/sys",
    "/tmp", "/usr", "/var",
  ]
  /// Files every Linux host has (a mount onto one is a mount onto a file, not a directory).
  static let files: Set<String> = ["/etc/hostname", "/etc/passwd", "/etc/group", "/etc/hosts"]
}
