import Kernel

extension LinuxKernel {
  func performNet(_ step: Step) throws(KernelError) -> StepResult {
    throw KernelError(step: step, call: step.calls[0], errno: .ENOSYS)
  }
}
