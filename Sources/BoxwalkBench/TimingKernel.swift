import Kernel

/// A kernel that forwards to another and times what it forwards (the Kernel seam is injected,
/// nothing in Lab knows it is being measured). It splits a step's time into the kernel work
/// (`perform`), reading the state back (`facts`), and what is left: the session's word
/// splitting, state tree, diff and rendering.
final class TimingKernel: Kernel {
  let inner: any Kernel
  var backend: Backend { inner.backend }

  /// Milliseconds spent in perform and facts since the last reset, and how often facts ran.
  private(set) var performMilliseconds = 0.0
  private(set) var factsMilliseconds = 0.0
  private(set) var factsCalls = 0

  init(_ inner: any Kernel) { self.inner = inner }

  func reset() {
    performMilliseconds = 0
    factsMilliseconds = 0
    factsCalls = 0
  }

  func perform(_ step: Step) throws(KernelError) -> StepResult {
    let start = monotonicNanoseconds()
    defer { performMilliseconds += Double(monotonicNanoseconds() - start) / 1e6 }
    return try inner.perform(step)
  }

  func facts() throws(KernelError) -> KernelFacts {
    let start = monotonicNanoseconds()
    defer {
      factsMilliseconds += Double(monotonicNanoseconds() - start) / 1e6
      factsCalls += 1
    }
    return try inner.facts()
  }

  func teardown() { inner.teardown() }
}
