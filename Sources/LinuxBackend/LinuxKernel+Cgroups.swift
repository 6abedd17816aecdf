import CShim
import Glibc
import HelperWire
import Kernel

// The cgroup steps: the box's cgroup, its limits, and the load that tests them. `cgroup new` and
// `cgroup set` go through make(step) (LinuxKernel+Plan.swift): the mkdirs and the writes of
// interface files are boxwalk's own (`.here`), the open of the box's cgroup.procs the helper's.
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
      // Each file of the host's layout (v1's cpu.max is two: the period, then the quota). The plan
      // names the files of the setting's layout, the host's when the session made it; one made
      // for the other layout is written as the host's at its first entry.
      let files = setting.files(driver.version)
      var position = 0
      try make(step) { entry throws(KernelError) in
        guard case .writeCgroup = entry else { throw unplanned(entry, step) }
        defer { position += 1 }
        let writes =
          setting.layout == driver.version ? [files[position]] : (position == 0 ? files : [])
        return .here { () throws(EntryFailure) in
          do throws(CgroupError) {
            for (file, value) in writes { _ = try driver.write(file, value, for: setting, on: cgroup) }
          } catch {
            throw EntryFailure(error.errno, detail: error.explanation)
          }
        }
      }
      return StepResult(notes: setting.translation(driver.version).map { [$0] } ?? [])
    case .stress(let box, let kind):
      return try stress(box, kind, step: step)
    }
    return .none
  }

  /// `cgroup new`: mkdir under boxwalk/SESSION/ in each hierarchy (one plan entry, made here),
  /// then the helper opens the box's cgroup.procs files. The helper stays where it is: every
  /// process it starts from now on moves itself into the box's cgroup before it runs anything,
  /// so no box process escapes the limits, and a memory limit never makes the OOM killer choose
  /// the helper, which holds the box (boxwalk-helper's CgroupOperations says how). If the
  /// helper cannot open them, boxwalk removes the directories again: the step leaves no cgroup.
  func cgroupNew(_ box: String, step: Step) throws(KernelError) {
    guard let helper = helper(named: box), let name = sessionName else {
      throw noSuchBox(box, step: step)
    }
    var made: (driver: any CgroupDriver, cgroup: BoxCgroup)?
    do throws(KernelError) {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .mkdir:
          return .here { () throws(EntryFailure) in
            do throws(CgroupError) {
              let driver: any CgroupDriver
              if let existing = self.cgroupDriver {
                driver = existing
              } else {
                driver = try CgroupLayout.probe(procRoot: self.procfs.root).makeDriver()
              }
              self.cgroupDriver = driver
              let cgroup = try BoxCgroup(session: name, box: box)
              _ = try driver.create(cgroup)
              made = (driver, cgroup)
            } catch {
              throw EntryFailure(error.errno, detail: error.explanation)
            }
          }
        case .openCgroupProcs:
          return .helperAfter { () throws(KernelError) in
            guard let (driver, cgroup) = made else { throw self.unplanned(entry, step) }
            // Where the helper is now: it goes back there after `unshare cgroup` (made from
            // inside the box's cgroup, so the namespace is rooted there). Without it, that
            // unshare stays where it is.
            let membership = (try? SmallFiles.readText("\(self.procfs.root)/\(helper.pid)/cgroup"))
              .map(ProcCgroup.init(text:))
            let home = membership.flatMap { driver.procsFiles(of: $0) } ?? []
            let files = driver.procsFiles(of: cgroup).map { Array($0.utf8) }
            return (.cgroup(.openProcs(box: files, home: home.map { Array($0.utf8) })), helper)
          }
        default:
          throw unplanned(entry, step)
        }
      }
    } catch {
      if let (driver, cgroup) = made { _ = try? driver.remove(cgroup) }
      throw error
    }
    if let (_, cgroup) = made { cgroupOf[box] = cgroup }
  }

  /// `stress`: the helper forks, and the child makes the rest of the plan: it joins the box's
  /// cgroup, then does the work (boxwalk-helper's ForkCalls.swift). For cpu, the cgroup's own
  /// counters tell whether it was throttled (nr_throttled before and after).
  func stress(_ box: String, _ kind: StressKind, step: Step) throws(KernelError) -> StepResult {
    let helper = try helper(of: box, step: step)
    let before = cgroupOf[box].flatMap { try? cgroupDriver?.report($0) }
    let answers = try make(step) { entry throws(KernelError) in
      switch entry {
      case .fork: .helper(.cgroup(.fork), helper)
      case .enterCgroup: .helper(.cgroup(.enterCgroup), helper)
      case .touchMemory(let bytes): .helper(.cgroup(.touchMemory(bytes: bytes)), helper)
      case .forkTimes(let count): .helper(.cgroup(.forkTimes(count)), helper)
      case .spin(let ms): .helper(.cgroup(.spin(milliseconds: ms)), helper)
      default: throw unplanned(entry, step)
      }
    }
    guard let outcome = answers.answer(where: { $0 == .fork }, as: StressOutcome.self) else {
      throw outOfProtocol(step)
    }
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
