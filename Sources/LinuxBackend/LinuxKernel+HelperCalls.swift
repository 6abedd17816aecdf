import CShim
import HelperWire
import Kernel

// The conversation with the helpers: one request, one reply, and what a reply that is not `ok`
// means for the step. LinuxKernel.swift decides what to ask; this file is how it is asked and how
// a failing system call in a helper becomes the step's KernelError, named as the step prints it.
extension LinuxKernel {
  /// Send `request` to the box's helper; an `err` reply becomes a KernelError naming the call
  /// exactly as `Step.calls` does.
  @discardableResult
  func ask(_ box: String, _ request: HelperRequest, step: Step, streaming: Bool = false)
    throws(KernelError) -> HelperReply
  {
    guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
    let reply = try exchange(helper, request, step: step)
    switch reply {
    case .ok: return reply
    case .started where streaming: return reply
    case .err(let errno, let call, let note):
      // A helper's bare "open" is of a namespace file (join), except for `cgroup new`, whose
      // open(2) of the box's cgroup.procs the step's call already names.
      let namespaceFile: Bool =
        if case .cgroup(.cgroupNew) = step { false } else { call == .open }
      let detail = note ?? (namespaceFile ? "open(2) of the namespace file failed" : nil)
      throw KernelError(step: step, call: Self.entry(step, failed: call), errno: Errno(rawValue: errno), detail: detail)
    case .hello, .started, .out:
      throw KernelError(
        step: step, call: step.firstCall, errno: .EPROTO, detail: "the helper for \(box) sent a second hello")
    }
  }

  /// `ask`, and the `ok` reply read as the answer `request` has (HelperAnswers.swift); an `ok`
  /// that is not one is the helper speaking out of protocol.
  func ask<A: HelperAnswer>(_ box: String, _ request: HelperRequest, step: Step, answer: A.Type)
    throws(KernelError) -> A
  {
    guard let answer = try ask(box, request, step: step).answer(as: A.self) else {
      throw KernelError(
        step: step, call: step.firstCall, errno: .EPROTO, detail: "unexpected reply to \(request.verb)")
    }
    return answer
  }

  /// How a program ended, as the kernel model says it.
  static func processExit(_ end: ProgramEnd) -> ProcessExit {
    switch end {
    case .exited(let code): .exited(code)
    case .signaled(let signal): .signaled(signal)
    }
  }

  /// The entry of the step's plan a helper's failing call is. The helper names the system call
  /// (FailedCall: `.sethostname`, `.mount` for the make-private after unshare mnt), or the
  /// entry's position in the plan (`.planEntry(N)`; a `calls` request's positions are mapped in
  /// LinuxKernel.make, LinuxKernel+Plan.swift). A call the plan lacks is the step's first call.
  static func entry(_ step: Step, failed call: FailedCall) -> SystemCall {
    let plan = step.plan
    switch call {
    case .planEntry(let n):
      return plan.indices.contains(n) ? plan[n] : step.firstCall
    default:
      return plan.first { call.makes($0) } ?? step.firstCall
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
