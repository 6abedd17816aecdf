/// The cgroup steps: the box's cgroup, its limits, and the stress programs that push against
/// them. Everything the Kernel layer knows of them is here (see Step).
public enum CgroupStep: Equatable, Hashable, Sendable {
  /// mkdir(2) a cgroup for the box under boxwalk/ and move the box's process into it.
  case cgroupNew(box: String)
  /// Write one limit of the box's cgroup (named as on cgroup v2; translated on v1).
  case cgroupSet(box: String, setting: CgroupSetting)
  /// Run a stress program in the box against its limits.
  case stress(box: String, kind: StressKind)

  /// The box the step acts on.
  var box: String {
    switch self {
    case .cgroupNew(let b), .cgroupSet(let b, _), .stress(let b, _): b
    }
  }

  var owner: Owner { .box(box) }

  var kindName: String {
    switch self {
    case .cgroupNew: "cgroup-new"
    case .cgroupSet: "cgroup-set"
    case .stress: "stress"
    }
  }

  var plan: [SystemCall] {
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
    }
  }

  func readBack(in facts: KernelFacts) -> ReadBack {
    switch self {
    case .cgroupNew(let b), .cgroupSet(let b, _):
      // A box's cgroup is its own: boxwalk makes one per box.
      return ReadBack(boxes: [b])
    case .stress(let b, _):
      // A program: what any program in the box can change.
      return ProcessStep.programReadBack(b, in: facts)
    }
  }
}
