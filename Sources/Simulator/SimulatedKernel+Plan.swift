import Kernel

// A step's plan made on the model, entry by entry, as the real kernel makes it
// (docs/architecture.md, "One step, from the prompt to the kernel"). Each area's file models
// each entry of its plans: what the call checks, in the order the kernel checks it, and what it
// changes. An entry that fails stops the step there, with what the entries before it changed
// still changed, as on the real kernel (a failed step is undone only where the real kernel
// undoes it: boxwalk-helper's undo of an unshare(2) whose make-private failed, say).
extension SimulatedKernel {
  /// Make `step`'s plan: `makeEntry` models one entry, and throws the error that entry fails
  /// with, naming that entry (a debug build checks it), or a later one for what the entry does
  /// ahead for it (the overlay's fsopen(2) entry reaches the directories its fsconfig(2)
  /// entries name first, as boxwalk-helper does).
  func make(_ step: Step, _ makeEntry: (SystemCall) throws(KernelError) -> Void) throws(KernelError) {
    let plan = step.plan
    for (n, entry) in plan.enumerated() {
      do {
        try makeEntry(entry)
      } catch {
        assert(error.failed.map { plan[n...].contains($0) } ?? true, "\(entry) failed as \(error.call)")
        throw error
      }
    }
  }

  /// An entry the area's model does not make: a plan and its model out of step (a bug).
  func unmodeled(_ entry: SystemCall, _ step: Step) -> KernelError {
    assertionFailure("the simulator does not model \(entry) in \(step)")
    return KernelError(step: step, call: entry, errno: .ENOSYS, detail: "the simulator does not model this call")
  }
}
