import Kernel

/// The pictures as terminal text. Pure: the same input and style give the same lines, so a
/// transcript can hold them and `boxwalk test` compares them on every backend.
public enum PictureText {
  /// One picture, or every picture that has something to show (`kind` nil: `draw all`).
  public static func draw(_ kind: PictureKind?, _ input: PictureInput, style: PictureStyle = .plain) -> [String] {
    var lines: [PictureLine] = []
    if let kind {
      lines = picture(kind, input, style)
    } else {
      for k in PictureKind.allCases {
        let part = picture(k, input, style, quietWhenEmpty: true)
        if part.isEmpty { continue }
        if !lines.isEmpty { lines.append(PictureLine("")) }
        lines += part
      }
    }
    if input.changes != nil {
      lines.append(
        PictureLine(
          lines.contains(where: \.changed)
            ? "\(style.g.changed) marks what the last step changed" : "(the last step changed nothing drawn here)"))
    }
    // A name in the picture may come from a box (a hostname, a file name, a mount source): each
    // control or bidirectional formatting character in it is escaped, as everywhere else.
    return style.finish(lines.map { PictureLine(escapedForTerminal($0.text), changed: $0.changed) })
  }

  static func picture(_ kind: PictureKind, _ input: PictureInput, _ style: PictureStyle, quietWhenEmpty: Bool = false)
    -> [PictureLine]
  {
    switch kind {
    case .ns: return namespaces(NamespaceGrid(input), style)
    case .mounts:
      guard let tree = MountTree(input) else { return quietWhenEmpty ? [] : [PictureLine("no box yet: box new NAME")] }
      return mounts(tree, style)
    case .layers:
      guard let stack = LayerStack(input) else {
        if quietWhenEmpty { return [] }
        let who = input.box ?? input.boxes.first
        return [PictureLine(who.map { "\($0) has no overlay yet: overlay IMAGE" } ?? "no box yet: box new NAME")]
      }
      return layers(stack, style)
    case .net:
      let map = NetMap(input)
      if quietWhenEmpty && map.sides.count <= 1 && (map.side("host")?.links.count ?? 0) <= 1 { return [] }
      return net(map, style)
    case .cgroups:
      let tree = CgroupTree(input)
      if quietWhenEmpty && tree.groups.isEmpty { return [] }
      return cgroups(tree, style)
    }
  }

  static func mark(_ changed: Bool, _ style: PictureStyle) -> String { changed ? style.g.changed : "" }

  // MARK: ns

  static func namespaces(_ grid: NamespaceGrid, _ style: PictureStyle) -> [PictureLine] {
    let g = style.g
    func text(_ row: NamespaceGrid.Row, _ cell: NamespaceGrid.Cell) -> String {
      let body = row.name != "host" && cell.host ? "host" : cell.number
      return mark(cell.changed, style) + body
    }
    let nameWidth = max(4, grid.rows.map { $0.name.count + ($0.changed ? g.changed.count : 0) }.max() ?? 4)
    let widths = grid.kinds.indices.map { i in
      max(grid.kinds[i].count, grid.rows.map { text($0, $0.cells[i]).count }.max() ?? 1) + 2
    }
    let full = nameWidth + 2 + widths.reduce(0, +) + widths.count + 2
    var lines = [PictureLine("namespaces: one row per box, one column per kind")]
    guard full <= style.width else {
      // Too narrow for the grid: one line per box, the namespaces it has of its own.
      for row in grid.rows {
        guard row.name != "host" else {
          lines.append(PictureLine("host: its own, KIND:0 of every kind"))
          continue
        }
        let own = row.cells.filter { !$0.host }.map { mark($0.changed, style) + $0.label }
        let line =
          row.name + ": "
          + (own.isEmpty ? "every namespace the host's" : own.joined(separator: " ") + ", the rest the host's")
        lines.append(PictureLine(line, changed: row.changed))
      }
      return lines
    }
    func rule(_ l: String, _ m: String, _ r: String) -> PictureLine {
      PictureLine(l + g.h.repeated(nameWidth + 2) + widths.map { m + g.h.repeated($0) }.joined() + r)
    }
    lines.append(rule(g.topLeft, g.teeDown, g.topRight))
    lines.append(
      PictureLine(
        g.v + " " + "".padded(nameWidth) + " "
          + grid.kinds.indices.map { g.v + grid.kinds[$0].centered(widths[$0]) }.joined()
          + g.v))
    for row in grid.rows {
      lines.append(rule(g.teeRight, g.cross, g.teeLeft))
      let name = (mark(row.changed, style) + row.name).padded(nameWidth)
      lines.append(
        PictureLine(
          g.v + " " + name + " "
            + row.cells.indices.map { g.v + text(row, row.cells[$0]).centered(widths[$0]) }.joined()
            + g.v, changed: row.changed))
    }
    lines.append(rule(g.bottomLeft, g.teeUp, g.bottomRight))
    lines.append(PictureLine("host: shares the host's namespace; n: one of its own (KIND:n); equal n are one"))
    return lines
  }

  // MARK: mounts

  static func mounts(_ tree: MountTree, _ style: PictureStyle) -> [PictureLine] {
    let g = style.g
    var head = "mounts of \(tree.box) (\(tree.mnt)"
    head += tree.sharesHost ? ", the host's mount namespace: its mounts are the host's)" : ")"
    var lines = [PictureLine(head)]
    var rows: [(prefix: String, node: MountTree.Node)] = []
    func walk(_ node: MountTree.Node, _ prefix: String, _ childPrefix: String) {
      rows.append((prefix, node))
      for (i, child) in node.children.enumerated() {
        let last = i == node.children.count - 1
        walk(child, childPrefix + (last ? g.lastBranch : g.branch), childPrefix + (last ? "    " : g.under))
      }
    }
    walk(tree.root, "", "")
    let pathWidth =
      rows.map { $0.prefix.count + $0.node.path.count + ($0.node.changed ? g.changed.count : 0) }.max() ?? 1
    let typeWidth = rows.map { $0.node.fstype.count }.max() ?? 1
    for (prefix, node) in rows {
      var line =
        (prefix + mark(node.changed, style) + node.path).padded(pathWidth) + "  " + node.fstype.padded(typeWidth)
      line += "  " + node.propagation
      if node.path == "/" {
        line += "  root: " + node.source
      } else if !node.source.isEmpty && node.source != node.fstype {
        line += "  from " + node.source
      }
      lines.append(PictureLine(line, changed: node.changed))
    }
    if tree.root.children.isEmpty { lines.append(PictureLine("(no mounts of \(tree.box)'s own yet)")) }
    return lines
  }

  // MARK: layers

  static func layers(_ stack: LayerStack, _ style: PictureStyle) -> [PictureLine] {
    let g = style.g
    let inner = min(style.width, 80) - 4
    var lines = [
      PictureLine(
        "overlay of \(stack.box): the writable upper layer over \(stack.lowers.count) lower layer\(stack.lowers.count == 1 ? "" : "s"), top first",
        changed: stack.changedLayers)
    ]
    func box(_ title: String, _ body: [PictureLine], changed: Bool, pointed: Bool) {
      var top = g.topLeft + g.h + " " + mark(changed, style) + title + " "
      if pointed { top += g.pointer + " \(stack.file ?? "") comes from here " }
      let topWidth = inner + 2
      if top.count < topWidth + 1 { top += g.h.repeated(topWidth + 1 - top.count) }
      lines.append(PictureLine(top + g.topRight, changed: changed || pointed))
      for line in body {
        var text = line.text
        if text.count > inner { text = String(text.prefix(inner - g.ellipsis.count)) + g.ellipsis }
        lines.append(PictureLine(g.v + " " + text.padded(inner) + " " + g.v, changed: line.changed))
      }
      lines.append(PictureLine(g.bottomLeft + g.h.repeated(inner + 2) + g.bottomRight))
    }
    func shown(_ files: [String]) -> String {
      let few = files.prefix(4).joined(separator: " ")
      return files.count > 4 ? few + " " + g.ellipsis + " (\(files.count - 4) more)" : few
    }
    var upper: [PictureLine] = stack.upper.map { e in
      var what = e.kind
      let hides = stack.fileHiddenBy == e.path ? " " + g.pointer + " hides \(stack.file ?? "")" : ""
      if hides.isEmpty && e.kind.hasPrefix("whiteout") { what += ": hides the lower copy" }
      if hides.isEmpty && e.kind == "opaque dir" { what += ": hides what is below it" }
      return PictureLine(mark(e.changed, style) + e.path + "  " + what + hides, changed: e.changed || !hides.isEmpty)
    }
    if upper.isEmpty { upper = [PictureLine("(empty: nothing written yet)")] }
    box("upper (writable)", upper, changed: stack.upper.contains(where: \.changed), pointed: stack.fileLayer == "upper")
    for lower in stack.lowers {
      var body: [PictureLine] = []
      let count = lower.files.map { "\($0) file\($0 == 1 ? "" : "s"); " } ?? ""
      if lower.visible.isEmpty {
        body.append(PictureLine(count + "none shows through"))
      } else {
        body.append(PictureLine(count + "\(lower.visible.count) show\(lower.visible.count == 1 ? "s" : "") through:"))
        body.append(PictureLine("  " + shown(lower.visible)))
      }
      box(lower.name + " (read-only)", body, changed: stack.changedLayers, pointed: stack.fileLayer == lower.name)
    }
    if let file = stack.file {
      if let by = stack.fileHiddenBy {
        lines.append(
          PictureLine("\(file): hidden by \(by) in the upper layer, so \(stack.box) does not see it", changed: true))
      } else if stack.fileLayer == nil {
        lines.append(PictureLine("\(file): no layer of \(stack.box) has it", changed: true))
      }
    }
    return lines
  }

  // MARK: net

  static func net(_ map: NetMap, _ style: PictureStyle) -> [PictureLine] {
    let g = style.g
    var lines = [PictureLine("network: the lab's namespaces, their links and where each cable goes")]
    func endText(_ e: NetMap.End, withSide: Bool) -> String {
      var t = mark(e.changed, style) + (withSide ? e.id : e.name) + " " + (e.up ? "up" : "down")
      if !e.addrs.isEmpty { t += " " + e.addrs.joined(separator: " ") }
      return t
    }
    func cable(_ a: NetMap.End, _ b: NetMap.End?) -> String {
      let working = a.up && (b?.up ?? false)
      return " " + (working ? g.cable.repeated(6) : g.cable.repeated(2) + g.cut + g.cable.repeated(3)) + " "
    }
    func peerText(_ e: NetMap.End) -> String {
      guard let ref = e.peer else { return "" }
      guard let other = map.end(ref) else { return cable(e, nil) + ref }
      return cable(e, other) + endText(other, withSide: true)
    }
    for side in map.sides {
      var head = side.name == "host" ? "host side" : side.name == OutsideNet.name ? "outside" : side.name
      if let ns = side.ns { head += " (\(ns))" }
      if let forward = side.forward { head += ", forward " + (forward ? "on" : "off") }
      if side.name != "host" {
        let shown = side.links.filter { $0.peer.flatMap { map.end($0) }?.side == "host" }
        if !shown.isEmpty { head += "; its " + shown.map(\.name).joined(separator: " ") + " drawn above" }
      }
      lines.append(PictureLine(mark(side.changed, style) + head, changed: side.changed))
      // On the host side, a veth end whose peer is elsewhere is drawn with the cable; in a box, an
      // end whose peer is on the host side was drawn there already.
      let links = side.links.filter { e in
        side.name == "host" || e.peer.flatMap { map.end($0) }?.side != "host"
      }
      var items: [(PictureLine, [PictureLine])] = []
      for e in links where e.master == nil {
        var children: [PictureLine] = []
        if e.kind == NetLinkFacts.bridge {
          let ports = side.links.filter { $0.master == e.name }
          for port in ports {
            children.append(PictureLine(endText(port, withSide: false) + peerText(port), changed: port.changed))
          }
        }
        let kind = e.kind == NetLinkFacts.veth || e.kind == NetLinkFacts.loopback ? "" : " (\(e.kind))"
        items.append((PictureLine(endText(e, withSide: false) + kind + peerText(e), changed: e.changed), children))
      }
      for route in side.routes { items.append((PictureLine("route " + route), [])) }
      for rule in side.rules { items.append((PictureLine("rule " + rule), [])) }
      for (i, item) in items.enumerated() {
        let last = i == items.count - 1
        lines.append(PictureLine((last ? g.lastBranch : g.branch) + item.0.text, changed: item.0.changed))
        for (j, child) in item.1.enumerated() {
          let lastChild = j == item.1.count - 1
          lines.append(
            PictureLine(
              (last ? "    " : g.under) + (lastChild ? g.lastBranch : g.branch) + child.text, changed: child.changed))
        }
      }
    }
    if !map.onMachine.isEmpty {
      lines.append(
        PictureLine(
          "not drawn, in the machine's network namespace: " + map.onMachine.joined(separator: " ")))
    }
    if let route = map.route {
      // The hops wrap onto indented lines rather than being cut at the margin: the end of the
      // route is the part that teaches.
      var line = "route of `\(route.command)` now:"
      let words =
        route.hops.isEmpty
        ? ["does not arrive: " + (route.failure ?? "?")]
        : route.hops.enumerated().map { $0.offset == 0 ? $0.element : g.arrow + " " + $0.element }
      for word in words {
        if line.count + 1 + word.count > style.width {
          lines.append(PictureLine(line))
          line = "   "
        }
        line += " " + word
      }
      lines.append(PictureLine(line))
    }
    return lines
  }

  // MARK: cgroups

  static func cgroups(_ tree: CgroupTree, _ style: PictureStyle) -> [PictureLine] {
    let g = style.g
    var lines = [PictureLine("cgroups: each box's limits (the files as cgroup v2 names them)")]
    if tree.groups.isEmpty {
      lines.append(PictureLine("(no box has a cgroup of its own yet: cgroup new)"))
      return lines
    }
    lines.append(PictureLine("the lab's cgroup"))
    for (i, group) in tree.groups.enumerated() {
      let last = i == tree.groups.count - 1
      let head = last ? g.lastBranch : g.branch
      let under = last ? "    " : g.under
      lines.append(PictureLine(head + mark(group.changed, style) + group.box, changed: group.changed))
      let memory = group.memoryMax.map(bytes) ?? "max"
      var memLine = "memory.max " + memory
      if let current = group.memoryCurrent, let max = group.memoryMax {
        memLine += "  " + bar(current, of: max, g) + " " + bytes(current) + " in use"
      } else if let current = group.memoryCurrent {
        memLine += "  " + bytes(current) + " in use"
      }
      if let oom = group.oomKills, oom > 0 { memLine += "  (OOM kills: \(oom))" }
      lines.append(PictureLine(under + memLine))
      var pidsLine = "pids.max   " + (group.pidsMax.map(String.init) ?? "max")
      if let current = group.pidsCurrent {
        pidsLine += group.pidsMax.map { "  " + bar(current, of: $0, g) + " \(current) of \($0)" } ?? "  \(current) now"
      }
      lines.append(PictureLine(under + pidsLine))
      var cpuLine = "cpu.max    " + (group.cpuMax ?? "max")
      let parts = (group.cpuMax ?? "").split(separator: " ").compactMap { Int($0) }
      if parts.count == 2, parts[1] > 0 { cpuLine += "  (\(parts[0] * 100 / parts[1])% of one CPU)" }
      lines.append(PictureLine(under + cpuLine))
    }
    return lines
  }

  static func bar(_ value: Int, of limit: Int, _ g: Glyphs) -> String {
    let cells = 16
    let full = limit > 0 ? min(cells, (value * cells + limit - 1) / limit) : 0
    return "[" + g.barFull.repeated(full) + g.barEmpty.repeated(cells - full) + "]"
  }

  /// Bytes in the largest binary unit that divides them (64 MiB), as memory limits are written.
  static func bytes(_ n: Int) -> String {
    for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where n >= size && n % size == 0 {
      return "\(n / size) \(unit)"
    }
    return "\(n) bytes"
  }
}
