/// What changed between two state trees, leaf by leaf. Volatile values never appear
/// (docs/state-paths.md). A subtree that appears or disappears whole (a box created or removed, a
/// mount) is one change, except inside a box a map that holds maps (`fs`, `fs.files`): that one is
/// opened, so a new overlay shows as one row per file rather than one very long line.
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
    var path: [StatePath.Component] = []
    walk(old, new, &path, &out)
    return out
  }

  /// A top-level key of a tree and its place in the root's entries.
  public struct TopLevelKey: Equatable, Sendable {
    public var key: String
    public var index: Int
    /// The key is in the old tree only (at `index` there): its subtree was removed.
    public var removed: Bool
    public init(key: String, index: Int, removed: Bool = false) {
      self.key = key
      self.index = index
      self.removed = removed
    }
  }

  /// The same changes as `between(_:_:)` when `new` differs from `old` only under `keys` (in
  /// the order of the old tree, each where it is in `new`, or a removed one where it was in the
  /// old tree; `StateTreeBuilder.changedKeys`): the other keys are not visited, so the diff costs
  /// what changed, not the size of the tree. A key is looked for at its place in `old` first,
  /// where the last tree had it.
  public static func between(_ old: StateValue, _ new: StateValue, only keys: [TopLevelKey]) -> [StateChange] {
    guard case .map(let ma) = old, case .map(let mb) = new else { return between(old, new) }
    var out: [StateChange] = []
    var path: [StatePath.Component] = []
    let ea = ma.entries
    let eb = mb.entries
    for k in keys where k.removed {
      // The whole diff would see the key go: it must be in the old tree and not in the new.
      guard ma[k.key] != nil, mb[k.key] == nil else { return between(old, new) }
    }
    for k in keys {
      if k.removed {
        path.append(.key(k.key))
        walk(k.index < ea.count && ea[k.index].0 == k.key ? ea[k.index].1 : ma[k.key], nil, &path, &out)
        path.removeLast()
        continue
      }
      guard k.index < eb.count, eb[k.index].0 == k.key else { return between(old, new) }
      let va = k.index < ea.count && ea[k.index].0 == k.key ? ea[k.index].1 : ma[k.key]
      path.append(.key(k.key))
      walk(va, eb[k.index].1, &path, &out)
      path.removeLast()
    }
    return out
  }

  /// Walks both trees at once. A volatile value counts as absent, and a change carries its values
  /// without their volatile parts (`withoutVolatile`), exactly as if both trees had been stripped
  /// first; the trees are not copied, and a path is made only for a change. The diff runs after
  /// every step, on every backend.
  private static func walk(
    _ a: StateValue?, _ b: StateValue?, _ path: inout [StatePath.Component], _ out: inout [StateChange]
  ) {
    let a = a?.isVolatile == true ? nil : a
    let b = b?.isVolatile == true ? nil : b
    switch (a, b) {
    case (nil, nil): return
    case (.map(let ma)?, .map(let mb)?) where ma.isSameStorage(as: mb):
      // A subtree the builder reused from the last tree (its facts did not change): no change
      // inside, and no need to walk it.
      return
    case (.map(let ma)?, .map(let mb)?):
      // Two trees built by the same code list their keys in the same order: look at the same
      // position first, and search only when it holds another key.
      let ea = ma.entries
      let eb = mb.entries
      for (i, (k, va)) in ea.enumerated() where !va.isVolatile {
        path.append(.key(k))
        walk(va, i < eb.count && eb[i].0 == k ? eb[i].1 : mb[k], &path, &out)
        path.removeLast()
      }
      for (j, (k, vb)) in eb.enumerated() where !vb.isVolatile {
        let va = j < ea.count && ea[j].0 == k ? ea[j].1 : ma[k]
        guard va?.isVolatile != false else { continue }
        path.append(.key(k))
        walk(nil, vb, &path, &out)
        path.removeLast()
      }
    case (nil, .map(let m)?) where opens(m, path), (.map(let m)?, nil) where opens(m, path):
      // A map of maps inside a box (fs, fs.files, mounts of an overlay) that came or went whole:
      // one row per entry reads better than one very long line.
      for (k, v) in m.entries where !v.isVolatile {
        path.append(.key(k))
        walk(a == nil ? nil : v, a == nil ? v : nil, &path, &out)
        path.removeLast()
      }
    default:
      let old = a?.withoutVolatile
      let new = b?.withoutVolatile
      if old != new { out.append(StateChange(path: StatePath(path), old: old, new: new)) }
    }
  }

  private static func opens(_ m: StateMap, _ path: [StatePath.Component]) -> Bool {
    path.count >= 2 && m.entries.contains { if case .map = $0.1 { true } else { false } }
  }
}
