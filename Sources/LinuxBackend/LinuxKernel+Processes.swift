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
      let helper = pool[index]
      try make(step) { entry throws(KernelError) in
        switch entry {
        // kill(2) with SIGKILL from boxwalk's own process, the helper's parent: the helper
        // dies, and with it every namespace only it held (a pid namespace's PID 1 takes its
        // namespace's processes with it, pid_namespaces(7)).
        case .kill: .here { helper.signalKill() }
        // waitpid(2): boxwalk reaps its child, so no zombie is left behind.
        case .waitpid: .here { helper.reap() }
        default: throw unplanned(entry, step)
        }
      }
      // Bookkeeping after the walk: the pool, the ledger, the box's cgroup and scratch files.
      forget(pool.remove(at: index))
    case .run(let box, let argv, let background):
      return try run(box, argv, background: background, step: step)
    case .kill(let box, let pid):
      try make(step) { entry throws(KernelError) in
        guard case .kill = entry else { throw unplanned(entry, step) }
        let helper = try helper(of: box, step: step)
        // The box's PID is the PID its own pid namespace gives it; the helper knows its
        // processes by their host PIDs, found in /proc (the NSpid line, proc(5)).
        guard let target = procfs.descendants(of: helper.pid).first(where: { $0.pid == pid }) else {
          throw KernelError(step: step, call: entry, errno: .ESRCH)
        }
        return .helper(.process(.kill(hostPID: Int32(target.hostPID))), helper)
      }
    }
    return .none
  }

  /// `run`: the helper forks, its child execs the program, and in the foreground the helper
  /// waits for it while the output streams back. Ctrl-C (SIGINT while waiting) kills the
  /// program's process group with SIGKILL: a PID 1 ignores every signal it has no handler for,
  /// SIGINT included.
  func run(_ box: String, _ argv: [String], background: Bool, step: Step) throws(KernelError) -> StepResult {
    let helper = try helper(of: box, step: step)
    // What already ran in the box before this program: see awaitForkedCopies.
    let before = Set(procfs.descendants(of: helper.pid).map(\.hostPID))
    let program = RunningProgram()
    let streaming = Streaming(
      onReply: { reply in
        switch reply {
        case .started(let hostPID, _): program.hostPID = hostPID
        case .out(let bytes): program.output += bytes
        default: break
        }
      },
      onInterrupt: { if bw_interrupt_take() != 0, let pid = program.hostPID { Glibc.kill(-pid, SIGKILL) } })
    let answers = try make(step, streaming: background ? nil : streaming) { entry throws(KernelError) in
      switch entry {
      case .fork: .helper(.process(.fork(argv: argv.map { Array($0.utf8) }, background: background)), helper)
      case .execvp: .helper(.process(.execvp), helper)
      case .wait4Child: .helper(.process(.wait4), helper)
      default: throw unplanned(entry, step)
      }
    }
    guard let started = answers.answer(where: { $0.kind == .execvp }, as: Started.self) else {
      throw KernelError(step: step, call: step.entry(.execvp), errno: .EPROTO, detail: "unexpected reply to run")
    }
    if background {
      // In the background too: a job the program forked at once (`sh -c 'sleep 90 & sleep
      // 100'`) is a copy of it until its execve. The program itself runs on, as it should.
      awaitForkedCopies(of: argv, helper: helper.pid, before: before.union([Int(started.hostPID)]))
      return StepResult(boxPID: Int(started.boxPID))
    }
    guard let end = answers.answer(where: { $0.kind == .wait4Child }, as: ProgramEnd.self) else {
      throw KernelError(step: step, call: step.entry(.wait4Child), errno: .EPROTO, detail: "unexpected end of run")
    }
    var lines = program.output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    if lines.last == "" { lines.removeLast() }
    awaitForkedCopies(of: argv, helper: helper.pid, before: before)
    return StepResult(output: lines, exit: Self.processExit(end), boxPID: Int(started.boxPID))
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

  /// How an entry of a helper's start is made (`box new`'s three, `net outside`'s fork and
  /// execve): the fork entry runs bw_spawn_helper (Sources/CShim/spawn.c), which forks, has
  /// the child arm prctl(PR_SET_PDEATHSIG, SIGKILL) (so a boxwalk that dies takes its helpers
  /// along) and execve(2) boxwalk-helper, then waits for its hello. The child reports the stage
  /// that failed; each later entry fails with its own stage's error, and the last one with any
  /// the plan has no entry for. nil for an entry that is not part of a start.
  func starting(_ entry: SystemCall, _ start: HelperStart) -> Making? {
    switch entry.kind {
    case .fork:
      return .here { () throws(EntryFailure) in
        do throws(HelperProcess.Failure) {
          start.helper = try HelperProcess.spawn(box: start.box, executable: self.helperPath, procfs: self.procfs)
        } catch {
          let (kind, failure) = self.spawnFailure(error)
          if kind == .fork { throw failure }
          start.failure = (kind, failure)
        }
      }
    case .prctlDeathSignal:
      return .here { () throws(EntryFailure) in
        if let (kind, failure) = start.failure, kind == .prctlDeathSignal { throw failure }
      }
    case .execve:
      return .here { () throws(EntryFailure) in
        if let (_, failure) = start.failure { throw failure }
      }
    default:
      return nil
    }
  }
}

/// A foreground program while its output streams in (LinuxKernel.run).
final class RunningProgram {
  var hostPID: Int32?
  var output: [UInt8] = []
}

/// A helper being started, entry by entry (LinuxKernel.starting): the helper once it said hello,
/// or the stage its start failed at, for that stage's entry to report.
final class HelperStart {
  let box: String
  var helper: HelperProcess?
  var failure: (SystemCall.Kind, EntryFailure)?
  init(_ box: String) { self.box = box }
}
