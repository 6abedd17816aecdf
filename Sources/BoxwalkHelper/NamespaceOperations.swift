import CShim
import Glibc
import HelperWire

/// The system calls behind each request, made by this single-threaded process on itself.
struct NamespaceOperations {
  /// The pid of boxwalk, which spawned us. If getppid() ever differs, boxwalk is gone.
  let parent: pid_t
  /// Started by an unprivileged boxwalk (the rootless backend): then we must stay dumpable.
  /// Read once at start, because after joining the session's user namespace geteuid() says 0.
  let rootless: Bool

  init(parent: pid_t) {
    self.parent = parent
    self.rootless = geteuid() != 0
  }

  func perform(_ request: HelperRequest, box: BoxOperations, channel: Channel) -> HelperReply {
    box.reapExited()
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    switch request {
    case .facts(let candidates): return box.facts(candidates: candidates.map(text))
    case .mount(let kind, let root, let source, let target):
      return box.mount(kind: kind, root: text(root), source: source, target: target)
    case .umount(let root, let path): return box.umount(root: text(root), path: path)
    case .propagation(let flag): return box.propagation(flag)
    case .pivot(let rootfs): return box.pivot(text(rootfs))
    case .chroot(let rootfs): return box.chroot(text(rootfs))
    case .ipcnew(let kind, let key): return box.ipcNew(kind: kind, key: key)
    case .mqnew(let name): return BoxOperations.mqNew(text(name))
    case .stress(let kind, let arg): return box.stress(kind: kind, arg: arg)
    case .setid(let kind, let id):
      // After the map: become the inside ID, as a container runtime's init does. Capabilities
      // survive: the new IDs are the namespace's root (capabilities(7), "Effect of user ID changes").
      let rc = kind == .uid ? bw_setresuid(id) : bw_setresgid(id)
      guard rc == 0 else { return .err(errno: errno, call: kind == .uid ? .setresuid : .setresgid, note: nil) }
      rearm()
      return .done
    case .netdump(let pids): return NetOperations.dump(pids: pids)
    case .ifindex(let name): return NetOperations.index(of: name)
    case .overlay(let target, let upper, let work, let lowers):
      return box.overlay(target: text(target), upper: text(upper), work: text(work), lowers: lowers.map(text))
    case .unshare(let flags):
      let flags = Int32(bitPattern: flags)
      let reply =
        flags & Int32(BW_CLONE_NEWCGROUP) != 0
        ? box.cgroups.insideBoxCgroup { unshare(flags, anchors: box.anchors) } : unshare(flags, anchors: box.anchors)
      // Sockets stay in the network namespace they were made in (network_namespaces(7)), and
      // would keep it alive: the listeners belong to the namespace just left, so they close.
      if case .ok = reply, flags & Int32(BW_CLONE_NEWNET) != 0 { Responder.closeAll() }
      // A mount namespace of its own: take the host's device nodes for `mount dev` now, while
      // "/dev" is still the host's and nothing of the box is mounted (DevOperations.swift).
      if case .ok = reply, flags & Int32(BW_CLONE_NEWNS) != 0 { box.takeDeviceHandles() }
      return reply
    case .unshareKeepingPropagation(let flags):
      // Only a new mount namespace, and no make-private after it: the copy's shared mounts stay
      // peers of the ones they were copied from (mount_namespaces(7), "Shared subtrees").
      let flags = Int32(bitPattern: flags)
      guard flags == Int32(BW_CLONE_NEWNS) else {
        return .err(errno: EINVAL, call: .unshare, note: "unshare-keep makes a mount namespace only")
      }
      return unshare(flags, anchors: box.anchors, makePrivate: false)
    case .anchor(let paths, let sources): return box.anchors.set(paths: paths, sources: sources)
    case .cgroup(let boxFiles, let home): return box.cgroups.enter(box: boxFiles, home: home)
    case .setns(let path, let nstype):
      let reply = setns(path: path, nstype: Int32(bitPattern: nstype))
      if case .ok = reply, Int32(bitPattern: nstype) == Int32(BW_CLONE_NEWNET) { Responder.closeAll() }
      if case .ok = reply, Int32(bitPattern: nstype) == Int32(BW_CLONE_NEWNS) { box.takeDeviceHandles() }
      return reply
    case .calls(let calls): return Calls.make(calls, namespaces: self, box: box, channel: channel)
    }
  }

  /// Arm the kernel's safety catches again. The kernel clears PR_SET_PDEATHSIG and resets
  /// "dumpable" when a process's credentials change (prctl(2)), which joining or creating a user
  /// namespace can do; runc restores the death signal for the same reason.
  func rearm() {
    _ = bw_set_pdeathsig(SIGKILL)
    // Non-dumpable: no core file, and no other user can ptrace(2) us or read our /proc files.
    // Not in the rootless backend: boxwalk there is an ordinary user without CAP_SYS_PTRACE, and
    // the kernel lets a caller read /proc/PID/ns/* and /proc/PID/mountinfo of a non-dumpable
    // process only with CAP_SYS_PTRACE in the user namespace that owns the process's memory
    // (ptrace(2), "Ptrace access mode checking"): for us that is the machine's, where boxwalk has
    // none. Dumpable changes little there: we run as the same user as boxwalk, who could ptrace
    // boxwalk itself. Joining a user namespace resets the flag (the capabilities change), so it
    // is set again here, after every such step.
    _ = bw_set_dumpable(rootless ? 1 : 0)
    // If boxwalk died while the death signal was cleared, nobody will ever talk to us again.
    if getppid() != parent { exit(0) }
  }

  /// unshare(2), then for a new mount namespace make "/" private before anything can be mounted
  /// (mount_namespaces(7): on a systemd host "/" is shared, and a mount in the box would appear on
  /// the host). If that fails, go back to the namespaces we left, so the step changes nothing.
  /// The helper's anchors move into the new namespace with it (Anchors.swift).
  private func unshare(_ flags: Int32, anchors: Anchors, makePrivate: Bool = true) -> HelperReply {
    let newMount = flags & Int32(BW_CLONE_NEWNS) != 0
    // Only needed to undo a failed make-private: handles on the namespaces we are about to leave.
    let previous = newMount ? Self.openOwnNamespaces(flags) : []
    defer { for (fd, _, _) in previous { close(fd) } }

    let carry = newMount ? anchors.prepareCarry() : nil
    guard bw_unshare(flags) == 0 else {
      let failure = errno
      if let carry { _ = anchors.finishCarry(carry, unshared: false) }
      return .err(errno: failure, call: .unshare, note: nil)
    }
    defer { rearm() }
    // The anchors first: until then the helper's root may be the store's copy (Anchors.swift).
    let carried = carry.map { anchors.finishCarry($0, unshared: true) } ?? true
    if newMount && (!carried || (makePrivate && bw_mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) != 0)) {
      let failure = carried ? errno : EPERM
      var stuck: [String] = []
      for (fd, nstype, name) in previous where bw_setns(fd, nstype) != 0 { stuck.append(name) }
      if flags & Int32(BW_CLONE_NEWUSER) != 0 { stuck.append("user") }  // no way back to a parent user namespace
      let note =
        stuck.isEmpty
        ? "the helper went back to its previous namespaces"
        : "still in new namespace(s): " + stuck.joined(separator: ",")
      return .err(errno: failure, call: .mount, note: note)
    }
    return .done
  }

  /// open(2) /proc/self/ns/ENTRY for each kind in `flags` (but user: setns(2) cannot go back to a
  /// parent user namespace), as (fd, CLONE_NEW* flag, name).
  private static func openOwnNamespaces(_ flags: Int32) -> [(Int32, Int32, String)] {
    let kinds: [(Int32, String)] = [
      (Int32(BW_CLONE_NEWNS), "mnt"), (Int32(BW_CLONE_NEWUTS), "uts"), (Int32(BW_CLONE_NEWIPC), "ipc"),
      (Int32(BW_CLONE_NEWNET), "net"), (Int32(BW_CLONE_NEWCGROUP), "cgroup"),
      (Int32(BW_CLONE_NEWPID), "pid_for_children"), (Int32(BW_CLONE_NEWTIME), "time_for_children"),
    ]
    return kinds.compactMap { flag, entry in
      guard flags & flag != 0 else { return nil }
      let fd = open("/proc/self/ns/" + entry, O_RDONLY | O_CLOEXEC)
      return fd >= 0 ? (fd, flag, entry) : nil
    }
  }

  /// open(2) the namespace file, then setns(2) into it: the way nsenter(1) joins a namespace.
  ///
  /// A path under /proc/ is looked up in the host's proc, the one this process saw when it
  /// started (`hostProc`), not in whatever its own root and mount namespace show now: a box that
  /// mounted a proc of its own pid namespace on /proc, chrooted or pivoted into its root
  /// filesystem has no /proc/<host pid> there, and the kernel's rule for setns(2) does not depend
  /// on the caller's root (the permission check, ptrace access to the target, is made by this
  /// open either way).
  private func setns(path: [UInt8], nstype: Int32) -> HelperReply {
    guard !path.contains(0) else { return .err(errno: EINVAL, call: .open, note: "path contains a NUL byte") }
    let prefix = Array("/proc/".utf8)
    let fd: Int32
    if hostProc >= 0, path.starts(with: prefix) {
      fd = Self.withCString(Array(path.dropFirst(prefix.count))) { cPath, _ in
        openat(hostProc, cPath, O_RDONLY | O_CLOEXEC)
      }
    } else {
      fd = Self.withCString(path) { cPath, _ in open(cPath, O_RDONLY | O_CLOEXEC) }
    }
    guard fd >= 0 else { return .err(errno: errno, call: .open, note: nil) }
    defer { close(fd) }
    guard bw_setns(fd, nstype) == 0 else { return .err(errno: errno, call: .setns, note: nil) }
    rearm()
    return .done
  }

  /// Call `body` with `bytes` as a NUL-terminated C string and the count of bytes before the NUL.
  static func withCString(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> Int32) -> Int32 {
    (bytes + [0]).withUnsafeBytes { raw in
      guard let base = raw.bindMemory(to: CChar.self).baseAddress else { return -1 }
      return body(base, bytes.count)
    }
  }
}
