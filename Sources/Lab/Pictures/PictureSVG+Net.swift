/// The net picture as SVG: where each namespace and cable goes (`NetLayout`), then the drawing.
extension PictureSVG {
  /// The network as columns of namespaces, laid out so that no cable crosses a namespace: the host
  /// side first, then each namespace one column to the right of the nearest one it is cabled to
  /// (a breadth-first walk of the veth pairs from the host), so a cable joins either two
  /// neighbouring columns, drawn straight across the gap between them, or two namespaces of one
  /// column, drawn out to a lane of its own in the gap to the right of that column and back.
  /// Within a column, namespaces are ordered by where their cables come from in the column before
  /// (then by the order of the tree), so cables across a gap cross each other as little as that
  /// allows. The same state always gives the same picture.
  static func net(_ map: NetMap) -> String {
    let layout = NetLayout(map)
    var body: [String] = []
    for (i, s) in map.sides.enumerated() {
      guard let col = layout.column[i], let t = layout.top[i] else { continue }
      body += netSide(s, x: layout.columnX(col), top: t, anchorY: layout.anchorY)
    }
    // The cables.
    for (k, c) in layout.cables.enumerated() {
      if let drawn = cable(k, c, layout) { body.append(drawn) }
    }
    var y = layout.bottom
    if let route = map.route {
      let path = route.hops.isEmpty ? "does not arrive: " + (route.failure ?? "?") : route.hops.joined(separator: " → ")
      body.append(
        "<g class=\"route\" data-hops=\"\(xml(route.hops.joined(separator: " ")))\">"
          + text(4, y + 14, "route of `\(route.command)`: " + path) + "</g>")
      y += row + 4
    }
    // At least two columns wide, as when the host side stood alone on the left.
    let width =
      max(layout.columnX(layout.columns - 1) + NetLayout.colW + layout.lastGap, layout.columnX(1) + NetLayout.colW) + 4
    return svg(.net, width: Int(width), height: y + 4, title: "the lab's network", body)
  }

  /// A side's rows, top to bottom: its links, each bridge's ports under it (depth 1). Its routes
  /// follow them, one row each.
  static func netRows(_ s: NetMap.Side) -> [(NetMap.End, Int)] {
    var ordered: [(NetMap.End, Int)] = []
    for e in s.links where e.master == nil {
      ordered.append((e, 0))
      for port in s.links where port.master == e.name { ordered.append((port, 1)) }
    }
    return ordered
  }

  /// How tall a side's box is: a title row, its links, its routes and a margin.
  static func netHeight(_ s: NetMap.Side) -> Int { row * (netRows(s).count + 1) + row * s.routes.count + 10 }

  /// Where the net picture puts everything, worked out before anything is drawn: which side each
  /// interface is in, the cables (each veth(4) pair once), each side's column, the lanes of the
  /// cables within one column, and each side's top and each interface's row.
  struct NetLayout {
    static let colW = 300.0
    static let gap = 160.0
    static let laneStep = 10.0

    /// The side each end is drawn in, by the end's id.
    var sideOf: [String: Int]
    /// Each veth pair once, from the end met first to its peer.
    var cables: [(a: NetMap.End, b: NetMap.End)]
    /// Each side's column, by the side's index.
    var column: [Int?]
    var columns: Int
    /// The lane of each same-column cable, by the cable's index.
    var lanes: [Int: Int]
    /// How wide the gap right of the last column must be for its lanes.
    var lastGap: Double
    /// Each side's top, by the side's index.
    var top: [Int: Int]
    /// The middle of each end's row, by the end's id.
    var anchorY: [String: Int]
    /// Below the lowest side.
    var bottom: Int

    init(_ map: NetMap) {
      let found = Self.cables(map)
      sideOf = found.sideOf
      cables = found.cables
      column = Self.columns(map, found.cables, found.sideOf)
      columns = (column.compactMap { $0 }.max() ?? 0) + 1
      let laid = Self.lanes(cables, sideOf, column, columns: columns)
      lanes = laid.lanes
      lastGap = laid.lastGap
      let placed = Self.place(map, cables, sideOf, column, columns: columns)
      top = placed.top
      anchorY = placed.anchorY
      bottom = placed.bottom
    }

    func columnX(_ c: Int) -> Double { 4 + Double(c) * (Self.colW + Self.gap) }

    /// Which side each end is drawn in (a box sharing another's namespace shows under that one's
    /// name), and the cables: each veth pair once, from the end met first to its peer. A peer
    /// in no side (a namespace the picture does not show) makes no cable.
    static func cables(_ map: NetMap) -> (sideOf: [String: Int], cables: [(a: NetMap.End, b: NetMap.End)]) {
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
      return (sideOf, cables)
    }

    /// Columns: breadth first from the host side (or the first side) along the cables; a side no
    /// cable reaches goes in the column after the host's, and what hangs off it after that.
    static func columns(
      _ map: NetMap, _ cables: [(a: NetMap.End, b: NetMap.End)], _ sideOf: [String: Int]
    ) -> [Int?] {
      var neighbours: [[Int]] = Array(repeating: [], count: map.sides.count)
      for c in cables {
        guard let i = sideOf[c.a.id], let j = sideOf[c.b.id], i != j else { continue }
        neighbours[i].append(j)
        neighbours[j].append(i)
      }
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
      return column
    }

    /// Same-column cables get lanes in the gap right of their column, one each; the last
    /// column's gap is as wide as its lanes need.
    static func lanes(
      _ cables: [(a: NetMap.End, b: NetMap.End)], _ sideOf: [String: Int], _ column: [Int?], columns: Int
    ) -> (lanes: [Int: Int], lastGap: Double) {
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
      return (lanes, lastGap)
    }

    /// Place the columns left to right; a side's key is the mean row of the ends it is cabled to
    /// in the column before, in the order they were placed.
    static func place(
      _ map: NetMap, _ cables: [(a: NetMap.End, b: NetMap.End)], _ sideOf: [String: Int], _ column: [Int?],
      columns: Int
    ) -> (top: [Int: Int], anchorY: [String: Int], bottom: Int) {
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
          for (r, (e, _)) in netRows(s).enumerated() { anchorY[e.id] = t + row * (r + 1) + row / 2 }
          t += netHeight(s) + 12
        }
        y = max(y, t)
      }
      return (top, anchorY, y)
    }
  }

  /// One network namespace (a side) as a box: its title, a row per interface (up or down, its
  /// addresses) and per route, then the lines from a bridge to its ports, down the side's left
  /// margin.
  static func netSide(_ s: NetMap.Side, x: Double, top t: Int, anchorY: [String: Int]) -> [String] {
    let colW = NetLayout.colW
    var body: [String] = []
    var title = s.name == "host" ? "host side" : s.name
    if let ns = s.ns { title += " (\(ns))" }
    var g =
      "<g class=\"netns\(changed(s.changed))\" data-name=\"\(xml(s.name))\">"
      + rect(x, t, colW, netHeight(s), cls: "ns-box")
    g += text(x + 8, t + 16, title, cls: "ns-name")
    var ry = t + row
    for (e, depth) in netRows(s) {
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
    for (e, _) in netRows(s) {
      guard let master = e.master, let from = anchorY[s.name + ":" + master], let to = anchorY[e.id] else { continue }
      body.append(
        "<line class=\"link port\" data-a=\"\(xml(s.name + ":" + master))\" data-b=\"\(xml(e.id))\" "
          + "x1=\"\(fmt(x + 12))\" y1=\"\(from + 8)\" x2=\"\(fmt(x + 12))\" y2=\"\(to)\"/>")
    }
    return body
  }

  /// Cable `k`, a veth pair (veth(4)): a straight line across the gap between two columns, or a
  /// path out to its lane and back for two namespaces of one column; up only when both ends are.
  static func cable(_ k: Int, _ c: (a: NetMap.End, b: NetMap.End), _ layout: NetLayout) -> String? {
    guard let i = layout.sideOf[c.a.id], let j = layout.sideOf[c.b.id], let ci = layout.column[i],
      let cj = layout.column[j], let ya = layout.anchorY[c.a.id], let yb = layout.anchorY[c.b.id]
    else { return nil }
    let colW = NetLayout.colW
    let working = c.a.up && c.b.up
    let head =
      "class=\"link veth \(working ? "up" : "down")\" data-a=\"\(xml(c.a.id))\" data-b=\"\(xml(c.b.id))\""
    if ci != cj {
      // Straight across the gap, from the left column's right edge to the right one's left edge.
      let (l, r) = ci < cj ? ((ci, ya), (cj, yb)) : ((cj, yb), (ci, ya))
      let (x1, y1, x2, y2) = (layout.columnX(l.0) + colW, l.1, layout.columnX(r.0), r.1)
      let (fromA, toA) = ci < cj ? ((x1, y1), (x2, y2)) : ((x2, y2), (x1, y1))
      return "<line \(head) x1=\"\(fmt(fromA.0))\" y1=\"\(fromA.1)\" x2=\"\(fmt(toA.0))\" y2=\"\(toA.1)\"/>"
    }
    let edge = layout.columnX(ci) + colW
    let lane = edge + NetLayout.laneStep * Double((layout.lanes[k] ?? 0) + 1)
    return "<path \(head) d=\"M\(fmt(edge)) \(ya) H\(fmt(lane)) V\(yb) H\(fmt(edge))\"/>"
  }
}
