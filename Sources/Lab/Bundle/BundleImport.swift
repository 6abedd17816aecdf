import Kernel
import OCI

/// `box import-bundle DIR`: the way back from an OCI runtime bundle to a box (docs/runtimes.md).
/// A pure function from config.json to the boxwalk command lines that build the same box, in an
/// order the kernel accepts (namespaces before the root, the root before its mounts, the user
/// namespace last, since an overlay's upper directory is host root's), and the fields boxwalk has
/// no step for, each named. The lines then run as if typed, so the learner sees every step a
/// runtime makes in one go.
public enum BundleImport {
  public struct Plan: Equatable, Sendable {
    public var lines: [String]
    /// What the bundle says that the lines do not do, one sentence each.
    public var left: [String]
    /// The process the bundle would run, as a `run` line; boxwalk does not start it.
    public var process: String?
  }

  /// What cannot be imported at all, and the fix: the same type as `box export`'s refusals.
  public typealias Refusal = BundleConfig.Refusal

  /// The lines that build the bundle's box: the image and the box, its namespaces, hostname and
  /// clock offsets, its cgroup, its root and mounts, and the user namespace last (the order the
  /// type's comment gives the reasons for); then what the bundle asks for that boxwalk has no
  /// step for.
  ///
  /// - Parameters:
  ///   - boxesByPID: the boxes of the session by host PID, for a namespace given by
  ///     `/proc/PID/ns/KIND` (as `box export` writes a namespace shared with another box).
  public static func plan(config: JSONValue, box: String, directory: String, boxesByPID: [Int: String]) throws(Refusal)
    -> Plan
  {
    guard case .object(let top) = config else {
      throw Refusal(reason: "config.json is not a JSON object", fix: "export a bundle with box export, or runc spec")
    }
    var lines: [String] = []
    var left: [String] = []
    let image = box + "-bundle"
    let rootPath = config["root"]?["path"]?.string ?? "rootfs"
    guard !rootPath.hasPrefix("/"), !rootPath.split(separator: "/").contains("..") else {
      throw Refusal(
        reason: "root.path \(JSON.quote(rootPath)) is not a directory inside the bundle",
        fix: "a bundle keeps its root filesystem in it, as rootfs")
    }
    lines.append("image import \(image) \(ShellWord.quote(directory + "/" + rootPath))")
    lines.append("box new \(box)")

    // Namespaces: new ones, then the ones given by path, then the user namespace at the end.
    let linux = config["linux"]
    let spaces = namespaces(linux, boxesByPID: boxesByPID, left: &left)
    if !spaces.own.isEmpty { lines.append("unshare " + spaces.own.sorted().map(\.rawValue).joined(separator: ",")) }
    lines += spaces.joins
    if let name = config["hostname"]?.string {
      if spaces.own.contains(.uts) {
        lines.append("hostname \(ShellWord.quote(name))")
      } else {
        left.append("hostname: \(JSON.quote(name)) needs a uts namespace of the box's own, and the bundle has none")
      }
    }
    if let offsets = linux?["timeOffsets"] {
      for clock in ["monotonic", "boottime"] {
        if let secs = offsets[clock]?["secs"]?.int, secs != 0 { lines.append("clock offset \(clock) \(secs)") }
      }
    }
    lines += cgroupLines(linux?["resources"], left: &left)

    // The root: the imported image under a writable layer, entered as a runtime enters it.
    if spaces.own.contains(.mnt) {
      lines += ["rootfs \(image)", "pivot-root"]
      lines += mountLines(config["mounts"]?.array ?? [], rootPath: rootPath, left: &left)
    } else {
      left.append("root: a root filesystem needs a mount namespace of the box's own, and the bundle has none")
    }
    if spaces.user { lines += ["unshare user"] + mapLines(linux) }

    let args = (config["process"]?["args"]?.array ?? []).compactMap(\.string)
    left += unsupported(config, top: top)
    return Plan(
      lines: lines, left: left,
      process: args.isEmpty ? nil : "run " + args.map(ShellWord.quote).joined(separator: " "))
  }

  /// `linux.namespaces` (runtime-spec config-linux.md, "Namespaces"): the kinds the box gets new
  /// ones of, the `join` lines for a namespace given by /proc/PID/ns/KIND of a box of this
  /// session (setns(2) into it), and whether it has a user namespace of its own, which comes
  /// last. A kind boxwalk does not know, or a path that is not a box's, is left, with why.
  static func namespaces(
    _ linux: JSONValue?, boxesByPID: [Int: String], left: inout [String]
  ) -> (own: [NamespaceKind], joins: [String], user: Bool) {
    var own: [NamespaceKind] = []
    var joins: [String] = []
    var user = false
    for entry in linux?["namespaces"]?.array ?? [] {
      guard let type = entry["type"]?.string,
        let kind = NamespaceKind.allCases.first(where: {
          BundleConfig.specName($0) == type
        })
      else {
        left.append(
          "linux.namespaces: a \(JSON.quote(entry["type"]?.string ?? "?")) namespace, which boxwalk has no kind for")
        continue
      }
      if let path = entry["path"]?.string {
        let parts = path.split(separator: "/")
        if parts.count == 4, parts[0] == "proc", parts[2] == "ns", let pid = Int(parts[1]), let other = boxesByPID[pid],
          kind != .user
        {
          joins.append("join \(kind.rawValue) \(other)")
        } else {
          left.append(
            "linux.namespaces: the \(type) namespace at \(path), which is not a box of this session (join KIND BOX takes a box)"
          )
        }
        continue
      }
      if kind == .user { user = true } else { own.append(kind) }
    }
    return (own, joins, user)
  }

  /// `linux.resources` (runtime-spec config-linux.md, "Control groups"): a cgroup of the box's
  /// own, then each limit boxwalk has a cgroup v2 key for (memory.max, pids.max, cpu.max as
  /// "QUOTA PERIOD"); every other field is left.
  static func cgroupLines(_ resources: JSONValue?, left: inout [String]) -> [String] {
    guard let resources, case .object(let kinds) = resources, !kinds.isEmpty else { return [] }
    var sets: [String] = []
    for (kind, value) in kinds {
      switch kind {
      case "memory":
        if let limit = value["limit"]?.int { sets.append("cgroup set memory.max \(limit)") }
        if case .object(let fields) = value, fields.contains(where: { $0.0 != "limit" }) {
          left.append("linux.resources.memory: only limit (memory.max) has a boxwalk key")
        }
      case "pids":
        if let limit = value["limit"]?.int { sets.append("cgroup set pids.max \(limit)") }
      case "cpu":
        if let quota = value["quota"]?.int {
          sets.append("cgroup set cpu.max \"\(quota) \(value["period"]?.int ?? 100_000)\"")
        }
        if case .object(let fields) = value, fields.contains(where: { $0.0 != "quota" && $0.0 != "period" }) {
          left.append("linux.resources.cpu: only quota and period (cpu.max) have a boxwalk key")
        }
      default:
        left.append("linux.resources.\(kind): boxwalk's cgroup keys are memory.max, pids.max and cpu.max")
      }
    }
    return sets.isEmpty ? [] : ["cgroup new"] + sets
  }

  /// `mounts` (runtime-spec config.md, "Mounts"), made after pivot_root(2) inside the new root:
  /// proc, sysfs, mqueue and tmpfs by type (a tmpfs on /dev is `mount dev`, the runtime's default
  /// devices), and a bind mount whose source is inside the bundle's root as a bind of that path
  /// in the box. A bind from outside the root, or another filesystem, is left.
  static func mountLines(_ mounts: [JSONValue], rootPath: String, left: inout [String]) -> [String] {
    var lines: [String] = []
    for mount in mounts {
      let destination = mount["destination"]?.string ?? "?"
      let type = mount["type"]?.string ?? ""
      let options = (mount["options"]?.array ?? []).compactMap(\.string)
      switch type {
      case "proc", "sysfs", "mqueue":
        lines.append("mount \(type) \(ShellWord.quote(destination))")
      case "tmpfs" where destination == "/dev":
        lines.append("mount dev /dev")
      case "tmpfs":
        lines.append("mount tmpfs \(ShellWord.quote(destination))")
      case "none", "bind", "":
        let source = mount["source"]?.string ?? ""
        if options.contains("rbind") || options.contains("bind"), source.hasPrefix(rootPath + "/") || source == rootPath
        {
          let inside = source == rootPath ? "/" : String(source.dropFirst(rootPath.count))
          lines.append("mount bind \(ShellWord.quote(inside)) \(ShellWord.quote(destination))")
        } else {
          left.append("mounts: \(destination), a bind of \(source) from outside the bundle's root")
        }
      default:
        left.append("mounts: \(destination), a \(type) mount, which boxwalk cannot make")
      }
    }
    return lines
  }

  /// `linux.uidMappings` and `gidMappings` as `map` lines: the ranges written to the user
  /// namespace's /proc/PID/uid_map and gid_map (user_namespaces(7)).
  static func mapLines(_ linux: JSONValue?) -> [String] {
    var lines: [String] = []
    for (key, word) in [("uidMappings", "uid"), ("gidMappings", "gid")] {
      for range in linux?[key]?.array ?? [] {
        if let inside = range["containerID"]?.int, let outside = range["hostID"]?.int, let size = range["size"]?.int {
          lines.append("map \(word) \(inside) \(outside) \(size)")
        }
      }
    }
    return lines
  }

  /// What boxwalk has no step for: named, so the learner knows what the box lacks. The process's
  /// settings beyond its arguments (capabilities(7) sets, a uid other than 0, rlimits...), the
  /// top-level fields beyond the ones above, a read-only root and the linux fields no step makes
  /// (seccomp, sysctl, devices...: docs/runtimes.md says what runtimes do with them).
  static func unsupported(_ config: JSONValue, top: [(String, JSONValue)]) -> [String] {
    var left: [String] = []
    let process = config["process"]
    if let p = process, case .object(let fields) = p {
      for (key, value) in fields {
        switch key {
        case "args", "env", "cwd", "terminal", "user": continue
        case "noNewPrivileges" where value == .bool(false): continue
        case "capabilities":
          left.append("process.capabilities: boxwalk's processes keep what the kernel gives them (caps shows it)")
        default: left.append("process.\(key): boxwalk has no step for it")
        }
      }
    }
    if let uid = process?["user"]?["uid"]?.int, uid != 0 {
      left.append("process.user.uid \(uid): boxwalk runs programs as the box's uid 0")
    }
    for (key, _) in top where !["ociVersion", "process", "root", "hostname", "mounts", "linux"].contains(key) {
      left.append("\(key): boxwalk has no step for it")
    }
    if config["root"]?["readonly"] == .bool(true) { left.append("root.readonly: boxwalk's root stays writable") }
    if let l = config["linux"], case .object(let fields) = l {
      for (key, _) in fields
      where !["namespaces", "uidMappings", "gidMappings", "resources", "timeOffsets", "cgroupsPath"].contains(key) {
        left.append("linux.\(key): boxwalk has no step for it (docs/runtimes.md says what runtimes do with it)")
      }
    }
    return left
  }
}
