import Kernel
import Simulator

/// The error `step` fails with on `k` (the plan entry it names, the errno), or nil when it succeeds.
func failure(_ k: SimulatedKernel, _ step: Step) -> KernelError? {
  do {
    try k.perform(step)
    return nil
  } catch {
    return error
  }
}

/// The errno `step` fails with on `k`, or nil when it succeeds.
func errno(_ k: SimulatedKernel, _ step: Step) -> Errno? {
  do {
    try k.perform(step)
    return nil
  } catch {
    return error.errno
  }
}
