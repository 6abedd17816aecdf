import Kernel

extension LinuxKernel {
  func performLayerStep(_ step: Step) throws(KernelError) -> StepResult {
    throw KernelError(step: step, call: step.calls.first ?? step.kindName, errno: .ENOSYS)
  }
}
