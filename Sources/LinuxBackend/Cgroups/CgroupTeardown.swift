import Glibc
import Kernel

/// Carries out a `CgroupTeardownPlan` on a cgroup file system, and lists cgroup trees for the
/// planner. Shared by both drivers; everything it finds already gone (ENOENT, ESRCH) counts as
/// done, so a second teardown of the same cgroup does nothing and succeeds.
struct CgroupTeardown {
  let root: String
  let files: any CgroupFileSystem
  let signal: ProcessSignaller
  let retry: CgroupRetryPolicy

  func absolute(_ path: String) -> String { CgroupAction.join(root, path) }

  /// Every directory at or under each target (relative to the root); a missing target adds
  /// nothing. The walk stops at a depth no learner reaches, so a loop cannot hang it.
  func tree(_ targets: [String]) -> [String] {
    var found: [String] = []
    var pending = targets.filter { files.isDirectory(absolute($0)) == true }
    while let dir = pending.popLast() {
      found.append(dir)
      guard CgroupTeardownPlan.depth(dir) < 64 else { continue }
      pending += ((try? files.subdirectories(absolute(dir))) ?? []).map { dir + "/" + $0 }
    }
    return found
  }

  func run(_ plan: CgroupTeardownPlan) throws(CgroupError) -> [CgroupAction] {
    var actions: [CgroupAction] = []
    // Usually the box's process is reaped before its cgroup goes (box rm), so the tree is empty
    // already: nothing to freeze or signal. No process can appear in an empty cgroup by fork(2)
    // (only a member can fork into it), and one moved in by someone else makes rmdir(2) EBUSY
    // below, which retries and then says so.
    if !plan.kill.isEmpty && !(plan.emptyCheck.map(isEmpty) ?? false) {
      for _ in 0..<max(1, retry.killRounds) {
        try kill(plan.kill, into: &actions)
        if let check = plan.emptyCheck, waitUntilEmpty(check) { break }
      }
    }
    for dir in plan.removals { try remove(dir, into: &actions) }
    for dir in plan.prune {
      // Another box or session may still be in there (EBUSY), or it is gone (ENOENT): both fine.
      if (try? files.removeDirectory(absolute(dir))) != nil { actions.append(.removeDirectory(dir)) }
    }
    return actions
  }

  private func kill(_ steps: [CgroupTeardownPlan.KillStep], into actions: inout [CgroupAction]) throws(CgroupError) {
    for step in steps {
      switch step {
      case .write(let write):
        do {
          try files.write(absolute(write.path), write.value)
          actions.append(.write(write))
        } catch  where error.errno == ENOENT {
          continue  // the cgroup is gone already
        } catch {
          throw CgroupError(error, explanation: "could not signal the cgroup's processes")
        }
      case .waitFor(let path, let key, let value):
        _ = poll { () -> Bool in
          guard let text = try? files.read(absolute(path)) else { return true }
          guard let key else { return text.trimmingWhitespace == value }
          return CgroupFileFormat.keyed(text)[key] == value
        }
      case .signalProcesses(let dirs):
        for pid in processes(in: dirs) {
          let failure = signal(pid)
          if failure == 0 {
            actions.append(.kill(pid: pid))
          } else if failure != ESRCH {
            throw CgroupError(
              call: "kill(\(pid), SIGKILL)", errno: Errno(rawValue: failure),
              explanation: "a process of the cgroup could not be killed")
          }
        }
      }
    }
  }

  /// The PIDs in the cgroup.procs files of `dirs`, each once, never this process, PID 1, or 0 and
  /// negative numbers (kill(2) would read those as "my process group" or "every process").
  func processes(in dirs: [String]) -> [Int32] {
    var seen: Set<Int32> = []
    var pids: [Int32] = []
    let me = getpid()
    for dir in dirs {
      guard let text = try? files.read(absolute(dir + "/cgroup.procs")) else { continue }
      for word in text.split(whereSeparator: \.isWhitespace) {
        guard let pid = Int32(word), pid > 1, pid != me, seen.insert(pid).inserted else { continue }
        pids.append(pid)
      }
    }
    return pids
  }

  func waitUntilEmpty(_ check: CgroupTeardownPlan.EmptyCheck) -> Bool {
    poll { isEmpty(check) }
  }

  /// One look: no process left in the tree (a cgroup already gone counts as empty).
  func isEmpty(_ check: CgroupTeardownPlan.EmptyCheck) -> Bool {
    switch check {
    case .populated(let events):
      guard let text = try? files.read(absolute(events)) else { return true }
      return CgroupFileFormat.keyed(text)["populated"] != "1"
    case .noProcesses(let dirs):
      return processes(in: dirs).isEmpty
    }
  }

  /// rmdir(2) with the retry policy's waits on EBUSY (a process still exiting). ENOENT is done.
  private func remove(_ dir: String, into actions: inout [CgroupAction]) throws(CgroupError) {
    var failure: SystemCallError?
    _ = poll { () -> Bool in
      do throws(SystemCallError) {
        try files.removeDirectory(absolute(dir))
        failure = nil
        return true
      } catch {
        failure = error
        return error.errno != EBUSY
      }
    }
    guard let failure else {
      actions.append(.removeDirectory(dir))
      return
    }
    switch failure.errno {
    case ENOENT:
      return
    case EBUSY:
      throw CgroupError(
        failure,
        explanation: "the cgroup still has processes or child cgroups after \(retry.attempts) tries "
          + "(\(processes(in: [dir]).count) process(es) listed in its cgroup.procs)")
    default:
      throw CgroupError(failure, explanation: "could not remove the cgroup")
    }
  }

  /// Try `done` up to the policy's attempts, sleeping its delays in between; true once it is done.
  func poll(_ done: () -> Bool) -> Bool {
    if done() { return true }
    for delay in retry.delays {
      usleep(delay)
      if done() { return true }
    }
    return false
  }
}
