import Kernel

// Why the kernel does a cgroup step (StepText.why) and the shell line that does the same
// (StepText.shell): the cgroup area's own text.
extension StepText {
  /// `cgroup new`, `cgroup set` and `stress`.
  static func whyCgroup(_ step: CgroupStep) -> [String] {
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
    }
  }

  /// The shell line of a cgroup step (StepText.shell), in the host's cgroup layout.
  static func cgroupShell(_ step: CgroupStep, cgroup: CgroupVersion) -> String {
    switch step {
    case .cgroupNew(let box):
      if cgroup == .v1 {
        // v1: one hierarchy per controller, each mounted under /sys/fs/cgroup/CONTROLLER (cpu is
        // often a link to cpu,cpuacct); the box needs a directory in each. Each process the box
        // starts then joins with `echo 0 > .../cgroup.procs`; the helper itself never does.
        return "for c in memory pids cpu; do mkdir /sys/fs/cgroup/$c/boxwalk/SESSION/\(box); done"
      }
      return "mkdir /sys/fs/cgroup/boxwalk/SESSION/\(box)"
    case .cgroupSet(let box, let setting):
      if cgroup == .v1 {
        return setting.files(.v1).map { file in
          let controller = file.file.prefix { $0 != "." }
          return
            "echo \(ShellWord.quote(file.value)) > /sys/fs/cgroup/\(controller)/boxwalk/SESSION/\(box)/\(file.file)"
        }.joined(separator: " && ")
      }
      return "echo \(ShellWord.quote(setting.v2Text)) > /sys/fs/cgroup/boxwalk/SESSION/\(box)/\(setting.key.rawValue)"
    case .stress(let box, let kind):
      switch kind {
      case .memory(let bytes): return "nsenter --target <\(box)> --all stress-ng --vm 1 --vm-bytes \(bytes) --vm-keep"
      case .fork(let count):
        return "nsenter --target <\(box)> --all sh -c 'for i in $(seq \(count)); do sleep 1000 & done'"
      case .cpu(let ms):
        return "nsenter --target <\(box)> --all timeout \(Double(ms) / 1000) sh -c 'while :; do :; done'"
      }
    }
  }
}
