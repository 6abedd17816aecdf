import Glibc
import Kernel

/// The rootless leg: a session also runs on `--backend rootless` as the user `nobody`, the kind
/// of user that backend is for, and what it prints is compared with the simulator's.
///
/// The simulator models a lab run by root. The rootless backend builds the same lab inside a user
/// namespace of the session's own (user_namespaces(7)): an unprivileged process that creates a
/// user namespace has every capability in it and in the namespaces it goes on to create, so
/// everything a box does to its own namespaces prints what the real backend prints, which is
/// the promise that one transcript passes on every backend. What it cannot do is whatever needs
/// the machine's own privileges, and there it refuses or the kernel says no by design:
///
/// - cgroups (`cgroup new`, `cgroup set`, `stress`, which needs a cgroup): the machine's cgroup
///   tree belongs to root unless it was delegated;
/// - the lab's host side of the network (`net veth`, `net bridge`, `net attach`, `net addr`,
///   `net up` and `net down` on `host:` links, `ping` or `connect` from the host side or the
///   outside, and the outside, forwarding and nftables rules beside it: `net outside`, `net
///   forward`, `net nat`, `net publish`, `net rules`, `net listen --on host|outside`): it is a
///   network namespace only the machine's root may make and change;
/// - `mount sysfs` in a box that shares the machine's network namespace (sysfs needs
///   CAP_SYS_ADMIN over the network namespace's owner);
/// - the lab's host user is the machine's unprivileged user: the session's user namespace maps
///   its uid 0 to nobody (65534), so the user facts measured against the machine (`host_uid`,
///   `host_gid`, `uid_map`, `gid_map` of the host and of every box) say 65534 where the simulator,
///   which models root, says 0. Every command that prints them is left out: `map uid|gid` (an
///   unprivileged owner may map only its own ID, and the step shows the box's host uid),
///   `unshare` with user (its diff shows the host's uid_map), `id` (its "on the host" line),
///   `state`, and `show` or `watch` of a whole box, the host, or a `.user` path;
/// - `join KIND BOX` where BOX has not unshared KIND: the lab host's namespaces other than user
///   are the machine's, and setns(2) into one needs CAP_SYS_ADMIN in the machine's user namespace.
///
/// A session is compared on rootless up to its first such command (the whole session when it
/// has none): the prefix is a session in its own right, and what it prints must be the same.
/// The simulator is not taught a rootless mode: the backend's refusals are one-line errors that
/// name `--backend real`, not kernel behaviour to model.
struct RootlessUser {
  /// nobody, on every distribution boxwalk runs on; scripts/test runs the rootless transcripts
  /// as this user too.
  static let uid = 65534
  static let gid = 65534
  static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// setpriv(1): the real and effective IDs become nobody's, with no supplementary groups, then
  /// execve. (The tester runs as root, so it may.)
  var prefix: [String] {
    ["/usr/bin/setpriv", "--reuid=\(Self.uid)", "--regid=\(Self.gid)", "--clear-groups", "--"]
  }

  /// Nobody's directory in the scratch directory: its binaries, its template store, the
  /// working directories and stores of its sessions. Mode 0700, owned by nobody: nobody may not
  /// be able to read root's checkout, and no other user may reach into a session's files.
  static func area(_ scratch: String) -> String { scratch + "/rootless" }

  /// The copy of boxwalk nobody runs (boxwalk-helper beside it).
  static func boxwalk(_ scratch: String) -> String { area(scratch) + "/bin/boxwalk" }

  /// chown(2) to nobody, each path (not recursive).
  static func give(_ paths: [String]) {
    for path in paths { _ = chown(path, uid_t(uid), gid_t(gid)) }
  }

  /// Makes nobody's area: copies of boxwalk and boxwalk-helper from beside `boxwalk`, and a
  /// template image store built by nobody on the rootless backend, as `Differential` builds the
  /// real one. nil when it worked, else why the rootless leg cannot run on this machine.
  static func prepare(scratch: String, boxwalk: String, timeout: Double) -> String? {
    let area = area(scratch)
    let template = area + "/template"
    if access(template, F_OK) == 0 { return nil }
    guard access("/usr/bin/setpriv", X_OK) == 0 else { return "no /usr/bin/setpriv to run the REPL as nobody" }
    Shell.removeTree(area)
    mkdir(scratch, 0o755)
    mkdir(area, 0o700)
    mkdir(area + "/bin", 0o755)
    let dir = boxwalk.lastIndex(of: "/").map { String(boxwalk[..<$0]) } ?? "."
    for name in ["boxwalk", "boxwalk-helper"] {
      guard Shell.run(["/bin/cp", dir + "/" + name, area + "/bin/" + name]).status == 0 else {
        return "cannot copy \(dir)/\(name) into \(area)/bin"
      }
    }
    give([area, area + "/bin", area + "/bin/boxwalk", area + "/bin/boxwalk-helper"])
    // The template: one session that pulls the busybox image into a fresh store, kept.
    let differential = Differential(options: .init(boxwalk: boxwalk, scratch: scratch, timeout: timeout))
    let run = differential.run(["box new t", "unshare mnt", "overlay busybox"], on: "rootless", slot: "template")
    let home = area + "/home-template"
    let made = run.steps.last?.output.first ?? run.stopped ?? "nothing"
    guard run.steps.count == 3, !made.hasPrefix("error"), access(home + "/images", F_OK) == 0
    else {
      return "the rootless backend does not work here as nobody: `overlay busybox` printed: \(made)"
    }
    rename(home + "/images", template)
    Shell.removeTree(home)
    Shell.removeTree(area + "/cwd-template")
    return nil
  }

  /// How many leading commands of `session` the rootless leg runs: all of them, or those before
  /// the first command the rootless backend refuses, or does otherwise, by design.
  static func comparablePrefix(_ session: [String]) -> Int {
    // Which kinds each box has unshared, and which box is current, to tell whether a `join`
    // targets a namespace of the machine's.
    var unshared: [String: Set<String>] = [:]
    var current: String?
    // The boxes that exist: `use NOSUCH` and `box new` of an existing name fail and leave the
    // current box as it was (seed 3218: after `use nosuch`, `box rm web` of the current box was
    // taken for the removal of another, and a later host-side `ping` was compared).
    var boxes: Set<String> = []
    for (i, command) in session.enumerated() {
      if differsByDesign(command) || joinsMachineNamespace(command, unshared: unshared) { return i }
      let words = command.split(separator: " ").map(String.init)
      // Commands that act from the lab's host side when no box is current (`ping ADDR`,
      // `connect ADDR:PORT`, `net listen PORT`).
      if current == nil, words.first == "ping" || words.first == "connect" || command.hasPrefix("net listen ") {
        return i
      }
      // sysfs belongs to the caller's network namespace: mounting it needs CAP_SYS_ADMIN in the
      // user namespace that owns that network namespace (sysfs_get_tree, fs/sysfs/mount.c). A
      // rootless box that never unshared net has the machine's, owned by the machine's user
      // namespace: EPERM for nobody, where root mounts it.
      if words.first == "mount", words.count > 1, words[1] == "sysfs",
        !(current.flatMap { unshared[$0] }?.contains("net") ?? false)
      {
        return i
      }
      switch (words.first, words.count) {
      case ("box", 3) where words[1] == "new" && !boxes.contains(words[2]) && Names.checkBoxName(words[2]) == nil:
        boxes.insert(words[2])
        current = words[2]
      case ("use", 2) where boxes.contains(words[1]): current = words[1]
      case ("box", 3) where words[1] == "rm" && boxes.contains(words[2]):
        boxes.remove(words[2])
        unshared[words[2]] = nil
        if words[2] == current { current = nil }
      case ("unshare", 2):
        if let box = current { unshared[box, default: []].formUnion(words[1].split(separator: ",").map(String.init)) }
      default: break
      }
    }
    return session.count
  }

  /// `join KIND BOX` where BOX still has the lab host's namespace of that kind: on rootless that
  /// is the machine's own, owned by the machine's user namespace, and setns(2) asks for
  /// CAP_SYS_ADMIN there (EPERM for nobody); root joins it.
  static func joinsMachineNamespace(_ command: String, unshared: [String: Set<String>]) -> Bool {
    let words = command.split(separator: " ").map(String.init)
    guard words.count == 3, words[0] == "join", words[1] != "user" else { return false }
    return !(unshared[words[2]] ?? []).contains(words[1])
  }

  /// Whether the rootless backend refuses `command`, or the kernel does something else for an
  /// unprivileged user, by design (see the type's comment).
  static func differsByDesign(_ command: String) -> Bool {
    let words = command.split(separator: " ").map(String.init)
    switch Differential.verb(command) {
    case "cgroup new", "cgroup set", "stress", "net veth", "net bridge", "net attach":
      return true
    case "net addr", "net up", "net down":
      return words.count > 2 && words[2].hasPrefix("host:")
    case "ping", "connect":
      return words.contains("--from") && (words.last == "host" || words.last == "outside")
    case "net outside", "net forward", "net nat", "net rules", "net publish":
      // The outside and the rules live beside the lab's host side, which rootless cannot make.
      return true
    case "net listen":
      return words.contains("--on") && (words.last == "host" || words.last == "outside")
    case "map uid", "map gid":
      // Even `map uid 0 0 1`, the one mapping nobody may write itself, prints the box's host
      // uid, which is nobody's (below).
      return true
    case "unshare":
      // The step's diff shows the host's uid_map beside the box's new one.
      return words.count > 1 && words[1].split(separator: ",").contains("user")
    case "state", "id":
      // `id` prints the box's ids on the machine beside those inside.
      return true
    case "show", "watch":
      // A whole box or the host, or its user facts.
      return words.count > 1 && (!words[1].contains(".") || words[1].contains(".user"))
    default:
      return false
    }
  }

  /// Whether nobody may create a user namespace here (unshare(1) tries it): without that the
  /// rootless backend cannot run, and the leg is skipped.
  static func available() -> Bool {
    guard access("/usr/bin/setpriv", X_OK) == 0, access("/usr/bin/unshare", X_OK) == 0 else { return false }
    let probe = Shell.run(
      [
        "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", "/usr/bin/unshare", "--user",
        "--map-root-user", "/bin/true",
      ])
    return probe.status == 0
  }
}
