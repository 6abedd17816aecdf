import Kernel

/// The pictures as SVG, for `boxwalk export --html`: drawn from the same models as the terminal
/// pictures. Every element carries a class and data attributes naming what it stands for
/// (`<g class="netns" data-name="web">`, `<line class="link veth" data-a="host:veth-web"
/// data-b="web:eth0">`, `<g class="layer" data-layer="busybox">`), so the page can be checked
/// against the state it shows, and styled by its stylesheet rather than by inline colours.
public enum PictureSVG {
  /// One picture as an `<svg>` element, or nil when it has nothing to show.
  public static func draw(_ kind: PictureKind, _ input: PictureInput) -> String? {
    switch kind {
    case .ns: return namespaces(NamespaceGrid(input))
    case .mounts: return MountTree(input).map(mounts)
    case .layers: return LayerStack(input).map(layers)
    case .net:
      let map = NetMap(input)
      return map.sides.isEmpty ? nil : net(map)
    case .cgroups:
      let tree = CgroupTree(input)
      return tree.groups.isEmpty ? nil : cgroups(tree)
    }
  }

  static let row = 22
  static let charWidth = 7.4

  static func svg(_ kind: PictureKind, width: Int, height: Int, title: String, _ body: [String]) -> String {
    ([
      "<svg class=\"picture picture-\(kind.rawValue)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" "
        + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(xml(title))\">",
      "<title>\(xml(title))</title>",
    ] + body + ["</svg>"]).joined(separator: "\n")
  }

  static func text(_ x: Double, _ y: Int, _ s: String, cls: String = "label", anchor: String = "start") -> String {
    "<text class=\"\(cls)\" x=\"\(fmt(x))\" y=\"\(y)\" text-anchor=\"\(anchor)\">\(xml(s))</text>"
  }

  static func rect(_ x: Double, _ y: Int, _ w: Double, _ h: Int, cls: String) -> String {
    "<rect class=\"\(cls)\" x=\"\(fmt(x))\" y=\"\(y)\" width=\"\(fmt(w))\" height=\"\(h)\" rx=\"3\"/>"
  }

  static func width(_ s: String) -> Double { Double(s.count) * charWidth }

  static func fmt(_ d: Double) -> String {
    let r = (d * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
  }

  /// Text escaped for XML character data and attribute values. Control and bidirectional
  /// formatting characters (a hostname or file name a box chose) are written as `\xNN` or
  /// `\uNNNN` first, as on the terminal: XML 1.0 forbids most C0 controls, and U+202E would
  /// make the browser show a name reversed.
  public static func xml(_ s: String) -> String {
    var out = ""
    for c in escapedForTerminal(s) {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }

  static func changed(_ flag: Bool) -> String { flag ? " changed" : "" }

  // MARK: ns

  static func namespaces(_ grid: NamespaceGrid) -> String {
    let nameW = max(60, Double(grid.rows.map(\.name.count).max() ?? 4) * charWidth + 16)
    let cellW = 70.0
    var body: [String] = []
    for (i, kind) in grid.kinds.enumerated() {
      body.append(text(nameW + cellW * Double(i) + cellW / 2, 16, kind, cls: "head", anchor: "middle"))
    }
    for (r, gridRow) in grid.rows.enumerated() {
      let y = 24 + r * (row + 4)
      body.append("<g class=\"box\(changed(gridRow.changed))\" data-name=\"\(xml(gridRow.name))\">")
      body.append(text(4, y + 15, gridRow.name, cls: "name"))
      for (i, cell) in gridRow.cells.enumerated() {
        let shared = gridRow.name != "host" && cell.host
        let cls = (shared ? "ns-cell shared" : "ns-cell own") + changed(cell.changed)
        let x = nameW + cellW * Double(i)
        body.append(
          "<g class=\"\(cls)\" data-kind=\"\(grid.kinds[i])\" data-label=\"\(xml(cell.label))\">"
            + rect(x + 2, y, cellW - 4, row, cls: "cell")
            + text(x + cellW / 2, y + 15, shared ? "host" : cell.label, anchor: "middle")
            + "</g>")
      }
      body.append("</g>")
    }
    let height = 24 + grid.rows.count * (row + 4) + 4
    return svg(
      .ns, width: Int(nameW + cellW * Double(grid.kinds.count)) + 4, height: height,
      title: "namespaces of the host and each box", body)
  }

  // MARK: mounts

  static func mounts(_ tree: MountTree) -> String {
    var body = [text(4, 16, "mounts of \(tree.box) (\(tree.mnt))", cls: "head")]
    var y = 28
    var maxX = 300.0
    func walk(_ node: MountTree.Node, depth: Int, parentY: Int?) {
      let x = 8.0 + Double(depth) * 24
      var label = "\(node.path)  \(node.fstype)  \(node.propagation)"
      if node.path == "/" { label += "  root: " + node.source }
      let w = width(label) + 12
      maxX = max(maxX, x + w + 8)
      var g =
        "<g class=\"mount\(changed(node.changed))\" data-path=\"\(xml(node.path))\" data-fstype=\"\(xml(node.fstype))\" "
      g += "data-propagation=\"\(xml(node.propagation))\">"
      if let parentY {
        g += "<path class=\"tree\" d=\"M\(fmt(x - 16)) \(parentY + row) V\(y + row / 2) H\(fmt(x))\"/>"
      }
      g += rect(x, y, w, row, cls: "node") + text(x + 6, y + 15, label) + "</g>"
      body.append(g)
      let myY = y
      y += row + 6
      for child in node.children { walk(child, depth: depth + 1, parentY: myY) }
    }
    walk(tree.root, depth: 0, parentY: nil)
    return svg(.mounts, width: Int(maxX), height: y + 4, title: "the mount tree of \(tree.box)", body)
  }

  // MARK: layers

  static func layers(_ stack: LayerStack) -> String {
    let w = 560.0
    var body = [text(4, 16, "overlay of \(stack.box): upper over \(stack.lowers.count) lower layers", cls: "head")]
    var y = 26
    func layer(_ name: String, kind: String, _ lines: [(String, String)], changed flag: Bool, pointed: Bool) {
      let h = row * (lines.count + 1) + 6
      var g = "<g class=\"layer \(kind)\(changed(flag))\(pointed ? " source" : "")\" data-layer=\"\(xml(name))\">"
      g += rect(4, y, w, h, cls: "layer-box") + text(12, y + 16, name, cls: "layer-name")
      if pointed, let file = stack.file {
        g += text(w - 4, y + 16, "\(file) comes from here", cls: "pointer", anchor: "end")
      }
      for (i, line) in lines.enumerated() { g += text(20, y + 16 + row * (i + 1), line.0, cls: line.1) }
      body.append(g + "</g>")
      y += h + 8
    }
    // Whiteouts and opaque directories get classes of their own: they hide what is below.
    let entries = stack.upper.prefix(12).map { e in
      (
        "\(e.path)  \(e.kind)",
        e.kind.hasPrefix("whiteout") ? "entry whiteout" : e.kind == "opaque dir" ? "entry opaque" : "entry"
      )
    }
    layer(
      "upper (writable)", kind: "upper", entries.isEmpty ? [("(empty)", "entry")] : Array(entries),
      changed: stack.upper.contains(where: \.changed), pointed: stack.fileLayer == "upper")
    for lower in stack.lowers {
      let few = lower.visible.prefix(6).joined(separator: " ")
      let more = lower.visible.count > 6 ? " … (\(lower.visible.count - 6) more)" : ""
      layer(
        lower.name, kind: "lower", [("\(lower.visible.count) files show through", "entry"), (few + more, "entry")],
        changed: stack.changedLayers, pointed: stack.fileLayer == lower.name)
    }
    return svg(.layers, width: Int(w) + 8, height: y, title: "the overlay layers of \(stack.box)", body)
  }

  // MARK: net

  /// The network as columns of namespaces, laid out so that no cable crosses a namespace: the host
  /// side first, then each namespace one column to the right of the nearest one it is cabled to
  /// (a breadth-first walk of the veth pairs from the host), so a cable joins either two
  /// neighbouring columns, drawn straight across the gap between them, or two namespaces of one
  /// column, drawn out to a lane of its own in the gap to the right of that column and back.
  /// Within a column, namespaces are ordered by where their cables come from in the column before
  /// (then by the order of the tree), so cables across a gap cross each other as little as that
  /// allows. The same state always gives the same picture.
  static func net(_ map: NetMap) -> String {
    let colW = 300.0
    let gap = 160.0
    let laneStep = 10.0
    var body: [String] = []

    // Which side each end is drawn in (a box sharing another's namespace shows under that one's
    // name), and the cables: each veth pair once, from the end met first to its peer.
    var sideOf: [String: Int] = [:]
    for (i, s) in map.sides.enumerated() { for e in s.links { sideOf[e.id] = i } }
    var cables: [(a: NetMap.End, b: NetMap.End)] = []
    var seen: Set<String> = []
    for s in map.sides {
      for e in s.links {
        guard let ref = e.peer, let peer = map.end(ref), sideOf[peer.id] != nil, !seen.contains(peer.id) else {
          continue
        }
        seen.insert(e.id)
        cables.append((e, peer))
      }
    }
    var neighbours: [[Int]] = Array(repeating: [], count: map.sides.count)
    for c in cables {
      guard let i = sideOf[c.a.id], let j = sideOf[c.b.id], i != j else { continue }
      neighbours[i].append(j)
      neighbours[j].append(i)
    }
    // Columns: breadth first from the host side (or the first side); a side no cable reaches goes
    // in the column after the host's, and what hangs off it after that.
    var column: [Int?] = Array(repeating: nil, count: map.sides.count)
    let start = map.sides.firstIndex { $0.name == "host" } ?? 0
    func walk(from root: Int, at level: Int) {
      guard column[root] == nil else { return }
      column[root] = level
      var queue = [root]
      while !queue.isEmpty {
        let i = queue.removeFirst()
        for j in neighbours[i] where column[j] == nil {
          column[j] = (column[i] ?? level) + 1
          queue.append(j)
        }
      }
    }
    if !map.sides.isEmpty { walk(from: start, at: 0) }
    for i in map.sides.indices where column[i] == nil { walk(from: i, at: map.sides.count > 1 ? 1 : 0) }
    let columns = (column.compactMap { $0 }.max() ?? 0) + 1

    // Each side's rows, top to bottom: its links (a bridge's ports under it), then its routes.
    func rows(_ s: NetMap.Side) -> [(NetMap.End, Int)] {
      var ordered: [(NetMap.End, Int)] = []
      for e in s.links where e.master == nil {
        ordered.append((e, 0))
        for port in s.links where port.master == e.name { ordered.append((port, 1)) }
      }
      return ordered
    }
    func height(_ s: NetMap.Side) -> Int { row * (rows(s).count + 1) + row * s.routes.count + 10 }
    func rowIndex(_ s: NetMap.Side, _ id: String) -> Int { rows(s).firstIndex { $0.0.id == id } ?? 0 }

    // Same-column cables get lanes in the gap right of their column, one each.
    var lanes: [Int: Int] = [:]
    var lanesInColumn: [Int: Int] = [:]
    for (k, c) in cables.enumerated() {
      guard let i = sideOf[c.a.id], let j = sideOf[c.b.id], column[i] == column[j], let col = column[i] else {
        continue
      }
      lanes[k] = lanesInColumn[col, default: 0]
      lanesInColumn[col, default: 0] += 1
    }
    let lastGap = lanesInColumn[columns - 1].map { Double($0) * laneStep + 2 * laneStep } ?? 0
    func columnX(_ c: Int) -> Double { 4 + Double(c) * (colW + gap) }

    // Place the columns left to right; a side's key is the mean row of the ends it is cabled to
    // in the column before, in the order they were placed.
    var top: [Int: Int] = [:]
    var anchorY: [String: Int] = [:]
    var y = 8
    for col in 0..<columns {
      let members = map.sides.indices.filter { column[$0] == col }
      func key(_ i: Int) -> Double {
        var ys: [Int] = []
        for c in cables {
          for (mine, other) in [(c.a, c.b), (c.b, c.a)] where sideOf[mine.id] == i {
            if let o = sideOf[other.id], column[o] == col - 1, let oy = anchorY[other.id] { ys.append(oy) }
          }
        }
        return ys.isEmpty ? Double.infinity : Double(ys.reduce(0, +)) / Double(ys.count)
      }
      let ordered = members.map { (key: key($0), index: $0) }
        .sorted { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }.map(\.index)
      var t = 8
      for i in ordered {
        top[i] = t
        let s = map.sides[i]
        for (r, (e, _)) in rows(s).enumerated() { anchorY[e.id] = t + row * (r + 1) + row / 2 }
        t += height(s) + 12
      }
      y = max(y, t)
    }

    for (i, s) in map.sides.enumerated() {
      guard let col = column[i], let t = top[i] else { continue }
      let x = columnX(col)
      var title = s.name == "host" ? "host side" : s.name
      if let ns = s.ns { title += " (\(ns))" }
      var g =
        "<g class=\"netns\(changed(s.changed))\" data-name=\"\(xml(s.name))\">"
        + rect(x, t, colW, height(s), cls: "ns-box")
      g += text(x + 8, t + 16, title, cls: "ns-name")
      var ry = t + row
      for (e, depth) in rows(s) {
        let ex = x + 8 + Double(depth) * 18
        let label =
          e.name + " " + (e.up ? "up" : "down") + (e.addrs.isEmpty ? "" : " " + e.addrs.joined(separator: " "))
        let cls = "end \(e.kind) \(e.up ? "up" : "down")" + changed(e.changed)
        g += "<g class=\"\(cls)\" data-id=\"\(xml(e.id))\" data-state=\"\(e.up ? "up" : "down")\">"
        g +=
          rect(ex, ry + 2, colW - 16 - Double(depth) * 18, row - 4, cls: "end-box") + text(ex + 6, ry + 16, label)
          + "</g>"
        ry += row
      }
      for route in s.routes {
        g += text(x + 8, ry + 16, "route " + route, cls: "route-entry")
        ry += row
      }
      body.append(g + "</g>")
      // A bridge and its ports, down the side's left margin.
      for (e, _) in rows(s) {
        guard let master = e.master, let from = anchorY[s.name + ":" + master], let to = anchorY[e.id] else { continue }
        body.append(
          "<line class=\"link port\" data-a=\"\(xml(s.name + ":" + master))\" data-b=\"\(xml(e.id))\" "
            + "x1=\"\(fmt(x + 12))\" y1=\"\(from + 8)\" x2=\"\(fmt(x + 12))\" y2=\"\(to)\"/>")
      }
    }
    // The cables.
    for (k, c) in cables.enumerated() {
      guard let i = sideOf[c.a.id], let j = sideOf[c.b.id], let ci = column[i], let cj = column[j],
        let ya = anchorY[c.a.id], let yb = anchorY[c.b.id]
      else { continue }
      let working = c.a.up && c.b.up
      let head =
        "class=\"link veth \(working ? "up" : "down")\" data-a=\"\(xml(c.a.id))\" data-b=\"\(xml(c.b.id))\""
      if ci != cj {
        // Straight across the gap, from the left column's right edge to the right one's left edge.
        let (l, r) = ci < cj ? ((ci, ya), (cj, yb)) : ((cj, yb), (ci, ya))
        let (x1, y1, x2, y2) = (columnX(l.0) + colW, l.1, columnX(r.0), r.1)
        let (fromA, toA) = ci < cj ? ((x1, y1), (x2, y2)) : ((x2, y2), (x1, y1))
        body.append(
          "<line \(head) x1=\"\(fmt(fromA.0))\" y1=\"\(fromA.1)\" x2=\"\(fmt(toA.0))\" y2=\"\(toA.1)\"/>")
      } else {
        let edge = columnX(ci) + colW
        let lane = edge + laneStep * Double((lanes[k] ?? 0) + 1)
        body.append(
          "<path \(head) d=\"M\(fmt(edge)) \(ya) H\(fmt(lane)) V\(yb) H\(fmt(edge))\"/>")
      }
    }
    if let route = map.route {
      let path = route.hops.isEmpty ? "does not arrive: " + (route.failure ?? "?") : route.hops.joined(separator: " → ")
      body.append(
        "<g class=\"route\" data-hops=\"\(xml(route.hops.joined(separator: " ")))\">"
          + text(4, y + 14, "route of `\(route.command)`: " + path) + "</g>")
      y += row + 4
    }
    // At least two columns wide, as when the host side stood alone on the left.
    let width = max(columnX(columns - 1) + colW + lastGap, columnX(1) + colW) + 4
    return svg(.net, width: Int(width), height: y + 4, title: "the lab's network", body)
  }

  // MARK: cgroups

  static func cgroups(_ tree: CgroupTree) -> String {
    var body = [text(4, 16, "cgroups: limits (and what they count)", cls: "head")]
    var y = 26
    for group in tree.groups {
      var g = "<g class=\"cgroup\(changed(group.changed))\" data-box=\"\(xml(group.box))\">"
      g += text(8, y + 15, group.box, cls: "name")
      var lines = [
        ("memory.max", group.memoryMax.map(PictureText.bytes) ?? "max", group.memoryCurrent, group.memoryMax),
        ("pids.max", group.pidsMax.map(String.init) ?? "max", group.pidsCurrent, group.pidsMax),
      ]
      lines.append(("cpu.max", group.cpuMax ?? "max", nil, nil))
      for (i, line) in lines.enumerated() {
        let ly = y + row * (i + 1)
        g += text(24, ly + 15, "\(line.0) \(line.1)")
        if let current = line.2, let limit = line.3, limit > 0 {
          let fraction = min(1, Double(current) / Double(limit))
          g +=
            "<g class=\"bar\" data-value=\"\(current)\" data-limit=\"\(limit)\">"
            + rect(220, ly + 4, 200, row - 8, cls: "bar-empty")
          g += rect(220, ly + 4, 200 * fraction, row - 8, cls: "bar-full") + "</g>"
        }
      }
      body.append(g + "</g>")
      y += row * (lines.count + 1) + 8
    }
    return svg(.cgroups, width: 440, height: y, title: "the lab's cgroups", body)
  }
}
