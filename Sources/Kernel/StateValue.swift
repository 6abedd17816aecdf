/// A value in the state tree (docs/state-paths.md): strings, integers, booleans, lists or maps. A
/// map keeps its keys in insertion order, so output is deterministic without sorting host-specific
/// data. A value is `volatile` when it depends on timing or the host (host PIDs, byte counts): it
/// is never in the default diff or tree dump, only where asked for.
public indirect enum StateValue: Equatable, Sendable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case list([StateValue])
  case map(StateMap)
  case volatile(StateValue)

  /// The value with any `volatile` wrapper removed.
  public var unwrapped: StateValue {
    if case .volatile(let v) = self { return v.unwrapped }
    return self
  }

  public var isVolatile: Bool {
    if case .volatile = self { return true }
    return false
  }

  public var isScalar: Bool {
    switch unwrapped {
    case .string, .int, .bool: true
    default: false
    }
  }

  /// The value with every volatile part removed (a volatile scalar becomes nil).
  public var withoutVolatile: StateValue? {
    switch self {
    case .volatile: return nil
    case .list(let items): return .list(items.compactMap(\.withoutVolatile))
    case .map(let m):
      return .map(StateMap(m.entries.compactMap { k, v in v.withoutVolatile.map { (k, $0) } }))
    default: return self
    }
  }

  /// One-line rendering as `show` prints scalars: strings in JSON quoting, numbers and booleans bare.
  public var scalarText: String {
    switch unwrapped {
    case .string(let s): return JSON.quote(s)
    case .int(let i): return String(i)
    case .bool(let b): return b ? "true" : "false"
    case .list(let l):
      let items = l.filter { !$0.isVolatile }
      return items.isEmpty ? "[]" : "[" + items.map(\.scalarText).joined(separator: ", ") + "]"
    case .map(let m):
      // Compact, one line: {fstype: "proc", source: "proc"}; volatile entries are left out.
      let entries = m.entries.filter { !$0.1.isVolatile }
      return "{" + entries.map { "\($0.0): \($0.1.scalarText)" }.joined(separator: ", ") + "}"
    case .volatile(let v): return v.scalarText
    }
  }

  public subscript(key: String) -> StateValue? {
    if case .map(let m) = unwrapped { return m[key] }
    return nil
  }
}

/// An insertion-ordered map of state values.
public struct StateMap: Equatable, Sendable {
  public private(set) var entries: [(String, StateValue)]
  /// Where each key is in `entries`, once the map has more than `indexedFrom` entries. A box
  /// decides how many entries some maps have (`fs.upper` has one per file it created), and a
  /// look-up by scanning would make building and comparing a map of N entries take N*N steps:
  /// 20,000 files in one directory stalled every later command for most of an hour. Small maps,
  /// nearly all of them, are scanned: that is faster than hashing for a few keys.
  private var index: [String: Int]?
  static let indexedFrom = 32

  public init(_ entries: [(String, StateValue)] = []) {
    self.entries = entries
    if entries.count > Self.indexedFrom { rebuildIndex() }
  }

  public var isEmpty: Bool { entries.isEmpty }
  public var keys: [String] { entries.map(\.0) }

  /// Where `key` is in `entries` (its first place), from the index or by a scan.
  func position(of key: String) -> Int? {
    if let index { return index[key] }
    return entries.firstIndex { $0.0 == key }
  }

  /// The first position of each key, as a scan would find it.
  private mutating func rebuildIndex() {
    var index: [String: Int] = [:]
    index.reserveCapacity(entries.count)
    for (i, entry) in entries.enumerated() where index[entry.0] == nil { index[entry.0] = i }
    self.index = index
  }

  private mutating func appended(_ key: String) {
    if index != nil {
      if index?[key] == nil { index?[key] = entries.count - 1 }
    } else if entries.count > Self.indexedFrom {
      rebuildIndex()
    }
  }

  public subscript(key: String) -> StateValue? {
    get { position(of: key).map { entries[$0].1 } }
    set {
      if let i = position(of: key) {
        if let newValue {
          entries[i].1 = newValue
        } else {
          entries.remove(at: i)
          if index != nil { rebuildIndex() }
        }
      } else if let newValue {
        entries.append((key, newValue))
        appended(key)
      }
    }
  }

  /// Adds an entry whose key the caller knows is not in the map yet, without looking for it:
  /// for building maps with fixed keys, after every step (StateTreeBuilder).
  mutating func appendNew(_ key: String, _ value: StateValue) {
    entries.append((key, value))
    appended(key)
  }

  mutating func reserveCapacity(_ n: Int) { entries.reserveCapacity(n) }

  /// Removes the entry at `index`; the entries after it move one place up. The index is changed
  /// where it is (the places after it counted down), not made again.
  mutating func remove(at index: Int) {
    let key = entries.remove(at: index).0
    guard var moved = self.index else { return }
    self.index = nil  // the only reference: changed in place
    let wasFirst = moved[key] == index
    for i in moved.values.indices where moved.values[i] > index { moved.values[i] -= 1 }
    // A key the map holds twice (a map made from entries) is then found at its next place.
    if wasFirst { moved[key] = entries[index...].firstIndex { $0.0 == key } }
    self.index = moved
  }

  /// Replaces the value of the entry at `index`, keeping its key and place.
  mutating func setValue(at index: Int, _ value: StateValue) { entries[index].1 = value }

  /// True when both maps hold the very same storage for their entries: one is a copy of the
  /// other with no change made since, as when StateTreeBuilder reuses a subtree. Such maps are
  /// equal without a look at any entry; false says nothing either way. (An array's elements stay
  /// where they are until the array is changed, and a changed copy gets storage of its own.)
  public func isSameStorage(as other: StateMap) -> Bool {
    entries.withUnsafeBufferPointer { a in
      other.entries.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress && a.count == b.count }
    }
  }

  public static func == (a: StateMap, b: StateMap) -> Bool {
    a.entries.count == b.entries.count
      && (a.isSameStorage(as: b) || zip(a.entries, b.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
  }
}
