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
