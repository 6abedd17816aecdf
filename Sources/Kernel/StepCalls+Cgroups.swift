/// The plan of a cgroup step (Step.plan): the box's cgroup, its limits, and the stress programs.
extension Step {
  var cgroupPlan: [SystemCall] {
    switch self {
    case .cgroupNew(let box):
      // On cgroup v1 the same happens once per controller hierarchy (memory, pids, cpu, ...). The
      // helper keeps the file open and stays out; each process it starts writes "0" (itself) there.
      return [.mkdir(path: "<\(box) cgroup>", mode: 0o755), .openCgroupProcs(box: box)]
    case .cgroupSet(let box, let setting):
      // The files of the host's layout: on v1 memory.max is memory.limit_in_bytes, and cpu.max
      // two writes, the period before the quota (CgroupSetting.files).
      return setting.files(setting.layout).map { .writeCgroup(box: box, file: $0.file, value: $0.value) }
    case .stress(let box, let kind):
      // The child moves itself into the box's cgroup before it does anything else.
      let enter = SystemCall.enterCgroup(box: box)
      switch kind {
      case .memory(let bytes): return [.fork, enter, .touchMemory(bytes: bytes)]
      case .fork(let count): return [.fork, enter, .forkTimes(count)]
      case .cpu(let ms): return [.fork, enter, .spin(milliseconds: ms)]
      }
    default:
      return []
    }
  }
}
