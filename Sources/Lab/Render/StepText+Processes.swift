import Kernel

// Why the kernel does a process step (StepText.why) and the shell line that does the same
// (StepText.shell): the box's process, its start and end, and the programs run and killed in it.
extension StepText {
  /// The shell line of `box new`, `box rm`, `run` and `kill`.
  static func processShell(_ step: ProcessStep) -> String {
    switch step {
    case .boxNew:
      return "sleep infinity &    # any process can hold namespaces; boxwalk's is boxwalk-helper"
    case .boxRemove(let box):
      return "kill -KILL <\(box)>"
    case .run(let box, let argv, let background):
      return "nsenter --target <\(box)> --all " + argv.map(ShellWord.quote).joined(separator: " ")
        + (background ? " &" : "")
    case .kill(let box, let pid):
      return "kill -KILL <\(box):\(pid)>"
    }
  }

  /// `box new`, `box rm`, `run` and `kill`.
  static func whyProcess(_ step: ProcessStep) -> [String] {
    switch step {
    case .boxNew:
      return [
        "A container starts as an ordinary process. boxwalk forks boxwalk-helper, a small process",
        "that holds this box's namespaces (like containerd-shim or conmon). PR_SET_PDEATHSIG asks",
        "the kernel to kill it if boxwalk dies. Until you unshare, it sees what the host sees.",
        "See fork(2), prctl(2), execve(2).",
      ]
    case .boxRemove:
      return [
        "A namespace lives as long as a process (or an open file or bind mount) uses it. Killing",
        "the box's last process frees every namespace that only it used. See namespaces(7).",
      ]
    case .run(_, _, let background):
      return [
        "The box's helper forks; the child execs the program in every namespace of the box. In a new",
        "pid namespace the first child is PID 1: its init. When PID 1 exits, the kernel kills every",
        "other process in the namespace, and fork(2) into it fails with ENOMEM (pid_namespaces(7)).",
        background
          ? "In the background it runs until killed or until the box is removed, like docker run -d."
          : "In the foreground boxwalk waits for it with wait4(2); Ctrl-C kills it.",
      ]
    case .kill:
      return [
        "kill(2) with SIGKILL, which a process cannot catch or ignore. From an ancestor pid namespace",
        "SIGKILL reaches even the namespace's PID 1, which ignores every signal it has no handler for.",
      ]
    }
  }

  /// What an errno means for a process step, when there is something specific to teach (StepText.errnoHint).
  static func processErrnoHint(_ step: ProcessStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.run, .ENOMEM):
      return
        "the box's pid namespace is dead: its PID 1 exited, and the kernel lets no new process in (box new gives a fresh one)"
    case (.run, .EAGAIN):
      return
        "the box's cgroup is at pids.max: the pids controller refuses every fork past it (cgroup show counts the refusals)"
    case (.run, .ENOENT):
      return "execvp found no such program in the box's PATH (/bin:/usr/bin:/sbin:/usr/sbin)"
    default:
      return nil
    }
  }
}
