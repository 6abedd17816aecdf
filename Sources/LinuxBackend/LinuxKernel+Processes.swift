import CShim
import Glibc
import HelperWire
import Kernel

// The box's process steps: its helper started and ended, programs run and killed in the box.
extension LinuxKernel {
  /// `box new`, `box rm`, `run` and `kill`.
  func performProcessStep(_ s: ProcessStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .boxNew(let box):
      try newBox(box, step: step)
      boxState[box] = BoxState()
    case .boxRemove(let box):
      guard let index = pool.index(named: box) else { throw noSuchBox(box, step: step) }
      forget(pool.remove(at: index))
    case .run(let box, let argv, let background):
      return try run(box, argv, background: background, step: step)
    case .kill(let box, let pid):
      guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
      guard let target = procfs.descendants(of: helper.pid).first(where: { $0.pid == pid }) else {
        throw KernelError(step: step, call: step.entry(.kill), errno: .ESRCH)
      }
      try ask(box, .kill(hostPID: Int32(target.hostPID)), step: step)
    }
    return .none
  }

  /// `run`: the helper searches PATH and forks; in the foreground its reply streams the output.
  /// Ctrl-C (SIGINT while waiting) kills the program's process group with SIGKILL: a PID 1
  /// ignores every signal it has no handler for, SIGINT included.
  func run(_ box: String, _ argv: [String], background: Bool, step: Step) throws(KernelError) -> StepResult {
    guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
    let request = HelperRequest.run(background: background, argv: argv.map { Array($0.utf8) })
    // What already ran in the box before this program: see awaitForkedCopies.
    let before = Set(procfs.descendants(of: helper.pid).map(\.hostPID))
    var reply = try ask(box, request, step: step, streaming: !background)
    if background {
      guard let started = reply.answer(as: Started.self) else {
        throw KernelError(step: step, call: step.entry(.fork), errno: .EPROTO, detail: "unexpected reply to run")
      }
      // In the background too: a job the program forked at once (`sh -c 'sleep 90 & sleep
      // 100'`) is a copy of it until its execve. The program itself runs on, as it should.
      awaitForkedCopies(of: argv, helper: helper.pid, before: before.union([Int(started.hostPID)]))
      return StepResult(boxPID: Int(started.boxPID))
    }
    guard case .started(let hostPID, let boxPID) = reply else {
      throw KernelError(step: step, call: step.entry(.fork), errno: .EPROTO, detail: "unexpected reply to run")
    }
    var output: [UInt8] = []
    while true {
      do {
        reply = try helper.nextReply {
          if bw_interrupt_take() != 0 { Glibc.kill(-hostPID, SIGKILL) }
        }
      } catch {
        throw helperError(error, helper: helper, step: step)
      }
      guard case .out(let bytes) = reply else { break }
      output += bytes
    }
    guard let end = reply.answer(as: ProgramEnd.self) else {
      throw KernelError(step: step, call: step.entry(.wait4Child), errno: .EPROTO, detail: "unexpected end of run")
    }
    var lines = output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    if lines.last == "" { lines.removeLast() }
    awaitForkedCopies(of: argv, helper: helper.pid, before: before)
    return StepResult(output: lines, exit: Self.processExit(end), boxPID: Int(boxPID))
  }

  /// Waits, at most two seconds, until no process the program forked is still a copy of it or
  /// in the middle of its execve.
  ///
  /// A shell that starts a job in the background (`sh -c 'sleep 9 & echo x'`) forks, and the
  /// child runs the job by execve(2). The shell may print and exit before the child has got
  /// that far: fork(2) copies the parent's memory, so until execve the child's
  /// /proc/PID/cmdline (proc(5)) is still the shell's command line, and a state read at that
  /// moment shows a second `sh -c ...`. Whether it does depends on the scheduler, not on what
  /// the learner typed; waiting for the copy to execve (or to exit, as a job whose stdin
  /// /dev/null cannot be opened does) shows what the box settles into. A copy that never
  /// execs (a subshell, or an applet busybox runs in the forked process) is shown as it is
  /// once the wait is over.
  func awaitForkedCopies(of argv: [String], helper: pid_t, before: Set<Int>) {
    let command = argv.map { KernelName.shown(Array($0.utf8)) }.joined(separator: " ")
    for _ in 0..<400 {
      // An empty command line is a process inside execve itself: the kernel has dropped the old
      // memory and not yet set up the new argument area (proc(5), /proc/PID/cmdline), so it is
      // no more settled than a copy (seen on rootless: `{cmd: ""}` for the second job).
      let copies = procfs.descendants(of: helper).filter {
        !before.contains($0.hostPID) && ($0.command == command || $0.command.isEmpty)
      }
      if copies.isEmpty { return }
      usleep(5_000)
    }
  }
}
