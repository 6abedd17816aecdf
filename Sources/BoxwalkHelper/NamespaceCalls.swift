import CShim
import Glibc
import HelperWire

/// The namespace area's plan entries, made by the helper on itself (Calls.swift).
extension NamespaceOperations {
  func make(_ call: NamespaceCall, _ state: inout CallState, box: BoxOperations) -> Calls.Outcome {
    switch call {
    case .unshare(let flags):
      let flags = Int32(bitPattern: flags)
      // unshare(CLONE_NEWCGROUP) roots the new cgroup namespace at the caller's current cgroup
      // (cgroup_namespaces(7)): the helper makes it from inside the box's (CgroupOperations).
      return flags & Int32(BW_CLONE_NEWCGROUP) != 0
        ? box.cgroups.insideBoxCgroup { unshare(flags, &state, box: box) } : unshare(flags, &state, box: box)
    case .makeRootPrivate:
      // A new mount namespace is a copy, and on a systemd host "/" is shared: every copied mount
      // is a peer of the one it was copied from, and a mount in the box would appear on the host
      // (mount_namespaces(7), "Shared subtrees"). MS_REC|MS_PRIVATE on "/" cuts every copy off
      // before anything can be mounted. If it fails, the unshare's undoer takes the helper back.
      let rc = bw_mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil)
      return rc == 0 ? .made() : .failed(errno: errno)
    case .setns(let path, let nstype):
      let nstype = Int32(bitPattern: nstype)
      let outcome = setns(path: path, nstype: nstype)
      guard case .made = outcome else { return outcome }
      // Sockets stay in the namespace they were made in: the listeners belong to the one left.
      if nstype == Int32(BW_CLONE_NEWNET) { Responder.closeAll() }
      if nstype == Int32(BW_CLONE_NEWNS) { box.takeDeviceHandles() }
      return outcome
    case .sethostname(let name):
      // sethostname(2) changes the name kept in the caller's UTS namespace: every process in it
      // sees the new one (uts_namespaces(7)).
      let rc = Self.withCString(name) { bw_sethostname($0, $1) }
      return rc == 0 ? .made() : .failed(errno: errno)
    case .setdomainname(let name):
      let rc = Self.withCString(name) { bw_setdomainname($0, $1) }
      return rc == 0 ? .made() : .failed(errno: errno)
    case .sysvGet(let kind, let key):
      // The object belongs to the helper's IPC namespace (ipc_namespaces(7)); IPC_EXCL makes a
      // key already taken there EEXIST (msgget(2)).
      // bw_ipc_create numbers the kinds in this order: mq 0, shm 1, sem 2.
      let k = HelperRequest.IPCKind.allCases.firstIndex(of: kind) ?? 0
      let id = bw_ipc_create(Int32(k), key)
      return id >= 0 ? .made(IPCCreated(id: id).fields) : .failed(errno: errno)
    case .mqOpen(let name):
      // The queue is a file of the IPC namespace's mqueue file system (mq_overview(7)); its inode
      // tells it apart from a later queue of the same name (for cleanup).
      var inode: UInt64 = 0
      let created = bw_mq_create(
        String(decoding: name, as: UTF8.self), BoxOperations.mqMaxMessages, BoxOperations.mqMessageSize, &inode)
      return created == 0 ? .made(QueueCreated(inode: inode).fields) : .failed(errno: errno)
    case .becomeRoot(let kind):
      // After the map: become the inside ID 0, as a container runtime's init does. Capabilities
      // survive: the new IDs are the namespace's root (capabilities(7), "Effect of user ID
      // changes"). The credentials changed, so the safety catches are armed again.
      let rc = kind == .uid ? bw_setresuid(0) : bw_setresgid(0)
      guard rc == 0 else { return .failed(errno: errno) }
      rearm()
      return .made()
    }
  }

  /// unshare(2). For a new mount namespace the helper's anchors move with it (Anchors.swift),
  /// its handles of the host's device nodes are taken while "/dev" is still the host's
  /// (DevOperations.swift), and an undoer is kept: if a later entry of the step fails (the
  /// make-private), the helper goes back into the namespaces it left, so the step changes
  /// nothing but what the kernel cannot undo (a user namespace has no way back to its parent).
  private func unshare(_ flags: Int32, _ state: inout CallState, box: BoxOperations) -> Calls.Outcome {
    let newMount = flags & Int32(BW_CLONE_NEWNS) != 0
    // Only needed to undo: handles on the namespaces we are about to leave.
    let previous = newMount ? Self.openOwnNamespaces(flags) : []
    for (fd, _, name) in previous { state.keep(fd, as: "previous " + name) }
    let carry = newMount ? box.anchors.prepareCarry() : nil
    guard bw_unshare(flags) == 0 else {
      let failure = errno
      if let carry { _ = box.anchors.finishCarry(carry, unshared: false) }
      return .failed(errno: failure)
    }
    defer { rearm() }
    let goBack: () -> String? = {
      var stuck: [String] = []
      for (fd, nstype, name) in previous where bw_setns(fd, nstype) != 0 { stuck.append(name) }
      if flags & Int32(BW_CLONE_NEWUSER) != 0 { stuck.append("user") }  // no way back to a parent user namespace
      self.rearm()
      return stuck.isEmpty
        ? "the helper went back to its previous namespaces"
        : "still in new namespace(s): " + stuck.joined(separator: ",")
    }
    // The anchors first: until then the helper's root may be the store's copy (Anchors.swift).
    if let carry, !box.anchors.finishCarry(carry, unshared: true) {
      return .failed(errno: EPERM, note: goBack())
    }
    // Sockets stay in the network namespace they were made in (network_namespaces(7)), and
    // would keep it alive: the listeners belong to the namespace just left, so they close.
    if flags & Int32(BW_CLONE_NEWNET) != 0 { Responder.closeAll() }
    if newMount {
      box.takeDeviceHandles()
      state.undoers.append(goBack)
    }
    return .made()
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
  /// open either way). The open is no entry of the plan: its failure is the setns entry's, with
  /// a note saying it was the open.
  private func setns(path: [UInt8], nstype: Int32) -> Calls.Outcome {
    let openFailed = "open(2) of the namespace file failed"
    guard !path.contains(0) else { return .failed(errno: EINVAL, note: "path contains a NUL byte") }
    let prefix = Array("/proc/".utf8)
    let fd: Int32
    if hostProc >= 0, path.starts(with: prefix) {
      fd = Self.withCString(Array(path.dropFirst(prefix.count))) { cPath, _ in
        openat(hostProc, cPath, O_RDONLY | O_CLOEXEC)
      }
    } else {
      fd = Self.withCString(path) { cPath, _ in open(cPath, O_RDONLY | O_CLOEXEC) }
    }
    guard fd >= 0 else { return .failed(errno: errno, note: openFailed) }
    defer { close(fd) }
    guard bw_setns(fd, nstype) == 0 else { return .failed(errno: errno) }
    rearm()
    return .made()
  }
}
