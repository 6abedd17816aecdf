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
    case .cgroupSet(_, let setting): return try cgroupSet(i, setting, step)
    case .stress(_, let kind): return try stress(i, kind, step)
    }
  }

  func cgroupNew(_ i: Int, _ step: Step) throws(KernelError) {
    let name = boxes[i].name
    guard cgroups[name] == nil else { throw KernelError(step: step, call: step.entry(.mkdir), errno: .EEXIST) }
    // boxwalk (root) makes the directory; the box's process then opens its cgroup.procs for
    // writing with its own credentials. The file is root's, mode 0644: a box that switched to
    // another host uid (map uid 0 100000 ...) is "other" there, and the capabilities of a child
    // user namespace never override the permissions of a file whose owner that namespace does
    // not map (capabilities(7)): EACCES, and boxwalk removes the directory again.
    guard boxes[i].process.hostUID == 0 else {
      throw KernelError(step: step, call: step.entry(.openCgroupProcs), errno: .EACCES)
    }
    cgroups[name] = SimCgroup()
  }

  func cgroupSet(_ i: Int, _ setting: CgroupSetting, _ step: Step) throws(KernelError) -> StepResult {
    let name = boxes[i].name
    guard var cg = cgroups[name] else { throw KernelError(step: step, call: step.entry(.writeCgroup), errno: .ENOENT) }
    switch setting.value {
    case .bytes(let limit): cg.memoryMax = limit
    case .count(let limit): cg.pidsMax = limit
    case .cpu(let quota, let period):
      cg.cpuQuota = quota
      if let period { cg.cpuPeriod = period }
    }
    cgroups[name] = cg
    return StepResult(notes: setting.translation(cgroupVersion).map { [$0] } ?? [])
  }

  /// The stress programs, decided the way the kernel decides them:
  /// - memory: the cgroup's charge would pass memory.max, the OOM killer kills the hog (SIGKILL);
  /// - fork: the pids controller refuses every fork past pids.max with EAGAIN;
  /// - cpu: a quota below one period's length throttles a single spinning thread.
  func stress(_ i: Int, _ kind: StressKind, _ step: Step) throws(KernelError) -> StepResult {
    let box = boxes[i]
    guard let pidInode = box.process.ns[.pid], var pidNS = namespaces[pidInode] else { throw missing(step, box.name) }
    guard pidNS.alive else { throw KernelError(step: step, call: step.entry(.fork), errno: .ENOMEM) }
    var cg = cgroups[box.name]
    // The stress process joins the box's cgroup like any box process: past pids.max it is refused
    // as a fork would be (see `run`), before it does anything.
    if var c = cg, case .value(let max) = c.pidsMax, UInt64(cgroupTaskCount(box.name)) >= max {
      c.pidsRefused += 1
      cgroups[box.name] = c
      if pidInode != host.activePID, !pidNS.populated { namespaces[pidInode]?.alive = false }
      throw KernelError(step: step, call: step.entry(.fork), errno: .EAGAIN)
    }
    enterTimeNamespace(box.process)
    // The stress process takes a PID like any box process; in a fresh pid namespace it is PID 1.
    let pid: Int
    if pidInode == host.activePID {
      pid = allocatePID()
    } else {
      pid = pidNS.nextPID
      pidNS.nextPID += 1
      pidNS.populated = true
    }
    var exit = ProcessExit.exited(0)
    var result = StepResult(boxPID: pid)
    switch kind {
    case .memory(let bytes):
      if case .value(let max)? = cg?.memoryMax, bytes >= max {
        exit = .signaled(9)
        cg?.oomKills += 1
      }
    case .fork(let count):
      // Already in the cgroup: the box's programs started after `cgroup new`, and the stress
      // process itself. Not the helper: it stays out of the box's cgroup.
      let current = cg == nil ? 0 : 1 + tasks.filter { $0.box == box.name && $0.inCgroup }.count
      var started = count
      if case .value(let max)? = cg?.pidsMax { started = min(count, max > UInt64(current) ? Int(max) - current : 0) }
      cg?.pidsRefused += UInt64(count - started)
      result.forksRefused = count - started
      result.forksStarted = started
      if pidInode != host.activePID { pidNS.nextPID += started }
    case .cpu:
      result.throttled = false
      if let c = cg, case .value(let quota) = c.cpuQuota, quota < c.cpuPeriod {
        cg?.throttled += 1
        result.throttled = true
      }
    }
    namespaces[pidInode] = pidNS
    if let cg { cgroups[box.name] = cg }
    if pid == 1, pidInode != host.activePID {
      // The stress process was the namespace's init: its exit ends the namespace.
      namespaces[pidInode]?.alive = false
      killTasks { $0.pidNamespace == pidInode }
    }
    result.exit = exit
    return result
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
