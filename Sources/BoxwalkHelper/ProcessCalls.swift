import HelperWire

/// The process area's plan entries, made by the helper on the processes it started (Calls.swift).
extension BoxOperations {
  func make(_ call: ProcessCall, _ state: inout CallState, channel: Channel) -> Calls.Outcome {
    switch call {
    case .fork(let argv, let background): return forkProgram(argv, background: background, &state)
    case .execvp: return execProgram(&state, channel: channel)
    case .wait4: return waitProgram(&state, channel: channel)
    case .kill(let pid):
      // kill(2) through a pidfd (pidfd_open(2), pidfd_send_signal(2)): the pid cannot be reused
      // by another process between the lookup and the signal. SIGKILL cannot be caught or
      // ignored, except by a PID 1 for signals sent from inside its own pid namespace (the
      // helper is outside it). The helper then reaps it, as its parent or as the subreaper its
      // orphans go to, so `kill` is done when the process is gone (BoxOperations.kill).
      return kill(pid)
    }
  }
}
