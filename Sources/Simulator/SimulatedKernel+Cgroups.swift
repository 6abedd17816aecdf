import Kernel

/// A simulated cgroup (cgroups(7)): the limits a box's cgroup holds and the outcomes the kernel
/// enforces, for the stress programs of the transcripts.
struct SimCgroup {
  var memoryMax = CgroupLimit.max
  var pidsMax = CgroupLimit.max
  var cpuQuota = CgroupLimit.max
  var cpuPeriod: UInt64 = 100_000
  var oomKills: UInt64 = 0
  var pidsRefused: UInt64 = 0
  var throttled: UInt64 = 0
}

extension SimulatedKernel {
  /// The cgroup steps (`step` is `.cgroup(s)`, for errors).
  func performCgroup(_ s: CgroupStep, _ step: Step) throws(KernelError) -> StepResult {
    let i = try boxIndex(step)
    switch s {
    case .cgroupNew:
      try cgroupNew(i, step)
      return .none
    case .cgroupSet(_, let setting):
      try make(step) { entry throws(KernelError) in
        guard case .writeCgroup(_, let file, _) = entry else { throw unmodeled(entry, step) }
        try writeCgroup(i, file, setting, step, entry)
      }
      return StepResult(notes: setting.translation(cgroupVersion).map { [$0] } ?? [])
    case .stress(_, let kind): return try stress(i, kind, step)
    }
  }

  /// `cgroup new`: boxwalk (root) makes the directory, then the box's helper opens its
  /// cgroup.procs for writing with its own credentials. If that open fails, boxwalk removes the
  /// directory again: undone after the walk, as boxwalk undoes it on the real kernel.
  func cgroupNew(_ i: Int, _ step: Step) throws(KernelError) {
    let name = boxes[i].name
    do throws(KernelError) {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .mkdir:
          // mkdir(2) of a directory boxwalk already made for this box: EEXIST.
          guard cgroups[name] == nil else { throw KernelError(step: step, call: entry, errno: .EEXIST) }
          cgroups[name] = SimCgroup()
        case .openCgroupProcs:
          // The file is root's, mode 0644: a box that switched to another host uid (map uid 0
          // 100000 ...) is "other" there, and the capabilities of a child user namespace never
          // override the permissions of a file whose owner that namespace does not map
          // (capabilities(7)): EACCES.
          guard boxes[i].process.hostUID == 0 else { throw KernelError(step: step, call: entry, errno: .EACCES) }
        default:
          throw unmodeled(entry, step)
        }
      }
    } catch {
      if error.failed == step.entry(.openCgroupProcs) { cgroups[name] = nil }
      throw error
    }
  }

  /// One write of `cgroup set` (v1's cpu.max is two: cpu.cfs_period_us, then cpu.cfs_quota_us).
  /// ENOENT when the box has no cgroup: the file is not there.
  func writeCgroup(_ i: Int, _ file: String, _ setting: CgroupSetting, _ step: Step, _ call: SystemCall)
    throws(KernelError)
  {
    let name = boxes[i].name
    guard var cg = cgroups[name] else { throw KernelError(step: step, call: call, errno: .ENOENT) }
    switch setting.value {
    case .bytes(let limit): cg.memoryMax = limit
    case .count(let limit): cg.pidsMax = limit
    case .cpu(let quota, let period):
      // v2's cpu.max takes both at once; v1 writes the period first, then the quota.
      if file != "cpu.cfs_period_us" { cg.cpuQuota = quota }
      if let period, file != "cpu.cfs_quota_us" { cg.cpuPeriod = period }
    }
    cgroups[name] = cg
  }

  /// The stress programs, entry by entry, decided the way the kernel decides them:
  /// - fork: ENOMEM once the box's pid namespace has lost its PID 1; past pids.max the kernel
  ///   refuses the child in the box's cgroup as it refuses a fork there (EAGAIN);
  /// - the child joins the box's cgroup (it cannot fail here), then does the work:
  /// - memory: the cgroup's charge would pass memory.max, the OOM killer kills the hog (SIGKILL);
  /// - fork: the pids controller refuses every fork past pids.max with EAGAIN;
  /// - cpu: a quota below one period's length throttles a single spinning thread.
  func stress(_ i: Int, _ kind: StressKind, _ step: Step) throws(KernelError) -> StepResult {
    let box = boxes[i]
    guard let pidInode = box.process.ns[.pid], namespaces[pidInode] != nil else { throw missing(step, box.name) }
    var result = StepResult()
    var exit = ProcessExit.exited(0)
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .fork: result.boxPID = try forkStress(box, pidInode, step, entry)
      case .enterCgroup: break
      case .touchMemory(let bytes):
        if case .value(let max)? = cgroups[box.name]?.memoryMax, bytes >= max {
          exit = .signaled(9)
          cgroups[box.name]?.oomKills += 1
        }
      case .forkTimes(let count):
        // Already in the cgroup: the box's programs started after `cgroup new`, and the stress
        // process itself. Not the helper: it stays out of the box's cgroup.
        let cg = cgroups[box.name]
        let current = cg == nil ? 0 : 1 + tasks.filter { $0.box == box.name && $0.inCgroup }.count
        var started = count
        if case .value(let max)? = cg?.pidsMax { started = min(count, max > UInt64(current) ? Int(max) - current : 0) }
        cgroups[box.name]?.pidsRefused += UInt64(count - started)
        result.forksRefused = count - started
        result.forksStarted = started
        if pidInode != host.activePID { namespaces[pidInode]?.nextPID += started }
      case .spin:
        result.throttled = false
        if let c = cgroups[box.name], case .value(let quota) = c.cpuQuota, quota < c.cpuPeriod {
          cgroups[box.name]?.throttled += 1
          result.throttled = true
        }
      default:
        throw unmodeled(entry, step)
      }
    }
    // The stress process exits after its work (bookkeeping after the walk): as the namespace's
    // init, its exit ends the namespace.
    if result.boxPID == 1, pidInode != host.activePID {
      namespaces[pidInode]?.alive = false
      killTasks { $0.pidNamespace == pidInode }
    }
    result.exit = exit
    return result
  }

  /// The fork entry of `stress`: the new process takes a PID like any box process (PID 1 of a
  /// fresh pid namespace) and enters the box's time namespace for children.
  func forkStress(_ box: SimBox, _ pidInode: UInt64, _ step: Step, _ call: SystemCall) throws(KernelError) -> Int {
    guard let pidNS = namespaces[pidInode], pidNS.alive else {
      throw KernelError(step: step, call: call, errno: .ENOMEM)
    }
    // The stress process joins the box's cgroup like any box process: past pids.max it is refused
    // as a fork would be (see `run`), before it does anything.
    if let c = cgroups[box.name], case .value(let max) = c.pidsMax, UInt64(cgroupTaskCount(box.name)) >= max {
      cgroups[box.name]?.pidsRefused += 1
      if pidInode != host.activePID, !pidNS.populated { namespaces[pidInode]?.alive = false }
      throw KernelError(step: step, call: call, errno: .EAGAIN)
    }
    enterTimeNamespace(box.process)
    guard pidInode != host.activePID else { return allocatePID() }
    namespaces[pidInode]?.nextPID += 1
    namespaces[pidInode]?.populated = true
    return pidNS.nextPID
  }

  /// The box's programs counted in its cgroup (started after `cgroup new`); the helper is not.
  func cgroupTaskCount(_ box: String) -> Int {
    tasks.filter { $0.box == box && $0.inCgroup }.count
  }

  /// What `cgroup show` reads: limits, and usage the simulator can know (counts). Byte counts and
  /// times it does not measure, and says so ("not simulated"), rather than make up a number.
  func cgroupReport(_ name: String) -> CgroupReport? {
    guard let cg = cgroups[name] else { return nil }
    var r = CgroupReport(version: cgroupVersion)
    r.measuresUsage = false
    r.memory.max = cg.memoryMax
    r.memory.maxEvents = cg.oomKills
    r.memory.oomKills = cg.oomKills
    r.pids.max = cg.pidsMax
    r.pids.current = UInt64(cgroupTaskCount(name))
    r.pids.peak = r.pids.current
    r.pids.maxEvents = cg.pidsRefused
    r.cpu.quota = cg.cpuQuota
    r.cpu.period = cg.cpuPeriod
    r.cpu.periods = cg.throttled
    r.cpu.throttledPeriods = cg.throttled
    // The simulator follows this host's cgroup version, so it names the files the real drivers
    // read on it: v1 keeps the memory limit in memory.limit_in_bytes and the CPU quota in two files.
    r.files =
      cgroupVersion == .v1
      ? [
        "memory.max": "memory.limit_in_bytes", "pids.max": "pids.max", "cpu.max": "cpu.cfs_quota_us cpu.cfs_period_us",
      ]
      : ["memory.max": "memory.max", "pids.max": "pids.max", "cpu.max": "cpu.max"]
    return r
  }
}
