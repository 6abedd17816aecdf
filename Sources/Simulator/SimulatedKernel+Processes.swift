import Kernel

/// Processes: fork and exec with `run`, kill, and the life and death of pid namespaces
/// (pid_namespaces(7)).
extension SimulatedKernel {
  /// The process steps (`step` is `.process(s)`, for errors).
  func performProcess(_ s: ProcessStep, _ step: Step) throws(KernelError) -> StepResult {
    if case .boxNew(let name) = s {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .fork:
          // fork(2): the child starts in every namespace of its parent.
          boxes.append(
            SimBox(name: name, process: SimProcess(hostPID: allocatePID(), ns: host.ns, activePID: host.activePID)))
        case .prctlDeathSignal, .execve:
          // The death signal and the helper's program change nothing the model keeps.
          return
        default:
          throw unmodeled(entry, step)
        }
      }
      return .none
    }
    let i = try boxIndex(step)
    switch s {
    case .boxNew: break
    case .boxRemove:
      try make(step) { entry throws(KernelError) in
        switch entry {
        // SIGKILL: the helper and every process of the box die; namespaces nobody else holds go
        // with them (what removeBox collects is bookkeeping of that one kill).
        case .kill: removeBox(i)
        // Reaping the helper changes nothing the model keeps.
        case .waitpid: return
        default: throw unmodeled(entry, step)
        }
      }
    case .run(_, let argv, let background): return try run(i, argv, background: background, step)
    case .kill(_, let pid):
      try make(step) { entry throws(KernelError) in
        guard case .kill = entry else { throw unmodeled(entry, step) }
        try kill(i, pid, step)
      }
    }
    return .none
  }

  /// `run`: the box's helper forks a child that execs the program, and in the foreground waits
  /// for it (wait4(2)). The model runs the program whole when it forks (its outcome decides what
  /// the child does); the execvp entry fails for a program that is not there, and the wait4
  /// entry ends the program. A program the simulator does not run changes nothing at all.
  func run(_ i: Int, _ argv: [String], background: Bool, _ step: Step) throws(KernelError) -> StepResult {
    var result = StepResult.none
    var forked: Forked?
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .fork:
        forked = try forkProgram(i, argv, step)
        if case .notSimulated(let line) = forked { result = StepResult(notSimulated: line) }
      case .execvp:
        // The helper looked the program up before forking (as execvp(3) searches PATH): a
        // missing one costs no PID, and its exec fails here.
        if case .missing = forked { throw KernelError(step: step, call: entry, errno: .ENOENT) }
        guard background, case .child(let task, let outcome) = forked else { return }
        // In the background the program runs on; one that ends at once has ended by the time
        // the helper answers (it waits for it to settle).
        if !outcome.keepsRunning { exitTask(task) }
        result = StepResult(boxPID: task.pid)
      case .wait4Child:
        guard case .child(let task, let outcome) = forked else { return }
        exitTask(task)
        result = StepResult(output: outcome.output, exit: .exited(outcome.status), boxPID: task.pid)
      default:
        throw unmodeled(entry, step)
      }
    }
    return result
  }

  /// What `run`'s fork entry came to.
  enum Forked {
    /// The program is not in PATH: nothing was forked.
    case missing
    /// The simulator does not run this program: nothing changes.
    case notSimulated(String)
    /// The child, with the outcome of the program it runs.
    case child(SimTask, SimPrograms.Outcome)
  }

  /// `run`'s fork: in a new pid namespace the first child is PID 1; when PID 1 exits, the kernel
  /// kills every other process in the namespace and no new process can enter it (fork fails
  /// with ENOMEM).
  func forkProgram(_ i: Int, _ argv: [String], _ step: Step) throws(KernelError) -> Forked {
    let box = boxes[i]
    guard let pidInode = box.process.ns[.pid], var pidNS = namespaces[pidInode] else {
      throw missing(step, box.name)
    }
    var context = programContext(box)
    // The program is looked up before forking (as boxwalk-helper does), so a missing one costs
    // no PID; one the simulator does not run changes nothing at all.
    guard let first = argv.first else { return .missing }
    switch SimPrograms.resolve(first, context) {
    case .missing: return .missing
    case .notSimulated(let line):
      // `busybox APPLET` runs the applet; anything else not modelled changes nothing.
      guard let byName = SimPrograms.busyboxByName(argv, context), byName.notSimulated == nil else {
        return .notSimulated(line)
      }
    case .modelled: break
    }
    guard pidNS.alive else { throw KernelError(step: step, call: step.entry(.fork), errno: .ENOMEM) }
    try chargeFork(box, pidInode, pidNS, step)
    // The PID the child will get, so the program can be run (and found unmodelled) before
    // anything changes.
    let ownPIDs = pidInode != host.activePID
    context.pid = ownPIDs ? pidNS.nextPID : nextPID
    if ownPIDs, let mounted = procPIDNamespace(box.process), mounted == pidInode {
      context.procPIDs = (context.procPIDs ?? []) + [context.pid]
      context.procTasks = tasks.filter { $0.pidNamespace == pidInode }.map { ($0.pid, $0.argv) }
    }
    if let cg = cgroups[box.name], case .value(let max) = cg.pidsMax {
      context.forksLeft = Int(max) - cgroupTaskCount(box.name) - 1
    }
    let outcome = SimPrograms.run(argv, context)
    if let line = outcome.notSimulated { return .notSimulated(line) }
    if outcome.forksRefused > 0 { cgroups[box.name]?.pidsRefused += UInt64(outcome.forksRefused) }
    let hostPID = allocatePID()
    enterTimeNamespace(box.process)
    let pid: Int
    if ownPIDs {
      pid = pidNS.nextPID
      // A shell's children took the PIDs after its own, one per fork.
      pidNS.nextPID += 1 + outcome.forks
      pidNS.populated = true
      namespaces[pidInode] = pidNS
    } else {
      pid = hostPID
    }
    // Each child the shell forked took a host PID too, in order.
    let forkHostPIDs = (0..<outcome.forks).map { _ in allocatePID() }
    // A shell whose last command replaced it (execve(2)) shows that command's line from then on.
    let task = SimTask(
      box: box.name, pid: pid, hostPID: hostPID, argv: outcome.execArgv ?? argv, pidNamespace: pidInode,
      parent: box.process.hostPID, inCgroup: cgroups[box.name] != nil)
    tasks.append(task)
    startJobs(outcome.backgroundJobs, of: task, box, ownPIDs: ownPIDs, forkHostPIDs: forkHostPIDs)
    if ownPIDs, outcome.forks > 0 { namespaces[pidInode]?.nextPID = pid + outcome.forks + 1 }
    return .child(task, outcome)
  }

  /// The pids controller charges every process to the box's cgroup: once pids.current (the box's
  /// programs; the helper stays outside) has reached pids.max, the new process is refused with
  /// EAGAIN and the kernel counts the refusal in pids.events' max (Documentation/admin-guide/
  /// cgroup-v2.rst, PID). On the kernel the helper's child joins the cgroup, finds it past the
  /// limit and lets a fork there fail, so the outcome is that of a refused fork.
  func chargeFork(_ box: SimBox, _ pidInode: UInt64, _ pidNS: SimNamespace, _ step: Step) throws(KernelError) {
    if var cg = cgroups[box.name], case .value(let max) = cg.pidsMax, UInt64(cgroupTaskCount(box.name)) >= max {
      cg.pidsRefused += 1
      cgroups[box.name] = cg
      // The child of a fork into a new pid namespace had already been given PID 1 when the pids
      // controller refused it: freeing the namespace's first PID after a failed fork marks the
      // namespace as one that can never hold a process again (free_pid in kernel/pid.c), so
      // every later fork into it fails with ENOMEM.
      if pidInode != host.activePID, !pidNS.populated { namespaces[pidInode]?.alive = false }
      throw KernelError(step: step, call: step.entry(.fork), errno: .EAGAIN)
    }
  }

  /// Jobs the shell left running in the background: its children, with the PIDs after its own
  /// (the host PIDs its forks took, in order). When the shell exits they are orphans, and the
  /// kernel gives them to PID 1 of the namespace (or, if the shell was PID 1, kills them with
  /// it). Each holds the /dev/null its stdin points at open, when /dev/null is a device node
  /// the box mounted.
  func startJobs(
    _ jobs: [(pidOffset: Int, argv: [String], parentOffset: Int)], of task: SimTask, _ box: SimBox, ownPIDs: Bool,
    forkHostPIDs: [Int]
  ) {
    let seen = box.process.root.seen
    let mntInode = box.process.ns[.mnt]
    var devNull: (mnt: UInt64, root: SimRoot, path: String)?
    if let mntInode, let mnt = namespaces[mntInode], let m = deepestMount(covering: "/dev/null", in: seen, mnt),
      case .device = m.request
    {
      devNull = (mntInode, seen, m.path)
    }
    for job in jobs {
      let fork = job.pidOffset - 1
      let jobHostPID = forkHostPIDs.indices.contains(fork) ? forkHostPIDs[fork] : allocatePID()
      var jobTask = SimTask(
        box: box.name, pid: ownPIDs ? task.pid + job.pidOffset : jobHostPID, hostPID: jobHostPID, argv: job.argv,
        pidNamespace: task.pidNamespace, parent: task.hostPID, inCgroup: task.inCgroup)
      jobTask.openDevice = devNull
      // A job whose shell was one the run's shell forked is an orphan already: that shell
      // exited when its command was done, and the kernel gave the job a new parent then.
      if job.parentOffset != 0 { jobTask.parent = reaper(of: jobTask) }
      tasks.append(jobTask)
    }
  }

  /// What a program started in the box sees: its names and IDs, and the box's root filesystem
  /// once the box has entered it (before that, the host's files, which the simulator cannot see).
  func programContext(_ box: SimBox) -> SimPrograms.Context {
    let user = box.process.ns[.user]
    let hostname = box.process.ns[.uts].flatMap { namespaces[$0]?.hostname } ?? ""
    var context = SimPrograms.Context(
      pid: 0, hostname: hostname, machine: machine, procPIDs: procPIDs(box.process),
      uid: insideID(ofHost: box.process.hostUID, .uid, in: user),
      gid: insideID(ofHost: box.process.hostGID, .gid, in: user),
      fileUID: insideID(ofHost: 0, .uid, in: user), fileGID: insideID(ofHost: 0, .gid, in: user))
    guard case .rootfs(let id) = box.process.root.seen, let fs = filesystems[id] else { return context }
    context.installedApplets = busyboxApplets
    let layers = [fs.upper] + lowerContents(fs)
    let seen = box.process.root.seen
    let mnt = box.process.ns[.mnt].flatMap { namespaces[$0] }
    let visible = (mnt?.mounts ?? []).filter { $0.root == seen }
    // What the box mounted decides what a path shows before the layers do: a container's /dev
    // (`mount dev`) is a tmpfs of its own, with the host's nodes bound onto some of its files.
    var tops: [String: SimMount] = [:]
    for m in visible { tops[m.path] = m }
    func covering(_ path: String) -> SimMount? {
      var best: SimMount?
      for (p, m) in tops where p == path || path.hasPrefix(p == "/" ? "/" : p + "/") {
        if best.map({ p.count > $0.path.count }) ?? true { best = m }
      }
      return best
    }
    // A tmpfs or a bind mount hides what lies beneath it: the path is walked mount by mount
    // (SimulatedKernel+MountedFiles.swift), so `run ls /etc` under a tmpfs lists the tmpfs, and
    // a program under a tmpfs over /bin is not found.
    let process = box.process
    var files = SimPrograms.Files(
      lookup: { path in
        switch covering(path)?.request {
        case .dev(let dev)?: return Self.containerDevEntry(path, in: dev)
        case .device?: return .special("char device")
        case .tmpfs?, .bind?: return self.entry(at: path, process)
        default: return Overlay.lookup(path, in: layers)?.entry.kind
        }
      },
      list: { path in
        switch covering(path)?.request {
        case .dev(let dev)?: return Self.containerDevList(path, in: dev)
        case .device?: return nil
        case .tmpfs?, .bind?:
          guard self.entry(at: path, process)?.isDirectory == true else { return nil }
          return self.names(in: path, process)?.map(\.name)
        default: return Overlay.list(path, in: layers)?.map(\.name)
        }
      })
    if visible.last(where: { $0.path == "/proc" }).map({ if case .proc = $0.request { true } else { false } }) == true {
      // /proc/mounts: what this mount namespace has under the box's root, oldest first. The
      // kernel names mounts made with fsopen(2) "none".
      var mounts: [(source: String, target: String, fstype: String, options: String?)] = []
      if !visible.contains(where: { $0.path == "/" }) { mounts.append(("none", "/", "overlay", nil)) }
      for m in visible {
        switch m.request {
        case _ where m.path == "/" && m.request.fstype == "overlay": mounts.append(("none", "/", "overlay", nil))
        case .proc: mounts.append(("none", m.path, "proc", "ro,nosuid,nodev,noexec,relatime"))
        case .sysfs: mounts.append(("none", m.path, "sysfs", "ro,nosuid,nodev,noexec,relatime"))
        default: mounts.append((m.request.source, m.path, m.request.fstype, nil))
        }
      }
      files.mounts = mounts
      files.uptime = uptimeLine(box.process)
    }
    // The queues each mqueue mount shows, by mount point (the top mount at a path wins).
    for m in visible {
      if case .mqueue = m.request {
        files.mqueues[m.path] = m.ipcNamespace.flatMap { namespaces[$0]?.posixMQ.map { String($0.dropFirst()) } } ?? []
      } else {
        files.mqueues[m.path] = nil
      }
    }
    if let netInode = box.process.ns[.net], netInode != host.ns[.net], let net = namespaces[netInode]?.net {
      files.freshNetwork = net.links.count == 1 && !net.links[0].up && net.links[0].addrs.isEmpty
    }
    context.files = files
    return context
  }

  /// What `mount dev` made at `path`, a path in the tmpfs mounted at `dev`, where no node is
  /// bound (a node's own mount answers for itself): the empty file a node was bound onto, a
  /// link, a directory (empty), or nothing.
  static func containerDevEntry(_ path: String, in dev: String) -> LayerEntryKind? {
    if path == dev { return .directory(opaque: false) }
    let name = String(path.dropFirst(dev == "/" ? 1 : dev.count + 1))
    if ContainerDev.devices.contains(where: { $0.name == name }) { return .file([]) }
    if let link = ContainerDev.links.first(where: { $0.name == name }) { return .symlink(target: link.target) }
    return ContainerDev.directories.contains(name) ? .directory(opaque: false) : nil
  }

  static func containerDevList(_ path: String, in dev: String) -> [String]? {
    if path == dev {
      return ContainerDev.devices.map(\.name) + ContainerDev.links.map(\.name) + ContainerDev.directories
    }
    return containerDevEntry(path, in: dev)?.isDirectory == true ? [] : nil
  }

  /// The pid namespace of the proc mounted at /proc in what the box sees as its root, when
  /// that is not the host's.
  func procPIDNamespace(_ p: SimProcess) -> UInt64? {
    guard p.ns[.mnt] != host.ns[.mnt], let mnt = p.ns[.mnt].flatMap({ namespaces[$0] }) else { return nil }
    guard let proc = mnt.mounts.last(where: { $0.root == p.root.seen && $0.path == "/proc" }),
      case .proc = proc.request, let pidNS = proc.pidNamespace, pidNS != host.activePID
    else { return nil }
    return pidNS
  }

  /// The pid namespace whose processes the proc file system at /proc shows the box, as it sees
  /// its root (`BOX.pid.proc`, docs/state-paths.md); nil when /proc there is not a proc.
  func procShown(_ p: SimProcess) -> UInt64? {
    let mnt = p.ns[.mnt].flatMap { namespaces[$0] }
    return procNamespace(at: "/proc", in: p.root.seen, mounts: mnt?.mounts ?? [])
  }

  /// The pid namespace of the proc file system at `path` of `tree`: the topmost mount on the
  /// path or on a directory above it decides (one made later on "/" hides an earlier /proc). A
  /// bind mount shows what its source showed when it was made. With no mount there, the host's
  /// tree has the host's proc at /proc; any other place holds no proc.
  func procNamespace(at path: String, in tree: SimRoot, mounts: [SimMount]) -> UInt64? {
    let top = mounts.last { m in
      m.root == tree && (m.path == path || m.path == "/" || path.hasPrefix(m.path + "/"))
    }
    guard let top else { return tree == .host && path == "/proc" ? host.activePID : nil }
    guard top.path == path else { return nil }
    switch top.request {
    case .proc, .bind: return top.pidNamespace
    default: return nil
    }
  }

  /// kill(2) with SIGKILL, by the PID the box sees.
  func kill(_ i: Int, _ pid: Int, _ step: Step) throws(KernelError) {
    let name = boxes[i].name
    guard let task = tasks.first(where: { $0.box == name && $0.pid == pid }) else {
      throw KernelError(step: step, call: step.entry(.kill), errno: .ESRCH)
    }
    exitTask(task)
  }

  /// A process ends. If it was PID 1 of its namespace, the namespace dies with everything in it;
  /// otherwise its children that live on are orphans and get a new parent.
  func exitTask(_ task: SimTask) {
    tasks.removeAll { $0.hostPID == task.hostPID }
    if task.pid == 1, task.pidNamespace != host.activePID {
      namespaces[task.pidNamespace]?.alive = false
      killTasks { $0.pidNamespace == task.pidNamespace }
    }
    adoptOrphans(of: [task.hostPID])
  }

  /// Kills tasks; a PID 1 among them takes its namespace down.
  func killTasks(where predicate: (SimTask) -> Bool) {
    let doomed = tasks.filter(predicate)
    tasks.removeAll(where: predicate)
    for t in doomed where t.pid == 1 && t.pidNamespace != host.activePID {
      namespaces[t.pidNamespace]?.alive = false
      tasks.removeAll { $0.pidNamespace == t.pidNamespace }
    }
    adoptOrphans(of: Set(doomed.map(\.hostPID)))
  }

  /// Re-parenting on exit (find_new_reaper in kernel/exit.c): each living child of a process
  /// that exited gets the nearest child subreaper above it in its own pid namespace, else that
  /// namespace's init (pid_namespaces(7), prctl(2) PR_SET_CHILD_SUBREAPER).
  func adoptOrphans(of exited: Set<Int>) {
    for i in tasks.indices where exited.contains(tasks[i].parent) {
      tasks[i].parent = reaper(of: tasks[i])
    }
  }

  /// The new parent of an orphan. No program boxwalk runs is a subreaper, so in a pid namespace
  /// of the box's own it is that namespace's PID 1. In the host's pid namespace the box's helper
  /// is the nearest subreaper (it asks for that so a box's orphans stay its descendants).
  func reaper(of orphan: SimTask) -> Int {
    if orphan.pidNamespace != host.activePID,
      let initTask = tasks.first(where: { $0.pidNamespace == orphan.pidNamespace && $0.pid == 1 })
    {
      return initTask.hostPID
    }
    return boxes.first { $0.name == orphan.box }?.process.hostPID ?? host.hostPID
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
