import CShim
import Glibc
import HelperWire

/// The cgroup area's plan entries, made by the helper (Calls.swift); those after a fork entry
/// are made by the forked child (ForkCalls.swift).
extension CgroupOperations {
  func make(_ call: CgroupCall, _ state: inout CallState) -> Calls.Outcome {
    switch call {
    case .openProcs(let boxFiles, let home):
      // boxwalk made the directories (mkdir(2) in each hierarchy); the helper opens the box's
      // cgroup.procs for writing with its own credentials, and keeps the descriptors for the
      // processes it starts (cgroups(7): a process moves itself by writing "0" there).
      return enter(box: boxFiles, home: home)
    case .fork:
      // Calls.make forks for this entry itself: reaching here is a request out of order.
      return .failed(errno: EINVAL, note: "a fork entry is made by the request, not on its own")
    case .enterCgroup:
      // The child moves itself into the box's cgroup before anything else, so everything it does
      // next is counted and limited there. A move is never refused for pids.max, so past it
      // bw_enter_box_cgroup lets the kernel refuse a fork in the cgroup instead: EAGAIN.
      return bw_enter_box_cgroup() == 0 ? .made() : .failed(errno: errno)
    case .touchMemory(let bytes):
      // Allocate and touch every page: each is charged to the cgroup, and past memory.max the
      // cgroup's OOM killer kills the process (SIGKILL, the answer the helper gives).
      _ = bw_stress_memory(Int(clamping: bytes), nil)
      return .made()
    case .forkTimes(let count):
      // Fork children that wait, counting the forks the pids controller refuses (EAGAIN),
      // then kill and reap them.
      var pids = [pid_t](repeating: 0, count: max(1, min(count, CgroupCall.maxForks)))
      var started: Int32 = 0
      var refused: Int32 = 0
      _ = bw_stress_fork(Int32(min(count, CgroupCall.maxForks)), &pids, &started, &refused)
      for i in 0..<Int(started) { kill(pids[i], SIGKILL) }
      for i in 0..<Int(started) { waitpid(pids[i], nil, 0) }
      state.counts = StressOutcome(status: 0, started: Int(started), refused: Int(refused))
      return .made()
    case .spin(let ms):
      // Spin for the wall-clock time; under cpu.max the CFS bandwidth controller throttles it.
      var result = bw_stress_cpu_result()
      _ = bw_stress_cpu(Double(ms) / 1000.0, &result)
      return .made()
    }
  }
}
