import Kernel

/// Processes: fork and exec with `run`, kill, and the life and death of pid namespaces
/// (pid_namespaces(7)).
extension SimulatedKernel {
  /// `run`: the box forks a child that execs the program. In a new pid namespace the first child
  /// is PID 1; when PID 1 exits, the kernel kills every other process in the namespace and no new
  /// process can enter it (fork fails with ENOMEM).
  func run(_ i: Int, _ argv: [String], background: Bool, _ step: Step) throws(KernelError) -> StepResult {
    let box = boxes[i]
    // The program is looked up before forking (as boxwalk-helper does), so a missing one costs
    // no PID.
    guard let first = argv.first, SimPrograms.resolve(first) != nil else {
      throw KernelError(step: step, call: step.calls[1], errno: .ENOENT)
    }
    guard let pidInode = box.process.ns[.pid], var pidNS = namespaces[pidInode] else {
      throw missing(step, box.name)
    }
    guard pidNS.alive else { throw KernelError(step: step, call: step.calls[0], errno: .ENOMEM) }
    let hostPID = allocatePID()
    let pid: Int
    if pidInode == host.activePID {
      pid = hostPID
    } else {
      pid = pidNS.nextPID
      pidNS.nextPID += 1
      pidNS.populated = true
      namespaces[pidInode] = pidNS
    }
    let task = SimTask(
      box: box.name, pid: pid, hostPID: hostPID, argv: argv, pidNamespace: pidInode, inCgroup: cgroups[box.name] != nil)
    tasks.append(task)
    let hostname = box.process.ns[.uts].flatMap { namespaces[$0]?.hostname } ?? ""
    let user = box.process.ns[.user]
    var context = SimPrograms.Context(
      pid: pid, hostname: hostname, procPIDs: procPIDs(box.process),
      uid: insideID(ofHost: box.process.hostUID, .uid, in: user), gid: insideID(ofHost: box.process.hostGID, .gid, in: user),
      fileUID: insideID(ofHost: 0, .uid, in: user), fileGID: insideID(ofHost: 0, .gid, in: user))
    if case .rootfs(let id) = box.process.root.seen, let fs = filesystems[id] {
      let layers = [fs.upper] + lowerContents(fs)
      context.readFile = { path in
        guard BoxPath.problem(path) == nil, case .file(let bytes)? = Overlay.lookup(path, in: layers)?.entry.kind else { return nil }
        return bytes
      }
    }
    let outcome = SimPrograms.run(argv, context)
    if background && outcome.keepsRunning {
      return StepResult(boxPID: pid)
    }
    exitTask(task)
    return background
      ? StepResult(boxPID: pid)
      : StepResult(output: outcome.output, exit: .exited(outcome.status), boxPID: pid)
  }

  /// kill(2) with SIGKILL, by the PID the box sees.
  func kill(_ i: Int, _ pid: Int, _ step: Step) throws(KernelError) {
    let name = boxes[i].name
    guard let task = tasks.first(where: { $0.box == name && $0.pid == pid }) else {
      throw KernelError(step: step, call: step.calls[0], errno: .ESRCH)
    }
    exitTask(task)
  }

  /// A process ends. If it was PID 1 of its namespace, the namespace dies with everything in it.
  func exitTask(_ task: SimTask) {
    tasks.removeAll { $0.hostPID == task.hostPID }
    if task.pid == 1, task.pidNamespace != host.activePID {
      namespaces[task.pidNamespace]?.alive = false
      killTasks { $0.pidNamespace == task.pidNamespace }
    }
  }

  /// Kills tasks; a PID 1 among them takes its namespace down.
  func killTasks(where predicate: (SimTask) -> Bool) {
    let doomed = tasks.filter(predicate)
    tasks.removeAll(where: predicate)
    for t in doomed where t.pid == 1 && t.pidNamespace != host.activePID {
      namespaces[t.pidNamespace]?.alive = false
      tasks.removeAll { $0.pidNamespace == t.pidNamespace }
    }
  }

  /// The PIDs `ls /proc` would show a box process: those of the pid namespace of the proc
  /// mounted at /proc in what the box sees as its root, when that is not the host's.
  func procPIDs(_ p: SimProcess) -> [Int]? {
    guard p.ns[.mnt] != host.ns[.mnt], let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return nil }
    guard let proc = mnt.mounts.last(where: { $0.root == p.root.seen && $0.path == "/proc" }),
      case .proc = proc.request, let pidNS = proc.pidNamespace, pidNS != host.activePID
    else { return nil }
    return tasks.filter { $0.pidNamespace == pidNS }.map(\.pid)
  }
}
