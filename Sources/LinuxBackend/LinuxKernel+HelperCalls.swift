import CShim
import HelperWire
import Kernel

// The conversation with the helpers: one request, one reply, and what a helper that is gone or
// out of protocol means for the step. A step's plan entries go as `calls` requests
// (LinuxKernel+Plan.swift, which turns an `err` into the failing entry's KernelError); this file
// is how any request is sent and its reply read.
extension LinuxKernel {
  /// How a program ended, as the kernel model says it.
  static func processExit(_ end: ProgramEnd) -> ProcessExit {
    switch end {
    case .exited(let code): .exited(code)
    case .signaled(let signal): .signaled(signal)
    }
  }

  func noSuchBox(_ box: String, step: Step) -> KernelError {
    KernelError(step: step, call: step.firstCall, errno: .ESRCH, detail: "no box named \(box)")
  }

  /// A failed `box new`, named by the step's calls: fork(), prctl(PR_SET_PDEATHSIG, SIGKILL),
  /// execve("boxwalk-helper").
  func spawnError(_ failure: HelperProcess.Failure, step: Step) -> KernelError {
    let (kind, entry) = spawnFailure(failure)
    return KernelError(step: step, call: step.entry(kind), errno: entry.errno, detail: entry.detail)
  }

  /// The entry of a helper's start (fork, prctl, execve) that `failure` stopped at, and how.
  /// bw_spawn_helper reports the stage that failed in the child; what comes after execve (the
  /// hello) is the execve's too: the program it ran did not start as a helper.
  func spawnFailure(_ failure: HelperProcess.Failure) -> (SystemCall.Kind, EntryFailure) {
    switch failure {
    case .spawn(let stage, let errno):
      let (kind, what): (SystemCall.Kind, String?) =
        switch stage {
        case BW_SPAWN_FORK.rawValue: (.fork, nil)
        case BW_SPAWN_PDEATHSIG.rawValue: (.prctlDeathSignal, nil)
        case BW_SPAWN_PARENT_GONE.rawValue:
          (.prctlDeathSignal, "boxwalk's thread died before the child armed its death signal")
        case BW_SPAWN_SETSID.rawValue: (.execve, "setsid(2) in the child failed, before execve")
        case BW_SPAWN_FDS.rawValue: (.execve, "setting up the child's file descriptors failed, before execve")
        case BW_SPAWN_SIGNALS.rawValue: (.execve, "resetting the child's signals failed, before execve")
        default: (.execve, "\(helperPath)")
        }
      return (kind, EntryFailure(Errno(rawValue: errno), detail: what))
    case .system(let error):
      return (.fork, EntryFailure(Errno(rawValue: error.errno), detail: "\(error.call) failed"))
    case .gone:
      return (.execve, EntryFailure(.ECONNRESET, detail: "\(helperPath) exited before saying hello"))
    case .protocolError(let what):
      return (.execve, EntryFailure(.EPROTO, detail: what))
    case .refused(let errno, let note):
      return (.execve, EntryFailure(Errno(rawValue: errno), detail: "boxwalk-helper " + note))
    }
  }

  /// One request to a helper and its reply. A helper that is gone or says something out of
  /// protocol becomes the KernelError `helperError` describes; what an `err` reply means is the
  /// caller's to say.
  func exchange(_ helper: HelperProcess, _ request: HelperRequest, step: Step?) throws(KernelError) -> HelperReply {
    try post(helper, request, step: step)
    return try collect(helper, step: step)
  }

  /// The two halves of `exchange`, for requests sent to several helpers before any reply is read
  /// (facts()): the helper answers in the order asked.
  func post(_ helper: HelperProcess, _ request: HelperRequest, step: Step?) throws(KernelError) {
    do {
      try helper.send(request)
    } catch {
      throw helperError(error, helper: helper, step: step)
    }
  }

  func collect(_ helper: HelperProcess, step: Step?) throws(KernelError) -> HelperReply {
    do {
      return try helper.reply()
    } catch {
      throw helperError(error, helper: helper, step: step)
    }
  }

  func helperError(_ failure: HelperProcess.Failure, helper: HelperProcess, step: Step?) -> KernelError {
    // The step's first call, or, outside any step (facts()), the uname(2) a helper was asked for.
    func failed(_ errno: Errno, detail: String? = nil) -> KernelError {
      guard let step else { return KernelError(call: "uname()", errno: errno, detail: detail) }
      return KernelError(step: step, call: step.firstCall, errno: errno, detail: detail)
    }
    switch failure {
    case .gone:
      // Said once: a step's error is the report (perform replaces this detail with how the helper
      // died, once it is reaped), and takeNotices then forgets the helper without a note. A state
      // read outside a step (no step) leaves the report to the next command's note.
      if step != nil { deathsReported.insert(helper.pid) }
      let detail =
        helper === hostNetwork
        ? "the helper of the lab network's host side is gone (killed or crashed); the next net command makes a new one"
        : "the helper for \(helper.box) is gone (killed or crashed); box new \(helper.box) starts the box again"
      return failed(.ECONNRESET, detail: detail)
    case .system(let error):
      return failed(Errno(rawValue: error.errno), detail: "\(error.call) to the helper for \(helper.box) failed")
    case .protocolError(let what):
      return failed(.EPROTO, detail: "the helper for \(helper.box) sent \(what)")
    case .spawn(_, let errno), .refused(let errno, _):
      return failed(Errno(rawValue: errno))
    }
  }
}
