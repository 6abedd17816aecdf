import CShim
import Glibc
import HelperWire
import Kernel

/// The rootless backend (README.md, "Backends"): the same helpers and steps as the real backend,
/// run by an unprivileged user inside a user namespace that the session makes for itself.
///
/// user_namespaces(7) is the whole trick. An unprivileged process may create a user namespace and
/// has every capability inside it; its owner (same effective UID, in the parent namespace) may
/// write a one-line uid_map and, after "deny" to setgroups, gid_map mapping its own IDs to 0
/// inside. Namespaces created from inside (uts, ipc, mnt, pid, net, cgroup, time) are owned by that
/// user namespace, so the capabilities that count for them are the ones inside. What stays out of
/// reach is whatever belongs to the machine's own namespaces: its cgroup tree (unless delegated)
/// and its network, where the lab's host-side veths and bridges would live.
///
/// The session's "host" is the anchor: a boxwalk-helper that only unshared CLONE_NEWUSER. It
/// shares the machine's other namespaces, so a new box, which joins the anchor's user namespace
/// with setns(2) (allowed: the owner of a user namespace has CAP_SYS_ADMIN in it), shares every
/// namespace with "the host" and every step prints what the real backend prints.
extension LinuxKernel {
  /// $XDG_RUNTIME_DIR/boxwalk, else /tmp/boxwalk-UID, else $HOME/.local/state/boxwalk/sessions.
  ///
  /// /tmp is shared: any user can create /tmp/boxwalk-UID first, as a directory of their own or
  /// a symbolic link, to stop this user's sessions or to have them write where the link points.
  /// So /tmp/boxwalk-UID is used only when it is missing (SessionDirectory makes it, mode 0700)
  /// or already a real directory owned by this user; anything else there falls back to a
  /// directory under the home directory, which no one else can write. With no home either,
  /// /tmp/boxwalk-UID is returned, and SessionDirectory refuses it with the reason.
  public static func rootlessStateRoot() -> String { chooseStateRoot(rootlessStateRoots()) }

  /// The first of `candidates` that is ours (sharedStateRootIsOurs), else the first.
  static func chooseStateRoot(_ candidates: [String]) -> String {
    candidates.first { sharedStateRootIsOurs($0) } ?? candidates[0]
  }

  /// What to tell the user when /tmp/boxwalk-UID was passed over, or nil.
  public static func rootlessStateRootNote() -> String? {
    let candidates = rootlessStateRoots()
    let chosen = chooseStateRoot(candidates)
    guard chosen != candidates[0] else { return nil }
    return "\(candidates[0]) is not this user's own directory (a link, or another user's): "
      + "sessions live in \(chosen) instead"
  }

  /// Every place `rootlessStateRoot` may choose, in its order of preference: `boxwalk cleanup`
  /// looks in each, since sessions of an earlier day may have had another choice.
  public static func rootlessStateRoots() -> [String] {
    func env(_ name: String) -> String? {
      guard let value = getenv(name), value.pointee != 0 else { return nil }
      return String(cString: value)
    }
    if let runtime = env("XDG_RUNTIME_DIR") { return [runtime + "/boxwalk"] }
    var roots = ["/tmp/boxwalk-\(geteuid())"]
    if let home = env("HOME") { roots.append(home + "/.local/state/boxwalk/sessions") }
    return roots
  }

  /// Missing, or a real directory (lstat(2): not a link to one) owned by this user. Only paths
  /// under /tmp are in question: the others are this user's own directories.
  static func sharedStateRootIsOurs(_ path: String) -> Bool {
    guard path.hasPrefix("/tmp/") else { return true }
    var st = stat()
    guard lstat(path, &st) == 0 else { return errno == ENOENT }
    return st.st_mode & S_IFMT == S_IFDIR && st.st_uid == geteuid()
  }

  /// nil when $BOXWALK_HOME is set (the store reads it); else $XDG_DATA_HOME/boxwalk, else
  /// ~/.local/share/boxwalk, else a directory beside the state root.
  static func rootlessImageHome() -> String? {
    func env(_ name: String) -> String? {
      guard let value = getenv(name), value.pointee != 0 else { return nil }
      return String(cString: value)
    }
    if env("BOXWALK_HOME") != nil { return nil }
    if let data = env("XDG_DATA_HOME") { return data + "/boxwalk" }
    if let home = env("HOME") { return home + "/.local/share/boxwalk" }
    return rootlessStateRoot() + "/images"
  }

  /// The anchor, started on first use: spawn a helper, record it in the ledger, unshare(CLONE_NEWUSER),
  /// then map our own UID and GID to 0 inside, as newuidmap(1) would for a range of one.
  func ensureAnchor(step: Step?) throws(KernelError) -> HelperProcess {
    if let anchor { return anchor }
    let current = step ?? .process(.boxNew(box: "anchor"))
    let session = try ensureSession(step: current)
    let helper: HelperProcess
    do {
      helper = try HelperProcess.spawn(box: "anchor", executable: helperPath, procfs: procfs)
    } catch {
      var failure = spawnError(error, step: .process(.boxNew(box: "anchor")))
      failure.step = step
      failure.detail = "starting the session's user namespace" + (failure.detail.map { ": \($0)" } ?? "")
      throw failure
    }
    let record = Ledger.Record.helper(box: "anchor", pid: helper.pid, startTime: helper.startTime)
    func fail(_ call: String, _ errno: Int32, _ detail: String) -> KernelError {
      helper.kill()
      session.forget { $0 == record }
      return KernelError(step: step, call: call, errno: Errno(rawValue: errno), detail: detail)
    }
    do {
      try session.record(record)
    } catch {
      throw fail(error.call, error.errno, "cannot write the ledger; the session's user namespace was not made")
    }
    let reply: HelperReply
    do {
      reply = try helper.call(.calls([.namespace(.unshare(flags: UInt32(BW_CLONE_NEWUSER)))]))
    } catch {
      throw fail("unshare(CLONE_NEWUSER)", ECONNRESET, "the anchor helper is gone")
    }
    if case .err(let errno, _, _) = reply {
      throw fail(
        "unshare(CLONE_NEWUSER)", errno,
        "unprivileged user namespaces are off here; boxwalk doctor says how to turn them on")
    }
    // The order matters: gid_map can be written by an unprivileged owner only after setgroups(2)
    // is denied in the namespace (user_namespaces(7), "The /proc/[pid]/setgroups file").
    let base = "\(procfs.root)/\(helper.pid)/"
    for (file, text) in [("uid_map", "0 \(geteuid()) 1"), ("setgroups", "deny"), ("gid_map", "0 \(getegid()) 1")] {
      if let errno = Self.writeOnce(base + file, text) {
        throw fail(
          "write(\"/proc/\(helper.pid)/\(file)\")", errno, "mapping our own ID to 0 in the session's user namespace")
      }
    }
    anchor = helper
    return helper
  }

  /// The process that stands for the session's host in /proc: the anchor when the host is the
  /// anchor (RootlessPolicy.hostIsAnchor, started on first use), else this process ("self").
  func hostProcess(step: Step?) throws(KernelError) -> String {
    rootlessPolicy.hostIsAnchor ? String(try ensureAnchor(step: step).pid) : "self"
  }

  /// A new box's helper joins the session's user namespace first, so it is root there and every
  /// namespace it makes afterwards belongs to the session.
  func joinSessionUserNamespace(_ helper: HelperProcess, step: Step) throws(KernelError) {
    let anchor = try ensureAnchor(step: step)
    let path = "\(procfs.root)/\(anchor.pid)/ns/user"
    let join = HelperCall.namespace(.setns(path: Array(path.utf8), nstype: UInt32(BW_CLONE_NEWUSER)))
    let reply = try exchange(helper, .calls([join]), step: step)
    if case .err(let errno, _, let note) = reply {
      // The helper notes a failure of the open(2) before the setns(2) (NamespaceCalls.swift).
      let call = note == nil ? "setns" : "open"
      throw KernelError(
        step: step, call: call + "(\(path), CLONE_NEWUSER)", errno: Errno(rawValue: errno),
        detail: "joining the session's user namespace")
    }
  }
}

extension LinuxKernel {
  /// Whether this process's user may create a user namespace right now: a forked child tries
  /// (sysctls such as user.max_user_namespaces and LSM rules such as AppArmor's
  /// apparmor_restrict_unprivileged_userns all decide, so asking the kernel beats reading them).
  /// nil when it works, else why not.
  public static func userNamespaceUnavailableReason() -> String? {
    switch bw_probe_user_namespace() {
    case 1: return nil
    case 0: return "unshare(CLONE_NEWUSER) fails here: \(Errno(rawValue: errno).name)"
    default: return "fork(2) for the user namespace probe failed: \(Errno(rawValue: errno).name)"
    }
  }
}
