import Glibc
import Kernel

/// A box's processes, read from the host's /proc: every descendant of its helper (proc(5):
/// /proc/PID/task/TID/children), with the PID the box sees (the last NSpid field of
/// /proc/PID/status), its parent and the command line. Zombies are left out: they have exited.
extension ProcFS {
  func descendants(of helper: pid_t) -> [BoxProcessFacts] {
    struct Seen {
      var pids: [Int]
      var hostPPID: Int
      var command: String
    }
    var seen: [Int: Seen] = [:]
    var order: [Int] = []
    var queue = children(of: helper)
    while let pid = queue.first {
      queue.removeFirst()
      queue += children(of: pid)
      guard let status = try? SmallFiles.read("\(root)/\(pid)/status") else { continue }
      let fields = ProcStatus.fields(status, ["NSpid", "State", "PPid"])
      // NSpid: one PID per pid namespace the process is in, outermost first; a single one means
      // the host's namespace only. State: Z (zombie) and X (dead) have exited. PPid: the parent,
      // as the pid namespace of this /proc (the host's) numbers it.
      let pids = (fields["NSpid"] ?? []).compactMap { Int($0) }
      let zombie = fields["State"]?.first.map { $0 == "Z" || $0 == "X" } ?? false
      guard !zombie, !pids.isEmpty, let hostPPID = fields["PPid"]?.first.flatMap({ Int($0) }) else { continue }
      let cmdline = (try? SmallFiles.read("\(root)/\(pid)/cmdline")) ?? []
      // Arguments are bytes (execve(2)), shown escaped: a program may be given any.
      let command = cmdline.split(separator: 0).map { KernelName.shown($0) }.joined(separator: " ")
      seen[Int(pid)] = Seen(pids: pids, hostPPID: hostPPID, command: command)
      order.append(Int(pid))
    }
    var out: [BoxProcessFacts] = []
    for hostPID in order {
      guard let p = seen[hostPID], let boxPID = p.pids.last else { continue }
      // getppid(2) as the process sees it. A parent is never in a deeper pid namespace than its
      // child, so a parent with as many NSpid levels is in the child's own namespace and has a
      // PID there; one with fewer (the helper that forked it from outside) lives in an ancestor
      // namespace, which the child cannot name: the kernel says 0 (pid_namespaces(7)). In the
      // host's namespace the parent's host PID is what the process sees.
      let ppid: Int
      if p.pids.count <= 1 {
        ppid = p.hostPPID
      } else if let parent = seen[p.hostPPID], parent.pids.count == p.pids.count, let own = parent.pids.last {
        ppid = own
      } else {
        ppid = 0
      }
      out.append(
        BoxProcessFacts(
          pid: boxPID, hostPID: hostPID, command: p.command, inHostPIDNamespace: p.pids.count <= 1, ppid: ppid,
          hostPPID: p.hostPPID))
    }
    return out.sorted { $0.pid < $1.pid }
  }

  private func children(of pid: pid_t) -> [pid_t] {
    // Threads of a box process could have children too; boxwalk's programs are single-threaded
    // at fork time, and the main thread's list is what ps(1) --forest walks as well.
    guard let text = try? SmallFiles.readText("\(root)/\(pid)/task/\(pid)/children") else { return [] }
    return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
  }
}
