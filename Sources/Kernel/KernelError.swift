/// A failed kernel operation: which call, with which arguments, and the errno by name (never
/// strerror text), e.g. `sethostname("lab"): EPERM`. `step` says which learner step it belonged to.
public struct KernelError: Error, Equatable, Sendable, CustomStringConvertible {
  public var step: Step?
  /// The entry of the step's plan that failed (Step.plan, Kernel/Steps/), when the failure is one of them;
  /// nil for a call outside any step (reading a file for `cat`).
  public var failed: SystemCall?
  /// The call as strace would print it, flags by name: `unshare(CLONE_NEWPID)`.
  public var call: String
  public var errno: Errno
  /// Optional extra context from the backend ("the helper for web exited").
  public var detail: String?
  /// Set when the backend refuses a step before any system call, for a reason the learner should
  /// read first (the rootless backend: "cgroup new needs root on this machine; ..."). The
  /// renderer makes it the error's headline.
  public var refusal: String?

  public init(step: Step? = nil, call: String, errno: Errno, detail: String? = nil) {
    self.step = step
    self.call = call
    self.errno = errno
    self.detail = detail
  }

  /// The step's plan entry `call` failed with `errno`; the kernels find the entry in the plan
  /// with `Step.entry`, so the text is the text of the step's `syscall` line.
  public init(step: Step, call: SystemCall, errno: Errno, detail: String? = nil) {
    self.init(step: step, call: call.description, errno: errno, detail: detail)
    self.failed = call
  }

  public var description: String { "\(call): \(errno.name)" + (detail.map { " (\($0))" } ?? "") }
}
