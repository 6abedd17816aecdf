import Kernel

// Why the kernel does a cgroup step (StepText.why): the cgroup area's own text.
extension StepText {
  /// `cgroup new`, `cgroup set` and `stress`.
  static func whyCgroup(_ step: Step) -> [String] {
    switch step {
    case .cgroupNew:
      return [
        "A cgroup groups processes so the kernel can limit and count what they use together. boxwalk",
        "makes one under boxwalk/ (on v1: one per controller hierarchy). The box's helper keeps its",
        "cgroup.procs open but stays out; each process it starts writes \"0\" (itself) there first, so",
        "every process of the box is counted, and a limit never kills the helper that holds the box",
        "(cgroups(7); Docker's containerd-shim stays out of its container's cgroup the same way).",
      ]
    case .cgroupSet:
      return [
        "Limits are plain files: memory.max (bytes; the OOM killer acts past it), pids.max (processes;",
        "fork fails with EAGAIN past it), cpu.max (QUOTA PERIOD microseconds: run at most QUOTA per",
        "PERIOD). cgroup v1 names them memory.limit_in_bytes, pids.max and cpu.cfs_quota_us/_period_us.",
      ]
    case .stress:
      return [
        "A stress program runs as a box process, in the box's cgroup, so the limits apply to it: the",
        "kernel refuses, kills or throttles it, and the counters in cgroup show say so.",
      ]
    default:
      return []
    }
  }
}
