import Kernel

/// What one state-changing step did: kept for `diff` and `explain`.
public struct StepRecord: Sendable {
  public var input: String
  public var step: Step
  public var changes: [StateChange]
  public var treeAfter: StateValue
  /// The step's shell line as it ran (it names the box's root as it was then).
  public var shell: String
}
