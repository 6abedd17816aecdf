import HelperWire
import Kernel

// A step's plan made on the real kernel, entry by entry (docs/architecture.md, "One step, from
// the prompt to the kernel"). Each area's file says how each entry of its plans is made
// (`Making`): by a helper, which gets the entry as a HelperCall, or by boxwalk's own process.
// This file walks the plan in order. Consecutive entries for the same helper go to it as one
// `calls` request, which it makes one by one, stopping at the first failure; an error names the
// entry that failed, which is the plan's own value, never text.

/// How one entry of a step's plan is made on the real kernel.
enum Making {
  /// By `helper`, as `call`: sent with the entries next to it for the same helper.
  case helper(HelperCall, HelperProcess)
  /// By a helper, as the call `resolve` returns, with the helper, once every entry before it is
  /// made: for a call that names what an earlier entry made (a new link's index, the cgroup
  /// boxwalk just made), or whose helper an earlier entry of the same plan started (`net
  /// outside`'s own).
  case helperAfter(() throws(KernelError) -> (HelperCall, HelperProcess))
  /// By boxwalk's own process: `make` makes it, and throws how it failed.
  case here(() throws(EntryFailure) -> Void)
}

/// How an entry boxwalk makes itself failed: the errno, and what to say beside it.
struct EntryFailure: Error {
  var errno: Errno
  var detail: String?
  init(_ errno: Errno, detail: String? = nil) {
    self.errno = errno
    self.detail = detail
  }
}

/// What a step does with the replies a helper sends before the answer to a `calls` request: a
/// foreground `run`'s `started` and `out` (its program's output, streamed while the helper makes
/// the wait4 entry). Without one, such a reply is out of protocol.
struct Streaming {
  /// Each `started` or `out` reply, in order.
  var onReply: (HelperReply) -> Void
  /// Run when a signal interrupts the wait for the next reply (Ctrl-C).
  var onInterrupt: () -> Void
}

/// What the helpers answered for the entries of a plan, by the entry's position in the plan.
struct PlanAnswers {
  fileprivate var byPosition: [Int: [[UInt8]]] = [:]
  fileprivate var plan: [SystemCall] = []

  /// The answer to the first entry of the plan `matches` accepts, read as an `A`.
  func answer<A: HelperAnswer>(where matches: (SystemCall) -> Bool, as type: A.Type = A.self) -> A? {
    guard let n = plan.firstIndex(where: matches), let fields = byPosition[n] else { return nil }
    return A(fields: fields)
  }
}

extension LinuxKernel {
  /// Make `step`'s plan: `making` says, for each entry in order, how it is made (it is asked for
  /// every entry before any is made, so a box that does not exist stops the step before it
  /// starts). The entries are then made in plan order.
  @discardableResult
  func make(
    _ step: Step, streaming: Streaming? = nil, _ making: (SystemCall) throws(KernelError) -> Making
  ) throws(KernelError) -> PlanAnswers {
    let plan = step.plan
    var ways: [Making] = []
    for entry in plan { ways.append(try making(entry)) }
    var answers = PlanAnswers(plan: plan)
    // The helper entries waiting to be sent, with their positions in the plan.
    var batch: [(position: Int, call: HelperCall)] = []
    var batchHelper: HelperProcess?
    func flush() throws(KernelError) {
      guard let helper = batchHelper, !batch.isEmpty else { return }
      let sent = batch
      batch = []
      batchHelper = nil
      var reply = try exchange(helper, .calls(sent.map(\.call)), step: step)
      while let streaming, reply.isStreamed {
        streaming.onReply(reply)
        do {
          reply = try helper.nextReply(onInterrupt: streaming.onInterrupt)
        } catch {
          throw helperError(error, helper: helper, step: step)
        }
      }
      switch reply {
      case .ok:
        guard let got = reply.answer(as: CallAnswers.self), got.answers.count == sent.count else {
          throw KernelError(
            step: step, call: plan[sent[0].position], errno: .EPROTO,
            detail: "the helper for \(helper.box) answered \(sent.count) calls out of protocol")
        }
        for (i, item) in sent.enumerated() { answers.byPosition[item.position] = got.answers[i] }
      case .err(let errno, .planEntry(let n), let note) where sent.indices.contains(n):
        throw KernelError(step: step, call: plan[sent[n].position], errno: Errno(rawValue: errno), detail: note)
      case .err(let errno, _, let note):
        throw KernelError(step: step, call: plan[sent[0].position], errno: Errno(rawValue: errno), detail: note)
      case .hello, .started, .out:
        throw KernelError(
          step: step, call: plan[sent[0].position], errno: .EPROTO,
          detail: "the helper for \(helper.box) sent a reply out of protocol")
      }
    }
    func add(_ call: HelperCall, _ helper: HelperProcess, at position: Int) throws(KernelError) {
      if let waiting = batchHelper, waiting !== helper { try flush() }
      batchHelper = helper
      batch.append((position, call))
    }
    for (position, way) in ways.enumerated() {
      switch way {
      case .helper(let call, let helper):
        try add(call, helper, at: position)
      case .helperAfter(let resolve):
        try flush()
        let (call, helper) = try resolve()
        try add(call, helper, at: position)
      case .here(let makeIt):
        try flush()
        do {
          try makeIt()
        } catch {
          throw KernelError(step: step, call: plan[position], errno: error.errno, detail: error.detail)
        }
      }
    }
    try flush()
    return answers
  }

  /// An entry the area's code has no way to make: a plan and its making out of step (a bug).
  func unplanned(_ entry: SystemCall, _ step: Step) -> KernelError {
    assertionFailure("LinuxKernel does not make \(entry) in \(step)")
    return KernelError(step: step, call: entry, errno: .ENOSYS, detail: "boxwalk cannot make this call here")
  }

  /// The helper of `box`, for an entry it makes; the step fails before anything is made without one.
  func helper(of box: String, step: Step) throws(KernelError) -> HelperProcess {
    guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
    return helper
  }
}

extension HelperReply {
  /// A reply that comes before a request's answer: a foreground program's start or output.
  fileprivate var isStreamed: Bool {
    switch self {
    case .started, .out: true
    case .hello, .ok, .err: false
    }
  }
}
