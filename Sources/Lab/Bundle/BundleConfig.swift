import Kernel
import OCI

/// `box export NAME DIR`: the config.json of an OCI runtime bundle that reproduces a box as it was
/// built (docs/runtimes.md). A pure function of the kernel's facts, the same on every backend:
/// the namespaces the box has of its own (a `path` for one it shares with another box that made
/// it), its hostname, its ID maps, its mounts, its cgroup limits and the process it would run.
/// The root filesystem itself is the kernel's to copy (`Kernel.exportBundle`).
public enum BundleConfig {
  /// The runtime-spec version the document follows (crun and runc read 1.0.x and later).
  public static let ociVersion = "1.0.2"
  /// The version for a box with a time namespace of its own: the `time` namespace type and
  /// `linux.timeOffsets` came in runtime-spec 1.1.0, and 1.0.2's schema refuses them.
  public static let ociVersionWithTime = "1.1.0"
  /// The environment runc's `spec` gives a container, as a shell started in the box has none.
  public static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// The OCI name of each kind (runtime-spec config-linux.md, "Namespaces").
  public static func specName(_ kind: NamespaceKind) -> String {
    switch kind {
    case .mnt: "mount"
    case .net: "network"
    default: kind.rawValue
    }
  }

  /// What the exporter made, and what it says about it.
  public struct Made: Equatable, Sendable {
    /// config.json's bytes: indented, keys in a fixed order, a final newline.
    public var json: [UInt8]
    /// One line per part of the document, for the step's output.
    public var summary: [String]
  }

  /// A box the exporter cannot express, with the reason and what to do first.
  public struct Refusal: Error, Equatable, Sendable {
    public var reason: String
    public var fix: String
  }

  /// Which box's namespace of `kind` another box shares: nil when only `box` is in it (or it is
  /// the host's). The box that made a shared namespace is taken to be the first one in creation
  /// order that is in it: facts do not say who called unshare(2), and a box joins only a
  /// namespace that already exists.
  static func joined(_ box: String, _ kind: NamespaceKind, _ facts: KernelFacts) -> String? {
    guard let inode = facts.box(box)?.process.namespaces[kind] else { return nil }
    let members = facts.boxes(in: kind, inode)
    guard let first = members.first, first != box else { return nil }
    return first
  }

  /// The bundle of box `name`: config.json's sections in the order `runc spec` writes them
  /// (ociVersion, process, root, hostname, mounts, linux), each made by one function below, and
  /// one summary line per section. A box without a root of its own has nothing to put in rootfs/.
  public static func make(box name: String, facts: KernelFacts) throws(Refusal) -> Made {
    guard let box = facts.box(name)?.process else {
      throw Refusal(reason: "there is no box named \(name)", fix: "box ls lists the boxes")
    }
    guard box.root != .host else {
      throw Refusal(
        reason: "\(name) has no root filesystem of its own: a bundle's rootfs/ is a copy of one",
        fix: "unshare mnt, then rootfs IMAGE first")
    }
    let host = facts.host
    let hasOwn = { (kind: NamespaceKind) in
      box.namespaces[kind] != nil && box.namespaces[kind] != host.namespaces[kind]
    }
    var summary: [String] = []
    let spaces = namespaces(of: name, box, facts)
    summary.append(spaces.summary)
    var linux: [(String, JSONValue)] = []
    if hasOwn(.user), joined(name, .user, facts) == nil {
      let user = try userMappings(of: name, box.user)
      linux += user.entries
      summary.append(user.summary)
    }
    linux.append(("namespaces", .array(spaces.entries)))
    if let cgroup = box.cgroup {
      let limits = resources(of: cgroup)
      if !limits.entries.isEmpty { linux.append(("resources", .object(limits.entries))) }
      summary.append(limits.summary)
    }
    if hasOwn(.time), box.clockOffsets != ClockOffsets() {
      linux.append(("timeOffsets", timeOffsets(box.clockOffsets)))
    }
    let bundleMounts = try mounts(of: name, box)
    summary.append(bundleMounts.summary)
    let run = process(of: box)
    summary.append(run.summary)

    var document: [(String, JSONValue)] = [
      ("ociVersion", .string(hasOwn(.time) ? ociVersionWithTime : ociVersion)), ("process", run.entry),
      ("root", .object([("path", .string("rootfs")), ("readonly", .bool(false))])),
    ]
    if hasOwn(.uts) {
      document.append(("hostname", .string(box.hostname)))
      summary.insert("hostname    \(JSON.quote(box.hostname))", at: 1)
    }
    document.append(("mounts", .array(bundleMounts.entries)))
    document.append(("linux", .object(linux)))
    return Made(json: Array((pretty(.object(document)) + "\n").utf8), summary: summary)
  }

  /// `linux.namespaces`: the namespaces the box has apart from the host, in the kernel's order.
  /// One the box made itself has only a `type`, so the runtime creates a new one with unshare(2)
  /// or clone(2); one it shares with the box that made it has a `path` too,
  /// /proc/PID/ns/KIND of that box's process, which the runtime joins with setns(2)
  /// (runtime-spec config-linux.md, "Namespaces"; namespaces(7)).
  static func namespaces(
    of name: String, _ box: ProcessFacts, _ facts: KernelFacts
  ) -> (entries: [JSONValue], summary: String) {
    var namespaces: [JSONValue] = []
    var own: [String] = []
    var shared: [String] = []
    for kind in NamespaceKind.allCases.sorted() {
      guard let inode = box.namespaces[kind], inode != facts.host.namespaces[kind] else { continue }
      if let other = joined(name, kind, facts), let holder = facts.box(other)?.process {
        namespaces.append(
          .object([("type", .string(specName(kind))), ("path", .string("/proc/\(holder.hostPID)/ns/\(kind.rawValue)"))])
        )
        shared.append("\(specName(kind)) of \(other)")
      } else {
        namespaces.append(.object([("type", .string(specName(kind)))]))
        own.append(specName(kind))
      }
    }
    let summary =
      "namespaces  "
      + (own.isEmpty ? "none new" : "new " + own.joined(separator: " "))
      + (shared.isEmpty ? "" : "; joined " + shared.joined(separator: ", ") + " (by path: that box must still run)")
    return (namespaces, summary)
  }

  /// `linux.uidMappings` and `gidMappings` of a user namespace the box made: the ranges of
  /// /proc/PID/uid_map and gid_map (user_namespaces(7)), which the runtime writes before the
  /// process starts. A user namespace with no uid map yet has no ID that means anything inside,
  /// so it cannot be described.
  static func userMappings(of name: String, _ user: UserFacts) throws(Refusal) -> (
    entries: [(String, JSONValue)], summary: String
  ) {
    guard !user.uidMap.isEmpty else {
      throw Refusal(
        reason: "\(name) has a user namespace with no uid map: a runtime must write one before the process starts",
        fix: "map uid 0 100000 65536 (and map gid) first")
    }
    func mappings(_ ranges: [IDMapRange]) -> JSONValue {
      .array(
        ranges.map {
          .object([
            ("containerID", .number(Int($0.inside))), ("hostID", .number(Int($0.outside))),
            ("size", .number(Int($0.count))),
          ])
        })
    }
    var entries: [(String, JSONValue)] = [("uidMappings", mappings(user.uidMap))]
    if !user.gidMap.isEmpty { entries.append(("gidMappings", mappings(user.gidMap))) }
    let summary =
      "user        uid_map " + user.uidMap.map(\.description).joined(separator: ", ") + "; gid_map "
      + (user.gidMap.isEmpty ? "none" : user.gidMap.map(\.description).joined(separator: ", "))
    return (entries, summary)
  }

  /// `linux.resources`: the limits the box's cgroup sets, memory.max, cpu.max and pids.max in
  /// cgroup v2 terms (runtime-spec config-linux.md, "Control groups"). A value of "max" is no
  /// limit and is left out, as a runtime that reads no limit writes none.
  static func resources(of cgroup: CgroupReport) -> (entries: [(String, JSONValue)], summary: String) {
    var resources: [(String, JSONValue)] = []
    var said: [String] = []
    if case .value(let bytes)? = cgroup.memory.max {
      resources.append(("memory", .object([("limit", .number(Int(clamping: bytes)))])))
      said.append("memory.limit \(bytes)")
    }
    if case .value(let quota)? = cgroup.cpu.quota {
      let period = cgroup.cpu.period ?? 100_000
      resources.append(
        ("cpu", .object([("quota", .number(Int(clamping: quota))), ("period", .number(Int(clamping: period)))])))
      said.append("cpu.quota \(quota) period \(period)")
    }
    if case .value(let n)? = cgroup.pids.max {
      resources.append(("pids", .object([("limit", .number(Int(clamping: n)))])))
      said.append("pids.limit \(n)")
    }
    return (
      resources, "resources   " + (said.isEmpty ? "none (its cgroup sets no limit)" : said.joined(separator: ", "))
    )
  }

  /// `linux.timeOffsets`: the offsets of a time namespace's CLOCK_MONOTONIC and CLOCK_BOOTTIME,
  /// which the runtime writes to /proc/PID/timens_offsets before the first process enters it
  /// (time_namespaces(7)). boxwalk's offsets are whole seconds.
  static func timeOffsets(_ offsets: ClockOffsets) -> JSONValue {
    .object([
      ("monotonic", .object([("secs", .number(Int(offsets.monotonic))), ("nanosecs", .number(0))])),
      ("boottime", .object([("secs", .number(Int(offsets.boottime))), ("nanosecs", .number(0))])),
    ])
  }

  /// `mounts`: every one the box made inside its root, "/" being the bundle's rootfs itself. proc,
  /// sysfs, mqueue and tmpfs get nosuid and nodev (and noexec where they hold no programs,
  /// mount(8)); `mount dev`'s tmpfs gets the options of runc's default /dev. A bind mount's
  /// source is a path in the box's root, so in the bundle it is one below rootfs/; a filesystem
  /// boxwalk cannot name to a runtime refuses the whole export.
  static func mounts(of name: String, _ box: ProcessFacts) throws(Refusal) -> (entries: [JSONValue], summary: String) {
    var mounts: [JSONValue] = []
    var mountWords: [String] = []
    var devices = false
    let devPaths = Set(box.mounts.filter { $0.source.hasPrefix("host:") }.map { Overlay.parent(of: $0.path) })
    for m in box.mounts where m.path != "/" {
      if m.source.hasPrefix("host:") {
        // A device node `mount dev` bound from the host's /dev: every runtime makes the default
        // devices itself (runtime-spec config-linux.md, "Default Devices").
        devices = true
        continue
      }
      switch m.fstype {
      case "proc":
        mounts.append(mount(m.path, "proc", "proc", ["nosuid", "noexec", "nodev", "ro"]))
      case "sysfs":
        mounts.append(mount(m.path, "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]))
      case "mqueue":
        mounts.append(mount(m.path, "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]))
      case "tmpfs" where devPaths.contains(m.path):
        // `mount dev`'s tmpfs: the runtime makes device nodes in it, so it is not nodev (runc's
        // default /dev, runtime-spec config-linux.md "Default Devices").
        mounts.append(mount(m.path, "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]))
      case "tmpfs":
        mounts.append(mount(m.path, "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=755"]))
      default:
        guard m.fstypeOfSource else {
          throw Refusal(
            reason: "\(name) has a \(m.fstype) mount at \(m.path), which boxwalk cannot describe to a runtime",
            fix: "umount \(m.path) first")
        }
        // A bind source is a path in the box's root, so in the bundle it is one below rootfs/
        // (a relative source is the bundle's: runtime-spec config.md, "Mounts").
        mounts.append(mount(m.path, "none", "rootfs" + (m.source == "/" ? "" : m.source), ["rbind"]))
        mountWords.append("\(m.path) (bind of \(m.source))")
        continue
      }
      mountWords.append("\(m.path) (\(m.fstype))")
    }
    if devices { mountWords.append("its device nodes left to the runtime, which makes the default ones itself") }
    return (
      mounts, "mounts      " + (mountWords.isEmpty ? "none besides the root" : mountWords.joined(separator: ", "))
    )
  }

  /// `process`: the box's first program still running, else a shell, run as the box's user with
  /// its capability sets (capabilities(7)) and PATH as runc's `spec` sets it, since a shell
  /// started in the box has no environment (runtime-spec config.md, "Process").
  static func process(of box: ProcessFacts) -> (entry: JSONValue, summary: String) {
    let args =
      box.processes.first.map { $0.command.split(separator: " ").map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
      ?? ["/bin/sh"]
    let everyCap = JSONValue.array(box.user.bounding.map { .string($0) })
    let process: JSONValue = .object([
      ("terminal", .bool(false)),
      ("user", .object([("uid", .number(Int(box.user.uid))), ("gid", .number(Int(box.user.gid)))])),
      ("args", .array(args.map { .string($0) })),
      ("env", .array([.string(path)])),
      ("cwd", .string("/")),
      (
        "capabilities",
        .object([
          ("bounding", everyCap), ("effective", .array(box.user.effective.map { .string($0) })),
          ("permitted", .array(box.user.permitted.map { .string($0) })),
        ])
      ),
      ("noNewPrivileges", .bool(false)),
    ])
    return (process, "process     " + args.joined(separator: " "))
  }

  /// One entry of `mounts`: where, what filesystem, from where, with which options
  /// (runtime-spec config.md, "Mounts").
  static func mount(_ destination: String, _ type: String, _ source: String, _ options: [String]) -> JSONValue {
    .object([
      ("destination", .string(destination)), ("type", .string(type)), ("source", .string(source)),
      ("options", .array(options.map { .string($0) })),
    ])
  }

  /// The document indented by two spaces per level, a short array of plain values on one line.
  static func pretty(_ value: JSONValue, indent: String = "") -> String {
    let inner = indent + "  "
    switch value {
    case .object(let entries) where !entries.isEmpty:
      let scalar = entries.allSatisfy {
        if case .object = $0.1 { false } else if case .array = $0.1 { false } else { true }
      }
      let line = String(decoding: value.encoded(), as: UTF8.self)
      if scalar && line.count + indent.count <= 100 {
        return "{" + entries.map { JSON.quote($0.0) + ": " + pretty($0.1) }.joined(separator: ", ") + "}"
      }
      return "{\n"
        + entries.map { inner + JSON.quote($0.0) + ": " + pretty($0.1, indent: inner) }.joined(separator: ",\n")
        + "\n" + indent + "}"
    case .array(let items) where !items.isEmpty:
      let flat = items.allSatisfy { if case .object = $0 { false } else if case .array = $0 { false } else { true } }
      if flat {
        let line = "[" + items.map { String(decoding: $0.encoded(), as: UTF8.self) }.joined(separator: ", ") + "]"
        if line.count + indent.count <= 100 { return line }
      }
      return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
    default:
      return String(decoding: value.encoded(), as: UTF8.self)
    }
  }
}
