/// What `mount` can do in a box: a fresh proc, sysfs or tmpfs, or a bind mount.
public enum MountRequest: Equatable, Hashable, Sendable {
  case proc(path: String)
  case sysfs(path: String)
  case tmpfs(path: String)
  /// The mqueue file system of the mounter's IPC namespace: one file per POSIX message queue
  /// (mq_overview(7)); containers have it at /dev/mqueue.
  case mqueue(path: String)
  case bind(source: String, target: String)
  /// A container's /dev (`mount dev PATH`): a tmpfs at PATH holding the device nodes every
  /// container gets, each a bind mount of the host's node (ContainerDev), and the usual links.
  /// The step also makes one `.device` mount per node.
  case dev(path: String)
  /// One of the host's device nodes, bind-mounted onto an empty file of a `.dev` tmpfs (never
  /// asked for alone: `mount dev` makes them).
  case device(name: String, target: String)
  /// The overlay a box's root filesystem is (made by `overlay`, never by `mount`): at "/" of it.
  case overlay

  /// Where it is mounted, inside the box's root filesystem.
  public var target: String {
    switch self {
    case .proc(let p), .sysfs(let p), .tmpfs(let p), .mqueue(let p), .dev(let p): p
    case .bind(_, let t), .device(_, let t): t
    case .overlay: "/"
    }
  }

  /// The type shown in the box's mount table; a bind mount shows as `bind` because the kernel's
  /// own answer (the type of the file system it came from) differs between hosts.
  public var fstype: String {
    switch self {
    case .proc: "proc"
    case .sysfs: "sysfs"
    case .tmpfs, .dev: "tmpfs"
    case .mqueue: "mqueue"
    case .bind, .device: "bind"
    case .overlay: "overlay"
    }
  }

  /// What boxwalk-helper is asked to mount (HelperProtocol.swift): the type, or `dev`.
  public var kind: String {
    switch self {
    case .dev: "dev"
    default: fstype
    }
  }

  public var source: String {
    switch self {
    case .proc: "proc"
    case .sysfs: "sysfs"
    case .tmpfs, .dev: "tmpfs"
    case .mqueue: "mqueue"
    case .bind(let s, _): s
    case .device(let name, _): ContainerDev.hostSource(name)
    case .overlay: "overlay"
    }
  }

  /// fsmount(2) attributes, by name: the same choices as `flags`, in the new mount API's spelling.
  public var attributes: String {
    switch self {
    case .proc, .sysfs: "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC"
    case .mqueue, .dev: "MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC"
    case .tmpfs, .overlay: "MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV"
    case .bind, .device: "0"
    }
  }

  /// mount(2) flags, by name: proc and sysfs are mounted as runc mounts them for a container
  /// that is not privileged (no setuid programs, no device files, nothing executable), and
  /// read-only: a box program is root in the host's user namespace on the real backend, and a
  /// writable proc or sysfs would let it change the whole machine, not only the box:
  /// /proc/sysrq-trigger reboots it, /proc/sys/kernel/core_pattern names a program the kernel
  /// runs as root on the host, /sys/power/state suspends it (proc(5), sysfs(5)). runc makes
  /// /proc/sys and /proc/sysrq-trigger read-only and mounts sysfs read-only for the same reason.
  /// tmpfs without setuid or devices; bind recursively.
  public var flags: String {
    switch self {
    case .proc, .sysfs: "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC"
    case .mqueue, .dev: "MS_NOSUID|MS_NODEV|MS_NOEXEC"
    case .tmpfs, .overlay: "MS_NOSUID|MS_NODEV"
    case .bind, .device: "MS_BIND|MS_REC"
    }
  }
}

/// What `mount dev PATH` puts in a container's /dev, as runc does (libcontainer/rootfs_linux.go,
/// the OCI runtime spec's "Default Devices"): a few harmless character devices, the links a
/// shell expects, and a directory where the box's mqueue can be mounted.
///
/// A container needs a /dev of its own because programs open these names: a shell opens
/// /dev/null for a job it starts in the background, `dd` reads /dev/zero, TLS libraries read
/// /dev/urandom. It must not be the host's /dev (a devtmpfs: every disk, every terminal, the
/// memory of the machine as /dev/mem): a box that is root could open any of them. So each node
/// is one of the host's, bind-mounted on its own onto an empty file of a fresh tmpfs, and the
/// tmpfs is mounted nodev: a device node the box makes there itself with mknod(2) opens nothing.
/// The bind route, not mknod(2), because in a user namespace the kernel refuses mknod(2) of a
/// device (and ignores device nodes of a file system mounted there); a bind mount of a node of
/// the host's devtmpfs works in both.
public enum ContainerDev {
  /// The device nodes, with their major and minor numbers (Documentation/admin-guide/devices.txt).
  public static let devices: [(name: String, major: UInt32, minor: UInt32)] = [
    ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
  ]
  /// Symbolic links to /proc/self/fd (proc(5)): the process's own open files.
  public static let links: [(name: String, target: String)] = [
    ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
  ]
  /// Empty directories: mount points for file systems of their own (`mount mqueue PATH/mqueue`).
  public static let directories = ["mqueue"]

  /// How the state tree names the host's node a `.device` mount shows.
  public static func hostSource(_ name: String) -> String { "host:/dev/" + name }

  /// PATH/NAME, for PATH a clean box path.
  public static func path(_ dev: String, _ name: String) -> String { dev == "/" ? "/" + name : dev + "/" + name }

  /// The mounts `mount dev PATH` leaves: the tmpfs, then one bind mount per device node.
  public static func mounts(_ dev: String) -> [MountRequest] {
    [.dev(path: dev)] + devices.map { .device(name: $0.name, target: path(dev, $0.name)) }
  }
}

/// Mount propagation (mount_namespaces(7), "Shared subtrees"): whether mount and unmount events
/// under a mount are passed to its peers (shared), received only (slave), or neither (private).
public enum Propagation: String, CaseIterable, Equatable, Hashable, Sendable {
  case `private`, slave, shared

  public var flag: String {
    switch self {
    case .private: "MS_PRIVATE"
    case .slave: "MS_SLAVE"
    case .shared: "MS_SHARED"
    }
  }
}

/// One mount a box has that the host does not (or every mount, once the box has its own root).
public struct MountFacts: Equatable, Sendable {
  /// Mount point inside the box's root filesystem.
  public var path: String
  public var fstype: String
  public var source: String
  public var propagation: Propagation
  /// A bind mount: `fstype` is the type of the file system its source is on, as the kernel
  /// reports it (mountinfo), which depends on the host.
  public var fstypeOfSource = false
  public init(path: String, fstype: String, source: String, propagation: Propagation) {
    self.path = path
    self.fstype = fstype
    self.source = source
    self.propagation = propagation
  }
}

/// Where a box's `/` is: the host's, or its own root filesystem (prepared, then entered).
public enum RootFacts: Equatable, Sendable {
  /// The host's root directory (the box sees the host's files).
  case host
  /// A root filesystem prepared from an image, not entered yet: paths still resolve on the host,
  /// but boxwalk's file and mount commands address the image's copy.
  case prepared(image: String)
  /// Entered with pivot_root(2): the old root is gone from the box's mount namespace.
  case pivoted(image: String)
  /// Entered with chroot(2): only the process's root directory changed; the mounts did not.
  case chrooted(image: String)

  public var text: String {
    switch self {
    case .host: "host"
    case .prepared(let i): "\(i) (prepared)"
    case .pivoted(let i): "\(i) (pivot_root)"
    case .chrooted(let i): "\(i) (chroot)"
    }
  }

  /// How an overlay root is named in `BOX.root`: `overlay of app,busybox`.
  public static func overlayText(_ names: [String]) -> String { "overlay of " + names.joined(separator: ",") }

  /// How a plain directory root is named in `BOX.root`: `directory of busybox`.
  public static func directoryText(_ names: [String]) -> String {
    "directory of " + names.joined(separator: ",")
  }

  public var image: String? {
    switch self {
    case .host: nil
    case .prepared(let i), .pivoted(let i), .chrooted(let i): i
    }
  }
}

/// The directories of the busybox base image, which both kernels know, so that
/// `mount proc /proc` inside it succeeds or fails the same way everywhere.
public enum BusyboxImage {
  public static let name = "busybox"
  public static let directories = [
    "bin", "dev", "dev/mqueue", "etc", "mnt", "proc", "root", "run", "sys", "tmp", "usr", "var",
  ]

  /// Applets linked in the image: enough for the lessons (sh, ps, mount, ...). Each is a relative
  /// symbolic link to busybox, which picks the applet by the name it was run as.
  public static let applets = [
    "sh", "ash", "echo", "cat", "ls", "ps", "mount", "umount", "sleep", "hostname", "true", "false", "id",
    "mkdir", "rm", "rmdir", "touch", "env", "pwd", "uname", "kill", "grep", "head", "tail", "wc", "ln", "cp", "mv",
    "chmod", "date", "df", "du", "find", "ip", "ping", "top", "free", "stat", "test", "[", "which", "whoami",
    "chroot", "pivot_root", "nsenter", "unshare", "ipcs", "ipcrm", "readlink", "realpath", "sed", "awk", "tr", "yes",
  ]

  /// The small text files of the image, with their content.
  public static let etcFiles: [(String, String)] = [
    ("/etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ("/etc/hostname", "busybox\n"),
    ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
  ]

  /// The whole image as a layer, with `busybox` the bytes of the binary (the simulator has none:
  /// it puts a stand-in there, which is why the busybox layer's digest is host-specific).
  public static func layer(busybox: [UInt8]) -> LayerContents {
    var entries = directories.map { LayerEntry(path: "/" + $0, kind: .directory(opaque: false), mode: 0o755) }
    entries.append(LayerEntry(path: "/bin/busybox", kind: .file(busybox), mode: 0o755))
    for applet in applets {
      entries.append(LayerEntry(path: "/bin/" + applet, kind: .symlink(target: "busybox"), mode: 0o777))
    }
    for (path, text) in etcFiles { entries.append(LayerEntry(path: path, kind: .file(Array(text.utf8)), mode: 0o644)) }
    return LayerContents(entries)
  }
}

/// Paths are absolute and clean: no `.` or `..` parts, no empty parts, no trailing slash. boxwalk
/// refuses anything else before a syscall, so a path can never climb out of the box's root.
public enum BoxPath {
  public static func problem(_ path: String) -> String? {
    guard path.hasPrefix("/") else { return "a path starts with / (inside the box's root filesystem)" }
    if path == "/" { return nil }
    if path.hasSuffix("/") { return "no trailing /" }
    for part in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
      if part.isEmpty { return "no empty parts (//)" }
      // A name may be written escaped (FileName): what counts is the bytes it stands for.
      let bytes = FileName.bytes(String(part))
      if part == "." || part == ".." || bytes == [0x2e] || bytes == [0x2e, 0x2e] {
        return "no . or .. parts: paths never leave the box's root"
      }
      if bytes.contains(0) || bytes.contains(UInt8(ascii: "/")) {
        return "no \\x00 or \\x2f in a name: no file name holds NUL or /"
      }
    }
    if path.utf8.count > 4095 { return "at most 4095 bytes (PATH_MAX)" }
    return nil
  }

  /// The one spelling of a valid path: each name as `FileName.escaped` writes the bytes it stands
  /// for, so `/a\\xff` typed and `/a\xff` listed are not taken for two files (and the simulator,
  /// which keeps names as text, agrees with the kernel, which keeps bytes).
  public static func canonical(_ path: String) -> String {
    guard path != "/" else { return path }
    return path.split(separator: "/").map { "/" + FileName.escaped(FileName.bytes(String($0))) }.joined()
  }
}
