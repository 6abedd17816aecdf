import Kernel

/// What one state-changing step did: kept for `diff` and `explain`.
public struct StepRecord: Sendable {
  public var input: String
  public var step: Step
  public var changes: [StateChange]
  /// The tree after the step as `diff` needs it: a root with the host's subtree only (its values
  /// stand beside the boxes' in the table). Keeping the whole tree would make the next step copy
  /// its root (StateTreeBuilder.replaced).
  public var hostAfter: StateValue
  /// The step's shell line as it ran (it names the box's root as it was then).
  public var shell: String
}

/// What the step's summary compares of the kernel's facts before the step with the facts after:
/// the step's box's own facts, and for a mount step every other box's mounts (a shared mount
/// reaches its peers). Only these are kept, not the whole facts: readBack changes the session's
/// facts in place, and a copy of them all would make it copy every box's.
struct FactsBefore {
  /// The step's box as it was; nil for a step of the lab's host or outside, or a new box.
  let box: ProcessFacts?
  /// Each box's mounts, by box name (mount steps only; empty otherwise).
  let mounts: [String: [MountFacts]]

  init(_ step: Step, _ facts: KernelFacts) {
    box = step.owner.box.flatMap(facts.box)?.process
    if case .mount = step {
      mounts = Dictionary(facts.boxes.map { ($0.name, $0.process.mounts) }, uniquingKeysWith: { a, _ in a })
    } else {
      mounts = [:]
    }
  }
}

extension StateValue {
  /// This tree with its `host` entry only.
  var hostOnly: StateValue {
    guard case .map(let m) = self, let host = m["host"] else { return .map(StateMap()) }
    return .map(StateMap([("host", host)]))
  }
}
