import Kernel

/// The pictures `draw` knows. `all` is every one that has something to show.
public enum PictureKind: String, CaseIterable, Sendable {
  case ns, mounts, layers, net, cgroups
}

/// What a picture is drawn from: the state tree (docs/state-paths.md), the changes of the last
/// step (for `--changed`), the current box, and the answers the tree alone cannot give (the route
/// a ping takes is computed by the ping model from the kernel's facts). Every picture is a pure
/// function of this, so the same state draws the same picture on every backend.
public struct PictureInput: Sendable {
  public var tree: StateValue
  /// The last step's changes, when the changed parts are to be marked.
  public var changes: [StateChange]?
  /// The box `mounts` and `layers` draw; nil draws the first box that has the part.
  public var box: String?
  /// `draw layers PATH`: the file whose layer is marked.
  public var file: String?
  /// The last ping, replayed on the current state: its command and the hops it would take, or
  /// why it would not arrive.
  public var route: PictureRoute?
  /// Draw volatile usage (memory bytes) beside the limits: never in transcripts.
  public var usage: Bool

  public init(
    tree: StateValue, changes: [StateChange]? = nil, box: String? = nil, file: String? = nil,
    route: PictureRoute? = nil, usage: Bool = false
  ) {
    self.tree = tree
    self.changes = changes
    self.box = box
    self.file = file
    self.route = route
    self.usage = usage
  }

  /// Whether the last step changed anything at or under `path`, or the whole of something above it
  /// (a new box changes `web`, which holds `web.ns.uts`).
  func touched(_ path: StatePath) -> Bool {
    guard let changes else { return false }
    return changes.contains { c in
      let a = c.path.components
      let b = path.components
      return a.count >= b.count ? Array(a.prefix(b.count)) == b : Array(b.prefix(a.count)) == a
    }
  }

  func touched(_ keys: String...) -> Bool { touched(StatePath(keys.map { .key($0) })) }

  func value(_ keys: String...) -> StateValue? { tree.value(at: StatePath(keys.map { .key($0) })) }

  /// Box names in creation order (every top-level key but `host` and `outside`).
  var boxes: [String] {
    guard case .map(let m) = tree.unwrapped else { return [] }
    return m.keys.filter { $0 != "host" && $0 != OutsideNet.name }
  }
}

/// The route of the last ping on the current state (PingModel), for the net picture.
public struct PictureRoute: Equatable, Sendable {
  /// `ping 10.0.0.3 --from web`.
  public var command: String
  /// The link ends the echo request crosses, in order; empty when it does not arrive.
  public var hops: [String]
  /// Why it does not arrive (the short reason `ping` prints), or nil.
  public var failure: String?

  public init(command: String, hops: [String], failure: String? = nil) {
    self.command = command
    self.hops = hops
    self.failure = failure
  }
}

// MARK: The model of each picture

/// Boxes by namespace kinds: which namespace each box is in, and which it shares with the host.
struct NamespaceGrid: Equatable {
  struct Cell: Equatable {
    /// `uts:1`.
    var label: String
    /// The host's own namespace of this kind.
    var host: Bool
    /// Boxes before this one in the same namespace (a `join`).
    var sharedWith: [String]
    var changed: Bool
    /// `1`: the label without its kind, for the grid (the column names the kind).
    var number: String { label.split(separator: ":").last.map(String.init) ?? label }
  }
  struct Row: Equatable {
    var name: String
    var cells: [Cell]
    var changed: Bool
  }
  var kinds: [String]
  var rows: [Row]

  init(_ input: PictureInput) {
    kinds = NamespaceKind.allCases.map(\.rawValue)
    var rows: [Row] = []
    var firstBox: [String: String] = [:]
    for name in ["host"] + input.boxes {
      var cells: [Cell] = []
      for kind in kinds {
        let label = input.value(name, "ns", kind)?.stringValue ?? "-"
        let hostLabel = input.value("host", "ns", kind)?.stringValue
        let key = kind + "=" + label
        let earlier = name == "host" ? nil : firstBox[key]
        if name != "host", firstBox[key] == nil, label != hostLabel { firstBox[key] = name }
        cells.append(
          Cell(
            label: label, host: label == hostLabel, sharedWith: earlier.map { [$0] } ?? [],
            changed: input.touched(name, "ns", kind)))
      }
      rows.append(Row(name: name, cells: cells, changed: cells.contains(where: \.changed)))
    }
    self.rows = rows
  }
}

/// A box's mounts as a tree by mount point, with "/" at the top.
struct MountTree: Equatable {
  struct Node: Equatable {
    var path: String
    var fstype: String
    var source: String
    var propagation: String
    var changed: Bool
    var children: [Node] = []
  }
  var box: String
  var mnt: String
  var sharesHost: Bool
  var root: Node

  init?(_ input: PictureInput) {
    guard let box = input.box ?? input.boxes.first else { return nil }
    self.box = box
    mnt = input.value(box, "ns", "mnt")?.stringValue ?? "?"
    sharesHost = mnt == input.value("host", "ns", "mnt")?.stringValue
    // `root` says what the box's "/" is: the host's, or an overlay it prepared or entered.
    let rootText = input.value(box, "root")?.stringValue ?? "host"
    root = Node(
      path: "/", fstype: "-", source: rootText == "host" ? "the host's /" : rootText,
      propagation: input.value(box, "propagation")?.stringValue ?? "-",
      changed: input.touched(box, "root") || input.touched(box, "propagation"))
    var mounts: [Node] = []
    if case .map(let m)? = input.value(box, "mounts")?.unwrapped {
      for (path, v) in m.entries {
        let fstype = v["fstype"]?.unwrapped.stringValue ?? "?"
        let node = Node(
          path: path, fstype: v["fstype"]?.isVolatile == true ? "bind" : fstype,
          source: v["source"]?.unwrapped.stringValue ?? "", propagation: v["propagation"]?.stringValue ?? "-",
          changed: input.touched(StatePath([.key(box), .key("mounts"), .key(path)])))
        // A mount on "/" (the box's own root file system) is the top of the tree itself.
        if path == "/" {
          root.fstype = node.fstype
          root.propagation = node.propagation
          root.changed = root.changed || node.changed
        } else {
          mounts.append(node)
        }
      }
    }
    // Nest each mount under the longest mount point that is a parent directory of it.
    for node in mounts.sorted(by: { $0.path < $1.path }) { Self.insert(node, into: &root) }
  }

  static func insert(_ node: Node, into parent: inout Node) {
    for i in parent.children.indices where node.path.hasPrefix(parent.children[i].path + "/") {
      insert(node, into: &parent.children[i])
      return
    }
    parent.children.append(node)
  }
}

/// An overlay: the writable upper layer over the lower layers, top first.
struct LayerStack: Equatable {
  struct Entry: Equatable {
    var path: String
    var kind: String
    var changed: Bool
  }
  struct Lower: Equatable {
    var name: String
    /// Files of the merged view that come from this layer, in path order.
    var visible: [String]
    /// The layer's own file count (host.layers), when known.
    var files: Int?
  }
  var box: String
  var upper: [Entry]
  var lowers: [Lower]
  /// Files of the merged view that come from the upper layer.
  var upperVisible: [String]
  /// `draw layers PATH`: the layer the file comes from (`upper` or a lower's name), the entry of
  /// the upper layer that hides it, or nil when no layer has it.
  var file: String?
  var fileLayer: String?
  var fileHiddenBy: String?
  var changedLayers: Bool

  init?(_ input: PictureInput) {
    guard let box = input.box ?? input.boxes.first(where: { input.value($0, "fs") != nil }),
      input.value(box, "fs") != nil
    else { return nil }
    self.box = box
    var upper: [Entry] = []
    if case .map(let m)? = input.value(box, "fs", "upper")?.unwrapped {
      for (path, kind) in m.entries {
        upper.append(
          Entry(
            path: path, kind: kind.stringValue ?? "?",
            changed: input.touched(StatePath([.key(box), .key("fs"), .key("upper"), .key(path)]))))
      }
    }
    self.upper = upper.sorted { $0.path < $1.path }
    var byLayer: [String: [String]] = [:]
    if case .map(let files)? = input.value(box, "fs", "files")?.unwrapped {
      for (path, v) in files.entries {
        guard !v.isVolatile, let layer = v["layer"], !layer.isVolatile, let name = layer.stringValue else { continue }
        byLayer[name, default: []].append(path)
      }
    }
    let names: [String]
    if case .list(let l)? = input.value(box, "fs", "layers")?.unwrapped {
      names = l.compactMap(\.stringValue)
    } else {
      names = []
    }
    lowers = names.map { name in
      var files: Int?
      // A count that depends on the host (the busybox layer made from this machine's busybox) is
      // volatile: a picture never shows it, so it draws the same on every machine.
      if case .int(let n)? = input.value("host", "layers", name, "files") { files = n }
      return Lower(name: name, visible: (byLayer[name] ?? []).sorted(), files: files)
    }
    upperVisible = (byLayer["upper"] ?? []).sorted()
    changedLayers = input.touched(box, "fs", "layers")
    file = input.file
    if let f = input.file {
      fileLayer =
        input.tree.value(at: StatePath([.key(box), .key("fs"), .key("files"), .key(f), .key("layer")]))?
        .stringValue
      // A whiteout of the file or of a directory above it, or an opaque directory above it.
      fileHiddenBy =
        self.upper.first { e in
          (e.kind.hasPrefix("whiteout") && (f == e.path || f.hasPrefix(e.path + "/")))
            || (e.kind == "opaque dir" && f.hasPrefix(e.path + "/") && fileLayer != "upper")
        }?.path
    }
  }
}

/// The lab's network: the host side's links (bridges with their ports, veth ends with their
/// peers in boxes), the outside, and each box's own links and routes.
struct NetMap: Equatable {
  struct End: Equatable {
    /// `host`, `outside` or the box whose namespace holds the link.
    var side: String
    var name: String
    var kind: String
    var up: Bool
    var addrs: [String]
    var master: String?
    var peer: String?
    var changed: Bool
    var id: String { side + ":" + name }
  }
  struct Side: Equatable {
    var name: String
    /// `net:1`, or nil for the host side and the outside.
    var ns: String?
    var links: [End]
    var routes: [String]
    var forward: Bool?
    var rules: [String]
    var changed: Bool
  }
  var sides: [Side]
  /// Boxes still in the machine's network namespace (not drawn: boxwalk never looks there).
  var onMachine: [String]
  var route: PictureRoute?

  init(_ input: PictureInput) {
    var sides: [Side] = []
    var onMachine: [String] = []
    var seenNS: Set<String> = []
    for name in ["host", OutsideNet.name] + input.boxes {
      guard let net = input.value(name, "net") else {
        if name != "host" && name != OutsideNet.name { onMachine.append(name) }
        continue
      }
      let ns = name == "host" || name == OutsideNet.name ? nil : input.value(name, "ns", "net")?.stringValue
      // Boxes that joined another's network namespace show the same links: draw them once.
      if let ns, !seenNS.insert(ns).inserted { continue }
      var links: [End] = []
      if case .map(let m)? = net["links"]?.unwrapped {
        for (ifname, v) in m.entries {
          var addrs: [String] = []
          if case .list(let l)? = v["addrs"]?.unwrapped { addrs = l.compactMap(\.stringValue) }
          links.append(
            End(
              side: name, name: ifname, kind: v["kind"]?.stringValue ?? "?", up: v["state"]?.stringValue == "up",
              addrs: addrs, master: v["master"]?.stringValue, peer: v["peer"]?.stringValue,
              changed: input.touched(StatePath([.key(name), .key("net"), .key("links"), .key(ifname)]))))
        }
      }
      var routes: [String] = []
      if case .list(let l)? = net["routes"]?.unwrapped { routes = l.compactMap(\.stringValue) }
      var rules: [String] = []
      if case .list(let l)? = net["rules"]?.unwrapped { rules = l.compactMap(\.stringValue) }
      var forward: Bool?
      if case .int(let f)? = net["forward"]?.unwrapped { forward = f == 1 }
      sides.append(
        Side(
          name: name, ns: ns, links: links, routes: routes, forward: forward, rules: rules,
          changed: input.touched(name, "net") || (ns != nil && input.touched(name, "ns", "net"))))
    }
    self.sides = sides
    self.onMachine = onMachine
    route = input.route
  }

  func side(_ name: String) -> Side? { sides.first { $0.name == name } }

  /// The end a `side:link` reference names (a box's link is found in its namespace's side, which
  /// may be named after another box that shares it).
  func end(_ ref: String) -> End? {
    guard let colon = ref.firstIndex(of: ":") else { return nil }
    let owner = String(ref[..<colon])
    let link = String(ref[ref.index(after: colon)...])
    return sides.first { $0.name == owner }?.links.first { $0.name == link }
  }
}

/// The cgroups boxwalk made: one per box, with its limits and what it counts.
struct CgroupTree: Equatable {
  struct Group: Equatable {
    var box: String
    var memoryMax: Int?
    var pidsMax: Int?
    var pidsCurrent: Int?
    var cpuMax: String?
    var oomKills: Int?
    /// Volatile (only with `usage`): bytes in use.
    var memoryCurrent: Int?
    var changed: Bool
  }
  var groups: [Group]

  init(_ input: PictureInput) {
    groups = input.boxes.compactMap { box in
      guard let cg = input.value(box, "cgroup") else { return nil }
      func int(_ keys: String...) -> Int? {
        if case .int(let n)? = cg.unwrapped.value(at: StatePath(keys.map { .key($0) }))?.unwrapped { return n }
        return nil
      }
      let cpu = cg.value(at: StatePath(keys: "cpu", "max"))?.stringValue
      return Group(
        box: box, memoryMax: int("memory", "max"), pidsMax: int("pids", "max"), pidsCurrent: int("pids", "current"),
        cpuMax: cpu, oomKills: int("memory", "events", "oom_kill"),
        memoryCurrent: input.usage ? int("memory", "current") : nil, changed: input.touched(box, "cgroup"))
    }
  }
}
