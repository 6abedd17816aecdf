import Kernel

/// `mount`, `umount`, `mounts`, `propagation`, `rootfs`, `pivot-root`, `chroot`: the box's mount
/// namespace and root filesystem (mount_namespaces(7), pivot_root(2), chroot(2)).
extension Session {
  func mountCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("mount")
    guard let kind = args.first else {
      throw usage("mount", "mount needs a type: proc, sysfs, tmpfs, mqueue, dev or bind")
    }
    let request: MountRequest
    switch kind {
    case "proc", "sysfs", "tmpfs", "mqueue", "dev":
      try arity("mount \(kind)", Array(args.dropFirst()), 1, usageOf: "mount")
      let path = try checkPath(args[1])
      switch kind {
      case "proc": request = .proc(path: path)
      case "sysfs": request = .sysfs(path: path)
      case "mqueue": request = .mqueue(path: path)
      case "dev": request = .dev(path: path)
      default: request = .tmpfs(path: path)
      }
    case "bind":
      try arity("mount bind", Array(args.dropFirst()), 2, usageOf: "mount")
      request = .bind(source: try checkPath(args[1]), target: try checkPath(args[2]))
    default:
      var details: [(String, String)] = [("types", "proc sysfs tmpfs mqueue dev bind")]
      if let near = Nearest.match(kind, in: ["proc", "sysfs", "tmpfs", "mqueue", "dev", "bind"]) {
        details.append(("did you mean", near))
      }
      details.append(LabError.unchanged)
      throw LabError("boxwalk cannot mount \(quotedForTerminal(kind))", details)
    }
    try refuseIfSharingHostMounts(box, "mount")
    if case .proc = request { try refuseIfSharingHostPIDs(box) }
    if case .mqueue = request, shares(box, .ipc) {
      // The host's mqueue lists every queue of the machine: what other programs made differs
      // between hosts, and a container should not see it anyway.
      throw LabError(
        "refused: \(box) shares the host's IPC namespace, so its mqueue would show the host's message queues",
        [
          ("rule", "a box mounts mqueue only for an IPC namespace of its own"), ("fix", "unshare ipc"),
          LabError.unchanged,
        ])
    }
    try runStep(.mount(.mount(box: box, request: request)), input: line, into: &out)
  }

  func umountCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("umount", args, 1)
    let box = try currentBox("umount")
    let path = try checkPath(args[0])
    try refuseIfSharingHostMounts(box, "umount")
    if path == "/", facts.box(box)?.process.fs != nil {
      throw LabError(
        "umount / would take \(box)'s overlay, its root filesystem, away from under the file commands",
        [("fix", "box rm \(box) removes the box, its overlay and its upper layer"), LabError.unchanged])
    }
    let mounted = mountPaths(box)
    guard mounted.contains(path) else {
      throw LabError(
        "nothing that \(box) mounted is at \(path)",
        [
          ("mounts", mounted.isEmpty ? "none yet" : mounted.joined(separator: " ")),
          ("rule", "umount undoes the box's own mounts (the host's copies differ between machines)"),
          LabError.unchanged,
        ])
    }
    try runStep(.mount(.umount(box: box, path: path)), input: line, into: &out)
  }

  func mountsCommand(_ args: [String], into out: inout Output) throws {
    try arity("mounts", args, 0)
    let box = try currentBox("mounts")
    try refresh()
    if shares(box, .mnt) {
      out.lines.append("\(box) shares the host's mount namespace: its mounts are the host's (unshare mnt for its own)")
      return
    }
    let root = facts.box(box)?.process.root ?? .host
    let propagation = facts.box(box)?.process.rootPropagation?.rawValue
    let entered: Bool
    switch root {
    case .host, .prepared: entered = false
    case .pivoted, .chrooted: entered = true
    }
    out.lines.append(
      !entered
        ? "\(box) has its own copies of the host's mounts, and these mounts of its own:"
        : "\(box)'s mount table (its root is \(root.text)):")
    var rows = [["MOUNT", "TYPE", "SOURCE", "PROPAGATION"]]
    if case .map(let m)? = tree.value(at: StatePath(keys: box, "mounts")) {
      for (path, v) in m.entries {
        // A bind mount's type is the host's file system's (volatile, in state --json): the table
        // says bind, which is what every host agrees on.
        let type = v["fstype"].map { $0.isVolatile ? "bind" : $0.stringValue ?? "?" } ?? "?"
        rows.append([path, type, v["source"]?.stringValue ?? "?", v["propagation"]?.stringValue ?? "?"])
      }
    }
    out.lines += rows.count == 1 ? ["  (none)"] : DiffTable.table(rows)
    out.lines.append("root: \(root.text); / is " + (propagation ?? "not a mount point"))
  }

  func propagationCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("propagation", args, 1)
    let box = try currentBox("propagation")
    guard let mode = Propagation(rawValue: args[0]) else {
      throw LabError(
        "\(quotedForTerminal(args[0])) is not a propagation type",
        [("types", "private slave shared"), LabError.unchanged])
    }
    try refuseIfSharingHostMounts(box, "propagation")
    try runStep(.mount(.propagation(box: box, mode: mode)), input: line, into: &out)
  }

  /// `pivot-root` and `chroot` both need a prepared root filesystem.
  func enterRootCommand(_ name: String, _ args: [String], line: String, into out: inout Output) throws {
    try arity(name, args, 0)
    let box = try currentBox(name)
    try refuseIfSharingHostMounts(box, name)
    let root = facts.box(box)?.process.root ?? .host
    guard case .prepared = root else {
      let none = root == .host
      throw LabError(
        none ? "\(box) has no root filesystem to switch to" : "\(box) already switched: its root is \(root.text)",
        [
          ("fix", none ? "rootfs busybox or overlay busybox prepares one" : "box new for a fresh box"),
          LabError.unchanged,
        ])
    }
    try runStep(name == "chroot" ? .mount(.chroot(box: box)) : .mount(.pivotRoot(box: box)), input: line, into: &out)
  }

  /// The paths of the box's own mounts (those that differ from the host's), from the kernel's
  /// facts: each path once, in the facts' order (by path), though mounts may be stacked on it.
  func mountPaths(_ box: String) -> [String] {
    var seen: Set<String> = []
    return (facts.box(box)?.process.mounts ?? []).map(\.path).filter { seen.insert($0).inserted }
  }

  func checkPath(_ path: String) throws -> String {
    if let problem = BoxPath.problem(path) {
      throw LabError(
        "\(quotedForTerminal(path)) is not a path in the box",
        [("rule", problem), ("example", "/proc"), LabError.unchanged])
    }
    return BoxPath.canonical(path)
  }

  /// setns(2) into a mount namespace does more than switch mount tables: it sets the caller's
  /// root and working directory to the root of the namespace it joins (setns(2), "CLONE_NEWNS").
  /// A box that was made a container with pivot-root would leave its own root behind: joining a
  /// box that never entered a root of its own puts it back on the host's files, where `run`
  /// would read and write the host's /etc as root. The other way round, a box without a root of
  /// its own that joins a container would be inside that container's files while boxwalk still
  /// shows it on the host's. So `join mnt` is taken only by a box whose root is the host's, into a
  /// namespace whose root is still the host's: one where a root filesystem is only prepared (an
  /// overlay mounted beside the host's files) or a process chrooted (chroot(2) changes that
  /// process's root, not the namespace's) qualifies; one a box pivoted into does not.
  func refuseJoiningMountsAcrossRoots(_ box: String, _ target: String, command: String) throws {
    let mine = facts.box(box)?.process.root ?? .host
    let theirs = facts.box(target)?.process.root ?? .host
    let theirsPivoted: Bool
    if case .pivoted = theirs { theirsPivoted = true } else { theirsPivoted = false }
    guard mine != .host || theirsPivoted else { return }
    let reason =
      mine != .host
      ? "\(box) would leave its root (\(mine.text)) for the root of \(target)'s mount namespace"
      : "\(box) would enter the root of \(target)'s mount namespace (\(theirs.text)) while boxwalk shows it on the host's"
    throw LabError(
      "refused: joining a mount namespace moves a box to that namespace's root directory",
      [
        ("command", escapedForTerminal(command)), ("why", reason),
        (
          "rule",
          "join mnt only from a box whose root is the host's (box.root = \"host\"), into a namespace nobody pivoted; setns(2) sets the root to the namespace's"
        ),
        (
          "fix",
          "join mnt before rootfs, overlay, pivot-root or chroot in the joining box, and before pivot-root in the other"
        ),
        LabError.unchanged,
      ])
  }

  /// A proc shows one pid namespace, and /proc/PID/root of each process in it is that process's
  /// root directory, a way into its files that ignores the reader's own root (proc(5)). Mounted
  /// for the host's pid namespace, a box's /proc would hand the box the host's whole filesystem,
  /// pivot-root or not. So proc is mounted only for a pid namespace of the box's own.
  func refuseIfSharingHostPIDs(_ box: String) throws {
    guard shares(box, .pid) else { return }
    throw LabError(
      "refused: \(box) shares the host's pid namespace, so its proc would show the host's processes, and /proc/PID/root the host's files",
      [
        ("rule", "a box mounts proc only for a pid namespace of its own"), ("fix", "unshare pid"), LabError.unchanged,
      ])
  }

  /// `unshare KINDS [--propagation private|unchanged]`, as unshare(1) spells it: the kinds, and
  /// whether a new mount namespace keeps the propagation of the one it is copied from.
  func unshareOptions(_ args: [String]) throws -> ([String], Bool) {
    guard let at = args.firstIndex(of: "--propagation") else { return (args, false) }
    var rest = args
    guard at + 1 < args.count else {
      throw usage("unshare", "--propagation needs a value: private or unchanged")
    }
    let mode = args[at + 1]
    rest.removeSubrange(at...(at + 1))
    switch mode {
    case "private": return (rest, false)
    case "unchanged": return (rest, true)
    default:
      throw LabError(
        "unknown propagation for unshare: \(quotedForTerminal(mode))",
        [
          ("rule", "a new mount namespace is made private (the default) or keeps the old one's (unchanged)"),
          ("fix", "unshare mnt --propagation unchanged, or `propagation shared|slave` after unshare mnt"),
          LabError.unchanged,
        ])
    }
  }

  /// `--propagation unchanged` keeps the copied mounts peers of the ones they were copied from.
  /// Copied from the host's mount namespace, they would be peers of this machine's own mounts
  /// (on a systemd host "/" is shared), and a mount in the box would appear on the machine:
  /// refused. A copy of another box's namespace is a peer of that box's mounts only.
  func refuseKeepingHostPropagation(_ box: String, _ kinds: [NamespaceKind]) throws {
    guard kinds.contains(.mnt) else {
      throw LabError(
        "--propagation applies to a new mount namespace, and these kinds have none",
        [
          ("rule", "only a mount namespace has propagation"), ("fix", "unshare mnt --propagation unchanged"),
          LabError.unchanged,
        ])
    }
    guard shares(box, .mnt) else { return }
    throw LabError(
      "refused: \(box) is in the host's mount namespace, so a copy that keeps its propagation would share mounts with the host",
      [
        ("rule", "--propagation unchanged copies another box's mount namespace, never the host's"),
        ("fix", "unshare mnt first in another box, then here: join mnt OTHER; unshare mnt --propagation unchanged"),
        LabError.unchanged,
      ])
  }

  /// Mount commands in a box that shares the host's mount namespace would change the host's
  /// mount table: refused (lizrice/containers-from-scratch issue 3 is the classic leak).
  func refuseIfSharingHostMounts(_ box: String, _ command: String) throws {
    guard shares(box, .mnt) else { return }
    throw LabError(
      "refused: \(box) shares the host's mount namespace, so \(command) would change the host's mounts",
      [
        ("rule", "a box mounts only in a mount namespace of its own"), ("fix", "unshare mnt"), LabError.unchanged,
      ])
  }
}
