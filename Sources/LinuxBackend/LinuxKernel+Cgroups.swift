import CShim
import Glibc
import HelperWire
import Kernel

// The cgroup steps: the box's cgroup, its limits, and the load that tests them.
extension LinuxKernel {
  /// `cgroup new`, `cgroup set` and `stress`.
  func performCgroupStep(_ s: CgroupStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .cgroupNew(let box):
      try cgroupNew(box, step: step)
    case .cgroupSet(let box, let setting):
      guard let cgroup = cgroupOf[box], let driver = cgroupDriver else {
        throw KernelError(step: step, call: step.entry(.writeCgroup), errno: .ENOENT, detail: "\(box) has no cgroup")
      }
      do throws(CgroupError) {
        _ = try driver.set(setting, on: cgroup)
      } catch {
        // The plan's write of the file that failed (v1's cpu.max is two writes), else its first.
        let written = step.plan.first { entry in
          guard case .writeCgroup(_, let file, _) = entry else { return false }
          return error.call.contains("/" + file)
        }
        let call = written ?? step.entry(.writeCgroup)
        throw KernelError(step: step, call: call, errno: error.errno, detail: error.explanation)
      }
      return StepResult(notes: setting.translation(driver.version).map { [$0] } ?? [])
    case .stress(let box, let kind):
      return try stress(box, kind, step: step)
    }
    return .none
  }

  /// `cgroup new`: mkdir under boxwalk/SESSION/ in each hierarchy, then hand the helper the
  /// box's cgroup.procs files. The helper stays where it is: every process it starts from now on
  /// moves itself into the box's cgroup before it runs anything, so no box process escapes the
  /// limits, and a memory limit never makes the OOM killer choose the helper, which holds the
  /// box (boxwalk-helper's CgroupOperations says how).
  func cgroupNew(_ box: String, step: Step) throws(KernelError) {
    guard let helper = helper(named: box), let name = sessionName else {
      throw noSuchBox(box, step: step)
    }
    let driver: any CgroupDriver
    let cgroup: BoxCgroup
    do throws(CgroupError) {
      if let existing = cgroupDriver {
        driver = existing
      } else {
        driver = try CgroupLayout.probe(procRoot: procfs.root).makeDriver()
      }
      cgroupDriver = driver
      cgroup = try BoxCgroup(session: name, box: box)
      _ = try driver.create(cgroup)
    } catch {
      throw KernelError(step: step, call: step.entry(.mkdir), errno: error.errno, detail: error.explanation)
    }
    // Where the helper is now: it goes back there after `unshare cgroup` (made from inside the
    // box's cgroup, so the namespace is rooted there). Without it, that unshare stays where it is.
    let membership = (try? SmallFiles.readText("\(procfs.root)/\(helper.pid)/cgroup")).map(ProcCgroup.init(text:))
    let home = membership.flatMap { driver.procsFiles(of: $0) } ?? []
    let request = HelperRequest.cgroup(
      box: driver.procsFiles(of: cgroup).map { Array($0.utf8) }, home: home.map { Array($0.utf8) })
    do {
      try ask(box, request, step: step)
    } catch {
      _ = try? driver.remove(cgroup)
      throw error
    }
    cgroupOf[box] = cgroup
  }

  /// `stress`: the helper forks the program; for cpu, the cgroup's own counters tell whether it
  /// was throttled (nr_throttled before and after).
  func stress(_ box: String, _ kind: StressKind, step: Step) throws(KernelError) -> StepResult {
    let (name, arg): (HelperRequest.StressKind, UInt64) =
      switch kind {
      case .memory(let bytes): (.memory, bytes)
      case .fork(let count): (.fork, UInt64(count))
      case .cpu(let ms): (.cpu, UInt64(ms))
      }
    let before = cgroupOf[box].flatMap { try? cgroupDriver?.report($0) }
    let outcome = try ask(box, .stress(kind: name, arg: arg), step: step, answer: StressOutcome.self)
    var result = StepResult(exit: Self.processExit(ProgramEnd(waitStatus: outcome.status)))
    switch kind {
    case .fork:
      result.forksStarted = outcome.started
      result.forksRefused = outcome.refused
    case .cpu:
      let after = cgroupOf[box].flatMap { try? cgroupDriver?.report($0) }
      result.throttled = (after?.cpu.throttledPeriods ?? 0) > (before?.cpu.throttledPeriods ?? 0)
    case .memory:
      break
    }
    return result
  }
}
