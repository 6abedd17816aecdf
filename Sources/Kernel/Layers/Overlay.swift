/// overlayfs path lookup, as the kernel does it (fs/overlayfs/namei.c, ovl_lookup), written once
/// for both kernels: the simulator runs it on its in-memory layers, the Linux backend on what it
/// reads from the upper and lower directories, so `which` and `fs.files` cannot disagree.
///
/// Layers are given top first: the upper layer (when there is one), then the lower layers in the
/// order of the `lowerdir` option. A path is looked up one component at a time. At each
/// directory, the layers that still take part are those that have a directory there, from the
/// top down to the first one that is opaque; a whiteout or a non-directory in a higher layer
/// stops every layer below it. The first layer that has the final component wins, unless what it
/// has is a whiteout: then the file does not exist.
public enum Overlay {
  /// Where `path` comes from: the index of the layer that provides it, and its entry; nil when it
  /// does not exist (never did, or whited out). "/" is not an entry.
  public static func lookup(_ path: String, in layers: [LayerContents]) -> (layer: Int, entry: LayerEntry)? {
    guard path != "/" else { return nil }
    var taking = Array(layers.indices)
    var current = ""
    let parts = path.split(separator: "/")
    for (n, part) in parts.enumerated() {
      current += "/" + part
      guard let top = taking.first(where: { layers[$0][current] != nil }), let entry = layers[top][current] else {
        return nil
      }
      if case .whiteout = entry.kind { return nil }
      if n == parts.count - 1 { return (top, entry) }
      guard entry.kind.isDirectory else { return nil }
      taking = below(current, from: top, taking, layers)
    }
    return nil
  }

  /// Every visible path with the layer it comes from, sorted by path: what `ls -R /` would show.
  /// Sorted by bytes, as `LC_ALL=C sort` does; the UTF-8 views are compared in place, no copies.
  public static func merged(_ layers: [LayerContents]) -> [(path: String, layer: Int, entry: LayerEntry)] {
    var out: [(String, Int, LayerEntry)] = []
    // Each layer's entries by parent directory, once: a walk then costs one pass over the layers.
    let children = layers.map { layer in Dictionary(grouping: layer.entries.keys) { Overlay.parent(of: $0) } }
    walk("/", Array(layers.indices), layers, children, &out)
    return out.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
  }

  /// The entries directly in a directory of the merged view, by name.
  public static func list(_ directory: String, in layers: [LayerContents]) -> [(
    name: String, layer: Int, entry: LayerEntry
  )]? {
    var taking = Array(layers.indices)
    if directory != "/" {
      guard let found = lookup(directory, in: layers), found.entry.kind.isDirectory else { return nil }
      // The layers that take part in this directory: walk down from the root again.
      var current = ""
      for part in directory.split(separator: "/") {
        current += "/" + part
        guard let t = taking.first(where: { layers[$0][current] != nil }) else { return nil }
        taking = below(current, from: t, taking, layers)
      }
    }
    var names = Set<String>()
    for i in taking { names.formUnion(layers[i].children(of: directory)) }
    var out: [(String, Int, LayerEntry)] = []
    for name in names {
      let path = directory == "/" ? "/" + name : directory + "/" + name
      guard let top = taking.first(where: { layers[$0][path] != nil }), let entry = layers[top][path] else { continue }
      if case .whiteout = entry.kind { continue }
      out.append((name, top, entry))
    }
    return out.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
  }

  private static func walk(
    _ directory: String, _ taking: [Int], _ layers: [LayerContents], _ children: [[String: [String]]],
    _ out: inout [(String, Int, LayerEntry)]
  ) {
    var paths = Set<String>()
    for i in taking { paths.formUnion(children[i][directory] ?? []) }
    for path in paths {
      guard let top = taking.first(where: { layers[$0][path] != nil }), let entry = layers[top][path] else { continue }
      if case .whiteout = entry.kind { continue }
      out.append((path, top, entry))
      if entry.kind.isDirectory { walk(path, below(path, from: top, taking, layers), layers, children, &out) }
    }
  }

  /// The layers that take part in directory `path`, given that `top` is the highest one with an
  /// entry there: from `top` down, each with a directory at `path`, through the first opaque one;
  /// a layer with a whiteout or a file there ends the list.
  private static func below(_ path: String, from top: Int, _ taking: [Int], _ layers: [LayerContents]) -> [Int] {
    var next: [Int] = []
    for i in taking where i >= top {
      guard let e = layers[i][path] else { continue }
      guard case .directory(let opaque) = e.kind else { break }
      next.append(i)
      if opaque { break }
    }
    return next
  }

  /// "/etc" for "/etc/motd", "/" for "/etc".
  public static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
  }

  /// "motd" for "/etc/motd".
  public static func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? ""
  }

  /// The kernel's limit on stacked lower layers is 500 (OVL_MAX_STACK); boxwalk also sends every
  /// layer path to its helper in one 4 KiB message, so it keeps well below that.
  public static let maxLayers = 32
}
