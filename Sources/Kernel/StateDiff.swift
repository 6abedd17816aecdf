/// What changed between two state trees, leaf by leaf. Volatile values never appear (SPEC §4).
/// A subtree that appears or disappears whole (a box created or removed, a mount) is one change,
/// except inside a box a map that holds maps (`fs`, `fs.files`): that one is opened, so a new
/// overlay shows as one row per file rather than one very long line.
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
    case (nil, .map(let m)?) where opens(m, path), (.map(let m)?, nil) where opens(m, path):
      for (k, v) in m.entries { walk(a == nil ? nil : v, a == nil ? v : nil, path.appending(key: k), &out) }
    default:
      if a != b { out.append(StateChange(path: path, old: a, new: b)) }
    }
  }

  private static func opens(_ m: StateMap, _ path: StatePath) -> Bool {
    path.components.count >= 2 && m.entries.contains { if case .map = $0.1 { true } else { false } }
  }
}
