import Kernel
import Simulator

/// The errno `step` fails with on `k`, or nil when it succeeds.
func errno(_ k: SimulatedKernel, _ step: Step) -> Errno? {
  do {
    try k.perform(step)
    return nil
  } catch {
    return error.errno
  }
}
