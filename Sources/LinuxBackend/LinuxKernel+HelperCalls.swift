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
    guard let helper = helpers.first(where: { $0.box == box }) else { throw noSuchBox(box, step: step) }
    let reply = try exchange(helper, request, step: step)
    switch reply {
    case .ok: return reply
    case .started where streaming: return reply
    case .err(let errno, let call, let note):
      let index = Self.callIndex(step, failed: call)
      // A helper's bare "open" is of a namespace file (join), except for `cgroup new`, whose
      // open(2) of the box's cgroup.procs the step's call already names.
      let namespaceFile = call == "open" && step.kindName != "cgroup-new"
      let detail = note ?? (namespaceFile ? "open(2) of the namespace file failed" : nil)
      throw KernelError(step: step, call: Self.call(step, index), errno: Errno(rawValue: errno), detail: detail)
    case .hello, .started, .out:
      throw KernelError(
        step: step, call: Self.call(step, 0), errno: .EPROTO, detail: "the helper for \(box) sent a second hello")
    }
  }

  /// `ask`, and the `ok` reply read as the answer `request` has (HelperAnswers.swift); an `ok`
  /// that is not one is the helper speaking out of protocol.
  func ask<A: HelperAnswer>(_ box: String, _ request: HelperRequest, step: Step, answer: A.Type)
    throws(KernelError) -> A
  {
    guard let answer = try ask(box, request, step: step).answer(as: A.self) else {
      throw KernelError(
        step: step, call: Self.call(step, 0), errno: .EPROTO, detail: "unexpected reply to \(request.verb)")
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

  /// Which of the step's calls the helper's failing call is: the one that starts with its name
  /// (unshare with mnt makes two calls; pivot-root five).
  static func callIndex(_ step: Step, failed call: String) -> Int {
    if step.kindName == "unshare", call == "mount" { return step.calls.firstIndex(of: Step.makeRootPrivateCall) ?? 0 }
    // A step of many calls of the same names (`mount dev`): the helper counts them itself.
    if call.hasPrefix("call#"), let n = Int(call.dropFirst(5)), step.calls.indices.contains(n) { return n }
    if call == "openat2(target)" { return step.mountTargetCallIndex }
    if call == "openat2(source)" { return step.mountSourceCallIndex }
    // The overlay's stages: "fsconfig(upperdir)" is the call that sets "upperdir".
    if call.hasPrefix("fsconfig("), let key = call.dropFirst(9).split(separator: ")").first {
      let name = key == "FSCONFIG_CMD_CREATE" ? "FSCONFIG_CMD_CREATE" : "\"\(key)\""
      return step.calls.firstIndex { $0.hasPrefix("fsconfig(") && $0.contains(name) } ?? 0
    }
    return step.calls.firstIndex { $0.hasPrefix(call + "(") } ?? 0
  }

  /// The step's `index`th call, exactly as `Step.calls` writes it, so both kernels name failing
  /// calls alike.
  static func call(_ step: Step, _ index: Int) -> String {
    let calls = step.calls
    return calls.indices.contains(index) ? calls[index] : calls.last ?? step.kindName
  }

  func noSuchBox(_ box: String, step: Step) -> KernelError {
    KernelError(step: step, call: Self.call(step, 0), errno: .ESRCH, detail: "no box named \(box)")
  }

  /// A failed `box new`, named by the step's calls: fork(), prctl(PR_SET_PDEATHSIG, SIGKILL),
  /// execve("boxwalk-helper").
  func spawnError(_ failure: HelperProcess.Failure, step: Step) -> KernelError {
    switch failure {
    case .spawn(let stage, let errno):
      let (index, what): (Int, String?) =
        switch stage {
        case BW_SPAWN_FORK.rawValue: (0, nil)
        case BW_SPAWN_PDEATHSIG.rawValue: (1, nil)
        case BW_SPAWN_PARENT_GONE.rawValue: (1, "boxwalk's thread died before the child armed its death signal")
        case BW_SPAWN_SETSID.rawValue: (2, "setsid(2) in the child failed, before execve")
        case BW_SPAWN_FDS.rawValue: (2, "setting up the child's file descriptors failed, before execve")
        case BW_SPAWN_SIGNALS.rawValue: (2, "resetting the child's signals failed, before execve")
        default: (2, "\(helperPath)")
        }
      return KernelError(step: step, call: Self.call(step, index), errno: Errno(rawValue: errno), detail: what)
    case .system(let error):
      return KernelError(
        step: step, call: Self.call(step, 0), errno: Errno(rawValue: error.errno), detail: "\(error.call) failed")
    case .gone:
      return KernelError(
        step: step, call: Self.call(step, 2), errno: .ECONNRESET, detail: "\(helperPath) exited before saying hello")
    case .protocolError(let what):
      return KernelError(step: step, call: Self.call(step, 2), errno: .EPROTO, detail: what)
    case .refused(let errno, let note):
      return KernelError(
        step: step, call: Self.call(step, 2), errno: Errno(rawValue: errno), detail: "boxwalk-helper " + note)
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
    let call = step.map { Self.call($0, 0) } ?? "uname()"
    switch failure {
    case .gone:
      // The next command reports the death and forgets what died (takeNotices).
      let detail =
        helper === hostNetwork
        ? "the helper of the lab network's host side is gone (killed or crashed); the next net command makes a new one"
        : "the helper for \(helper.box) is gone (killed or crashed); box new \(helper.box) starts the box again"
      return KernelError(step: step, call: call, errno: .ECONNRESET, detail: detail)
    case .system(let error):
      return KernelError(
        step: step, call: call, errno: Errno(rawValue: error.errno),
        detail: "\(error.call) to the helper for \(helper.box) failed")
    case .protocolError(let what):
      return KernelError(step: step, call: call, errno: .EPROTO, detail: "the helper for \(helper.box) sent \(what)")
    case .spawn(_, let errno), .refused(let errno, _):
      return KernelError(step: step, call: call, errno: Errno(rawValue: errno))
    }
  }
}
