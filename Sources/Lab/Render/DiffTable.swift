import Kernel

/// Renders a state diff with host and box side by side: for a change in box `web`, the
/// row shows the host's value of the same path beside the box's old and new value, so the learner
/// sees at a glance that the box changed and the host did not.
///
///     changed   host      web
///     ns.uts    "uts:0"   "uts:0" -> "uts:1"
enum DiffTable {
  static func lines(_ changes: [StateChange], tree: StateValue) -> [String] {
    var out: [String] = []
    var groups: [(String, [StateChange])] = []
    for c in changes.flatMap(outsideExpanded).flatMap(expanded) {
      guard case .key(let top)? = c.path.components.first else { continue }
      if let i = groups.firstIndex(where: { $0.0 == top }) {
        groups[i].1.append(c)
      } else {
        groups.append((top, [c]))
      }
    }
    for (top, group) in groups {
      var rows: [[String]] = []
      for c in group {
        let rel = StatePath(Array(c.path.components.dropFirst()))
        if rel.components.isEmpty {
          // A whole box appeared or disappeared.
          if let new = c.new {
            out.append("  + \(top)  " + namespaceSummary(new))
          } else {
            out.append("  - \(top)")
          }
          continue
        }
        // The host's value beside the box's, unless it is volatile (never printed by default).
        let hostValue = tree.value(at: StatePath([.key("host")] + rel.components)).flatMap { $0.withoutVolatile }
        for change in describe(c.old, c.new) {
          rows.append(
            top == "host" || top == OutsideNet.name
              ? [rel.description, change] : [rel.description, hostValue?.scalarText ?? "-", change])
        }
      }
      if rows.isEmpty { continue }
      let header = top == "host" || top == OutsideNet.name ? ["changed", top] : ["changed", "host", top]
      out += table([header] + rows)
    }
    return out
  }

  /// The outside is not a box: when it appears or goes, its parts are shown (`net.links.eth0`,
  /// `net.routes`), beside nothing but itself.
  static func outsideExpanded(_ c: StateChange) -> [StateChange] {
    guard c.path.components == [.key(OutsideNet.name)], case .map(let m)? = c.new ?? c.old else { return [c] }
    return m.entries.map { key, value in
      StateChange(path: c.path.appending(key: key), old: c.old == nil ? nil : value, new: c.new == nil ? nil : value)
    }
  }

  /// A map of maps that appears or goes whole inside a box (a box's `net` after `unshare net`) is
  /// shown one inner map per row (`net.links.lo`, `net.routes`), not as one long line. A whole box,
  /// and a map of scalars (`mounts["/mnt"]`), stay one row.
  static func expanded(_ c: StateChange) -> [StateChange] {
    guard c.path.components.count > 1 else { return [c] }
    let whole = c.new ?? c.old
    guard case .map(let m)? = whole, m.entries.contains(where: { if case .map = $0.1 { true } else { false } }) else {
      return [c]
    }
    return m.entries.flatMap { key, value in
      expanded(
        StateChange(path: c.path.appending(key: key), old: c.old == nil ? nil : value, new: c.new == nil ? nil : value))
    }
  }

  /// How one value changed. Two lists show the items that came and went, one per row (a process
  /// started, an IPC object made), rather than two long lists side by side.
  static func describe(_ old: StateValue?, _ new: StateValue?) -> [String] {
    switch (old, new) {
    case (.list(let o)?, .list(let n)?):
      let gone = o.filter { !n.contains($0) }.map { "- " + $0.scalarText }
      let came = n.filter { !o.contains($0) }.map { "+ " + $0.scalarText }
      let rows = gone + came
      return rows.isEmpty ? ["\(old?.scalarText ?? "") -> \(new?.scalarText ?? "") (reordered)"] : rows
    case (let o?, let n?): return ["\(brief(o)) -> \(brief(n))"]
    case (nil, let n?): return ["\(brief(n)) (new)"]
    case (let o?, nil): return ["\(brief(o)) (gone)"]
    case (nil, nil): return []
    }
  }

  /// A value as one cell, cut short when it would fill the screen: a directory copied into a
  /// box's upper layer made one cell of 2,000 characters that buried the rest of the step. The
  /// whole value is a `show` away.
  static func brief(_ value: StateValue) -> String {
    let text = value.scalarText
    guard text.count > 160 else { return text }
    switch value.unwrapped {
    case .map(let m) where m.entries.count > 3:
      let first = m.entries.prefix(3).map { "\($0.0): \($0.1.scalarText)" }.joined(separator: ", ")
      return "{\(m.entries.count) entries: \(first), ... (show lists them)}"
    case .list(let items) where items.count > 3:
      return "[\(items.count) items: " + items.prefix(3).map(\.scalarText).joined(separator: ", ")
        + ", ... (show lists them)]"
    default:
      return text
    }
  }

  /// `cgroup:0 ipc:0 ...`: a new box's namespaces, one label per kind.
  static func namespaceSummary(_ box: StateValue) -> String {
    guard case .map(let ns)? = box["ns"]?.unwrapped else { return "" }
    return ns.entries.map { $0.1.unwrapped.stringValue ?? "" }.joined(separator: " ")
  }

  /// Left-aligned columns, two spaces apart, indented by two. Widths count Characters, as a
  /// terminal shows them; each cell is counted once (counting is the costly part, and a diff
  /// table is printed after every step).
  static func table(_ rows: [[String]]) -> [String] {
    let counts = rows.map { $0.map(\.count) }
    var widths: [Int] = []
    for r in counts {
      for (i, n) in r.enumerated() {
        if i == widths.count { widths.append(n) } else { widths[i] = max(widths[i], n) }
      }
    }
    return zip(rows, counts).map { r, n in
      var line = " "
      for (i, cell) in r.enumerated() {
        line += " "
        line += cell
        // The last cell of a row is not padded: no trailing blanks.
        if i < r.count - 1 { line += String(repeating: " ", count: widths[i] - n[i] + 1) }
      }
      return line
    }
  }
}

extension StateValue {
  var stringValue: String? {
    if case .string(let s) = unwrapped { return s }
    return nil
  }
}
