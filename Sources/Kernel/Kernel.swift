/// The seam between the lab and a kernel (STYLE 4). The simulator and the Linux backend both
/// implement it; everything above takes `any Kernel` through its initialiser.
public protocol Kernel: AnyObject {
  /// Which backend this is: printed on the REPL's first line and in `state --json`.
  var backend: Backend { get }

  /// Carry out one step. On error nothing has changed (the backend rolls back what it did).
  func perform(_ step: Step) throws(KernelError) -> StepResult

  /// What the kernel looks like now: the host and every box, in creation order.
  func facts() throws(KernelError) -> KernelFacts

  /// Kill every box and remove every host-side object. Safe to call twice.
  func teardown()
}

public enum Backend: String, CaseIterable, Sendable {
  case sim, real, rootless
}
