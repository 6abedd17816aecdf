import Kernel

/// `run`, `ps` and `kill`: processes in the box (pid_namespaces(7)).
extension Session {
  func runCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("run")
    var argv = args
    var background = false
    if argv.first == "-d" {
      background = true
      argv.removeFirst()
    }
    guard !argv.isEmpty else { throw usage("run", "run needs a program to run") }
    try refuseUnlessContained(box, command: line)
    try runStep(.process(.run(box: box, argv: argv, background: background)), input: line, into: &out)
  }

  func psCommand(_ args: [String], into out: inout Output) throws {
    guard args.isEmpty || args == ["--host"] else { throw usage("ps", "ps takes only --host") }
    let box = try currentBox("ps")
    try refresh()
    let ownPIDs = !shares(box, .pid)
    let label = tree.value(at: StatePath(keys: box, "ns", "pid"))?.stringValue ?? "?"
    let processes = psEntries(box)
    let dead = pidNamespaceIsDead(box)
    if processes.isEmpty {
      // In a pid namespace whose init died, fork(2) fails with ENOMEM (pid_namespaces(7)) and
      // unshare pid is EINVAL (pid_for_children is no longer the helper's own): run cannot help.
      out.lines.append(
        dead
          ? "no processes in \(box), and none can start there (box new makes a box with a fresh pid namespace)"
          : "no processes in \(box) (run starts one)")
    } else {
      // PPID is the parent as the process sees it (getppid(2)): 0 for a program boxwalk started
      // from outside the box's pid namespace, 1 for an orphan the namespace's init adopted.
      let host = args == ["--host"]
      var rows = [host ? ["PID", "PPID", "HOST PID", "HOST PPID", "COMMAND"] : ["PID", "PPID", "COMMAND"]]
      for p in processes {
        let pid = p.hostPIDNamespace ? "-" : String(p.pid)
        let ppid = p.hostPIDNamespace ? "-" : String(p.ppid)
        rows.append(host ? [pid, ppid, String(p.hostPID), String(p.hostPPID), p.command] : [pid, ppid, p.command])
      }
      out.lines += DiffTable.table(rows)
    }
    if processes.contains(where: \.hostPIDNamespace) {
      out.lines.append("- is a process in the host's pid namespace: its PID is a host PID (ps --host shows it)")
    }
    if !ownPIDs {
      out.lines.append("\(box) shares the host's pid namespace")
    } else if dead {
      out.lines.append("\(label) is dead: its PID 1 exited, so the kernel killed every process in it")
    } else {
      out.lines.append("PIDs as \(box) sees them, in \(label)")
    }
  }

  func killCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("kill", args, 1)
    let box = try currentBox("kill")
    guard let pid = Int(args[0]), pid > 0 else {
      throw LabError(
        "\(quotedForTerminal(args[0])) is not a PID",
        [("rule", "a PID is a positive whole number, as ps shows it"), LabError.unchanged])
    }
    let entries = psEntries(box)
    guard entries.contains(where: { $0.pid == pid }) else {
      // Host PIDs are volatile (docs/transcripts.md, "What is volatile"): name them only by
      // pointing at ps --host.
      let own = entries.filter { !$0.hostPIDNamespace }.map { String($0.pid) }
      let listed = own + (entries.contains { $0.hostPIDNamespace } ? ["(host PIDs: ps --host)"] : [])
      throw LabError(
        "\(box) has no process with PID \(pid)",
        [
          ("processes", listed.isEmpty ? "none" : listed.joined(separator: " ")),
          ("rule", "kill acts only on the box's own processes, by the PID ps shows"), LabError.unchanged,
        ])
    }
    try runStep(.process(.kill(box: box, pid: pid)), input: line, into: &out)
  }

  /// The box's processes from the kernel's facts (PIDs as the box sees them; for a process in the
  /// host's pid namespace that is its host PID).
  func psEntries(_ box: String) -> [(
    pid: Int, ppid: Int, hostPID: Int, hostPPID: Int, command: String, hostPIDNamespace: Bool
  )] {
    (facts.box(box)?.process.processes ?? []).map {
      ($0.pid, $0.ppid, $0.hostPID, $0.hostPPID, $0.command, $0.inHostPIDNamespace)
    }
  }

  /// A program a box runs is the learner's own code, as root: boxwalk starts one only where it
  /// cannot reach the host through what the box still shares (docs/security.md, "Programs in a
  /// box"). That takes three things:
  /// - a root filesystem entered with pivot_root(2): before it the program sees the host's files
  ///   and can change them; chroot(2) is no boundary, since a root process can climb out of it
  ///   (chroot into a subdirectory, then chdir("..") past the old root);
  /// - a pid namespace of its own: in the host's, it could signal the host's processes, and what
  ///   it leaves in the background would outlive the box; in its own, every process dies with the
  ///   namespace's PID 1 (pid_namespaces(7)), and PID 1 dies with the box;
  /// - an IPC namespace of its own: System V and POSIX IPC objects outlive their creator, and in
  ///   the host's namespace they would be the host's (ipc_namespaces(7)).
  /// Hostname and network changes need CAP_SYS_ADMIN and CAP_NET_ADMIN, which box programs do not
  /// get (the helper drops them from the bounding set, as Docker's default set does).
  func refuseUnlessContained(_ box: String, command: String) throws {
    guard let process = facts.box(box)?.process else { return }
    var missing: [String] = []
    var kinds: [NamespaceKind] = []
    var rootSteps: [String] = []
    switch process.root {
    case .pivoted: break
    case .chrooted:
      missing.append("a root it cannot leave: chroot is no boundary, a root process climbs out of it")
    case .prepared:
      missing.append("its root filesystem entered: it still sees the host's files")
      rootSteps = ["pivot-root"]
    case .host:
      missing.append("a root filesystem of its own: it sees the host's files")
      if shares(box, .mnt) { kinds.append(.mnt) }
      rootSteps = ["rootfs busybox", "pivot-root"]
    }
    if shares(box, .pid) {
      missing.append("a pid namespace of its own: it could signal the host's processes and outlive the box")
      kinds.append(.pid)
    }
    if shares(box, .ipc) {
      missing.append("an IPC namespace of its own: its IPC objects would be the host's")
      kinds.append(.ipc)
    }
    guard !missing.isEmpty else { return }
    let fix: String
    if case .chrooted = process.root {
      fix = "box new with another name, then unshare mnt,pid,ipc; rootfs busybox; pivot-root"
    } else {
      fix = ((kinds.isEmpty ? [] : ["unshare " + kinds.map(\.rawValue).joined(separator: ",")]) + rootSteps)
        .joined(separator: "; ")
    }
    var details: [(String, String)] = [("command", escapedForTerminal(command))]
    details += missing.map { ("missing", $0) }
    details += [
      (
        "rule",
        "a box runs programs only as a container: pivot-root into its own root, with pid and IPC namespaces of its own"
      ),
      ("fix", fix), LabError.unchanged,
    ]
    throw LabError("refused: \(box) is not a container yet, so a program run there could change the host", details)
  }

  /// Whether the box is still in the host's namespace of this kind: the kernel's facts, by
  /// inode (the tree labels each inode once, so its labels say the same). A box the facts do not
  /// have shares nothing, unless the host lacks the kind too.
  func shares(_ box: String, _ kind: NamespaceKind) -> Bool {
    facts.box(box)?.process.namespaces[kind] == facts.host.namespaces[kind]
  }

  /// Whether the box has a pid namespace of its own whose PID 1 died: no process can enter it
  /// again (pid_namespaces(7)).
  func pidNamespaceIsDead(_ box: String) -> Bool {
    !shares(box, .pid) && facts.box(box)?.process.pidNamespaceAlive == false
  }
}
