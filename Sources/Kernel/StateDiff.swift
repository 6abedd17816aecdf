/// What changed between two state trees, leaf by leaf. Volatile values never appear (SPEC §4).
/// A subtree that appears or disappears whole (a box created or removed) is one change.
public struct StateChange: Equatable, Sendable {
  public var path: StatePath
  public var old: StateValue?
  public var new: StateValue?

  public init(path: StatePath, old: StateValue?, new: StateValue?) {
    self.path = path
    self.old = old
    self.new = new
  }
}

public enum StateDiff {
  public static func between(_ old: StateValue, _ new: StateValue) -> [StateChange] {
    var out: [StateChange] = []
    walk(old.withoutVolatile, new.withoutVolatile, StatePath([]), &out)
    return out
  }

  private static func walk(_ a: StateValue?, _ b: StateValue?, _ path: StatePath, _ out: inout [StateChange]) {
    switch (a, b) {
    case (nil, nil): return
    case (.map(let ma)?, .map(let mb)?):
      for (k, va) in ma.entries { walk(va, mb[k], path.appending(key: k), &out) }
      for (k, vb) in mb.entries where ma[k] == nil { walk(nil, vb, path.appending(key: k), &out) }
    default:
      if a != b { out.append(StateChange(path: path, old: a, new: b)) }
    }
  }
}
