import Kernel

// What a cgroup step achieved (Session.summary): the cgroup area's own sentences.
extension Session {
  /// `cgroup new`, `cgroup set` and `stress`.
  func cgroupSummary(_ step: CgroupStep, _ result: StepResult, before: FactsBefore, after t: StateValue) -> [String] {
    switch step {
    case .cgroupNew(let box):
      return [
        "\(box) has a cgroup of its own: every process \(box) starts from now on moves in; boxwalk-helper stays out, so no limit kills it"
      ]
    case .cgroupSet(let box, let setting):
      return ["\(box)'s cgroup: \(setting)"] + result.notes
    case .stress(let box, let kind):
      var lines: [String]
      switch kind {
      case .memory(let bytes):
        lines =
          result.exit == .signaled(9)
          ? ["memory.max stopped the hog: the kernel's OOM killer killed it (SIGKILL) before it touched \(bytes) bytes"]
          : ["the hog touched \(bytes) bytes and exited: \(result.exit?.description ?? "done")"]
      case .fork(let count):
        let refused = result.forksRefused ?? 0
        lines =
          refused == 0
          ? ["all \(count) forks succeeded"]
          : ["\(refused) of \(count) forks refused with EAGAIN: pids.max counts every process in \(box)'s cgroup"]
      case .cpu:
        lines =
          result.throttled == true
          ? ["the spinner was throttled: cpu.max lets the cgroup run only its quota in each period"]
          : ["the spinner was not throttled"]
      }
      return lines + pidNamespaceDeath(box, before: before, after: t)
    }
  }
}
