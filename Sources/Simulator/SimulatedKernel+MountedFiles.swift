import Kernel

/// Which files a mount shows: a box path is looked up mount by mount, as the kernel's path walk
/// does (path_resolution(7)). At each name the walk reaches, the newest mount on it wins and
/// the walk goes on in that mount's file system: what lies beneath a mount point is out of reach
/// by name until umount2(2) takes the mount away again. A tmpfs over /etc hides the image's /etc
/// (`ls /etc` is empty, `cat /etc/hostname` ENOENT, a write lands in the tmpfs, not in the upper
/// layer); a bind mount shows a directory of another place (mount(8) --bind); proc and sysfs show
/// what the kernel makes up, read-only as boxwalk mounts them.
enum SimFileTree: Equatable {
  /// A box's root filesystem: its overlay (or plain directory) by id.
  case layers(Int)
  /// A tmpfs's own files, by superblock (SimulatedKernel.tmpfsFiles).
  case tmpfs(Int)
  /// One of the host's device nodes, bound onto a file of a container's /dev.
  case node
  /// proc(5) and sysfs(5): files the kernel makes up as they are read, on a read-only mount.
  case proc
  case sysfs
  /// The mqueue file system of an IPC namespace: one file per POSIX message queue (mq_overview(7)).
  case mqueue(UInt64?)
}

/// The directory of a file system that a mount shows at its mount point.
struct SimMountSource: Equatable {
  var tree: SimFileTree
  var directory: String
}

extension SimulatedKernel {
  /// Names the simulator knows at the top of a proc or sysfs (present on every Linux machine):
  /// enough to answer whether a name is there. What is inside them it does not model.
  static let procNames: [String: LayerEntryKind] = [
    "self": .symlink(target: "<pid>"), "thread-self": .symlink(target: "<pid>/task/<tid>"),
    "sys": .directory(opaque: false), "net": .symlink(target: "self/net"), "mounts": .symlink(target: "self/mounts"),
    "meminfo": .file([]), "cpuinfo": .file([]), "uptime": .file([]), "version": .file([]), "stat": .file([]),
    "filesystems": .file([]), "loadavg": .file([]), "cmdline": .file([]),
  ]
  static let sysfsNames = ["block", "bus", "class", "dev", "devices", "firmware", "fs", "kernel", "module", "power"]

  /// What a mount being made will show, decided before it is added: a bind mount shows the
  /// directory its source leads to now (open_tree(2) without AT_RECURSIVE takes the mount at the
  /// source alone, none of those below it).
  func mountSource(_ request: MountRequest, _ p: SimProcess) -> SimMountSource? {
    guard case .rootfs = p.root.tree else { return nil }
    switch request {
    case .tmpfs:
      let sb = nextSuperblock
      nextSuperblock += 1
      tmpfsFiles[sb] = LayerContents()
      return SimMountSource(tree: .tmpfs(sb), directory: "/")
    case .dev:
      // A container's /dev: a tmpfs holding the links and directories `mount dev` makes, and an
      // empty file for each node, which the node's own mount then covers.
      let sb = nextSuperblock
      nextSuperblock += 1
      var files = LayerContents()
      for name in ContainerDev.devices.map(\.name) {
        files["/" + name] = LayerEntry(path: "/" + name, kind: .file([]), mode: 0o644)
      }
      for link in ContainerDev.links {
        files["/" + link.name] = LayerEntry(path: "/" + link.name, kind: .symlink(target: link.target), mode: 0o777)
      }
      for dir in ContainerDev.directories {
        files["/" + dir] = LayerEntry(path: "/" + dir, kind: .directory(opaque: false), mode: 0o755)
      }
      tmpfsFiles[sb] = files
      return SimMountSource(tree: .tmpfs(sb), directory: "/")
    case .device: return SimMountSource(tree: .node, directory: "/")
    case .proc: return SimMountSource(tree: .proc, directory: "/")
    case .sysfs: return SimMountSource(tree: .sysfs, directory: "/")
    case .mqueue: return SimMountSource(tree: .mqueue(p.ns[.ipc]), directory: "/")
    case .bind(let source, _):
      guard let (tree, directory) = locate(source, p) else { return nil }
      return SimMountSource(tree: tree, directory: directory)
    case .overlay:
      guard let id = p.root.id else { return nil }
      return SimMountSource(tree: .layers(id), directory: "/")
    }
  }

  /// Where `path` (a path in the box's root filesystem) leads: the file system and the path in
  /// it. nil when the box has no root filesystem.
  func locate(_ path: String, _ p: SimProcess) -> (SimFileTree, String)? {
    guard let id = p.root.id else { return nil }
    guard let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }),
      let m = deepestMount(covering: path, in: p.root.tree, mnt), let shown = m.shows
    else { return (.layers(id), path) }
    let rest = m.path == "/" ? String(path.dropFirst()) : String(path.dropFirst(m.path.count + 1))
    return (shown.tree, Self.joined(shown.directory, rest))
  }

  static func joined(_ directory: String, _ rest: String) -> String {
    if rest.isEmpty { return directory }
    return directory == "/" ? "/" + rest : directory + "/" + rest
  }

  /// The entry at `path` of a file system (symbolic links not followed), nil when there is none.
  func entry(_ tree: SimFileTree, _ path: String) -> LayerEntryKind? {
    if path == "/" {
      return tree == .node ? .special("char device") : .directory(opaque: false)
    }
    switch tree {
    case .layers(let id):
      guard let fs = filesystems[id] else { return nil }
      return Overlay.lookup(path, in: [fs.upper] + lowerContents(fs))?.entry.kind.plain
    case .tmpfs(let sb): return tmpfsFiles[sb]?[path]?.kind
    case .node: return nil
    case .proc:
      let name = String(path.dropFirst())
      return name.contains("/") ? nil : Self.procNames[name]
    case .sysfs:
      let name = String(path.dropFirst())
      return Self.sysfsNames.contains(name) ? .directory(opaque: false) : nil
    case .mqueue(let ipc):
      let name = String(path.dropFirst())
      return queues(ipc).contains(name) ? .file([]) : nil
    }
  }

  func queues(_ ipc: UInt64?) -> [String] {
    ipc.flatMap { namespaces[$0]?.posixMQ.map { String($0.dropFirst()) } } ?? []
  }

  /// The entry a box path leads to, mounts crossed.
  func entry(at path: String, _ p: SimProcess) -> LayerEntryKind? {
    guard let (tree, inner) = locate(path, p) else { return nil }
    return entry(tree, inner)
  }

  /// Whether a box mounted something at exactly `path` of its root filesystem.
  func isMountPoint(_ path: String, _ p: SimProcess) -> Bool {
    guard let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return false }
    return mnt.mounts.contains { $0.root == p.root.tree && $0.path == path && path != "/" }
  }

  /// Whether a box mounted something below `path`.
  func hasMountBelow(_ path: String, _ p: SimProcess) -> Bool {
    guard let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return false }
    return mnt.mounts.contains { $0.root == p.root.tree && $0.path.hasPrefix(path == "/" ? "/" : path + "/") }
  }

  /// The names in the directory `path` of the box, with what each leads to (a mount point shows
  /// its mount's root, as fstatat(2) does); nil when the simulator does not know them.
  func names(in path: String, _ p: SimProcess) -> [(name: String, kind: LayerEntryKind)]? {
    guard let (tree, inner) = locate(path, p) else { return nil }
    let names: [String]
    switch tree {
    case .layers(let id):
      guard let fs = filesystems[id] else { return nil }
      names = (Overlay.list(inner, in: [fs.upper] + lowerContents(fs)) ?? []).map(\.name)
    case .tmpfs(let sb):
      let files = tmpfsFiles[sb] ?? LayerContents()
      names = files.children(of: inner).map { Overlay.baseName($0) }
    case .mqueue(let ipc): names = inner == "/" ? queues(ipc) : []
    case .node, .proc, .sysfs: return nil
    }
    return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.compactMap { name in
      let full = Self.joined(path, name)
      return entry(at: full, p).map { (name, $0) }
    }
  }

  /// Every parent of `path` must be a directory, reached without a symbolic link: the errno of
  /// the first that is not.
  func parentFailure(_ path: String, _ p: SimProcess) -> Errno? {
    var current = ""
    for part in Overlay.parent(of: path).split(separator: "/") {
      current += "/" + part
      switch entry(at: current, p) {
      case .directory?: continue
      case nil: return .ENOENT
      case .symlink?: return .ELOOP
      default: return .ENOTDIR
      }
    }
    return nil
  }

  /// Why the simulator does not answer for a file the kernel makes up as it is read.
  static func madeUp(_ tree: SimFileTree) -> String {
    let fs = tree == .sysfs ? "sysfs" : tree == .proc ? "proc" : "mqueue"
    return "the kernel makes up what \(fs) shows as it is read: the simulator does not, --backend real does"
  }
}
