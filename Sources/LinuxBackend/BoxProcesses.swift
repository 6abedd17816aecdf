import Glibc
import Kernel

/// A box's processes, read from the host's /proc: every descendant of its helper (proc(5):
/// /proc/PID/task/TID/children), with the PID the box sees (the last NSpid field of
/// /proc/PID/status) and the command line. Zombies are left out: they have exited.
extension ProcFS {
  func descendants(of helper: pid_t) -> [BoxProcessFacts] {
    var out: [BoxProcessFacts] = []
    var queue = children(of: helper)
    while let pid = queue.first {
      queue.removeFirst()
      queue += children(of: pid)
      guard let status = try? SmallFiles.read("\(root)/\(pid)/status") else { continue }
      let fields = ProcStatus.fields(status, ["NSpid", "State"])
      // NSpid: one PID per pid namespace the process is in, outermost first; a single one means
      // the host's namespace only. State: Z (zombie) and X (dead) have exited.
      let pids = fields["NSpid"] ?? []
      let depth = pids.count
      let zombie = fields["State"]?.first.map { $0 == "Z" || $0 == "X" } ?? false
      guard !zombie, let boxPID = pids.last.flatMap({ Int($0) }) else { continue }
      let cmdline = (try? SmallFiles.read("\(root)/\(pid)/cmdline")) ?? []
      // Arguments are bytes (execve(2)), shown escaped: a program may be given any.
      let command = cmdline.split(separator: 0).map { KernelName.shown($0) }.joined(separator: " ")
      out.append(BoxProcessFacts(pid: boxPID, hostPID: Int(pid), command: command, inHostPIDNamespace: depth <= 1))
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
