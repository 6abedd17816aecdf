/// The merged view of an overlay's lower layers on their own, made once for a stack of layers, and
/// the upper layer laid over it: what `Overlay.merged` gives for the upper layer and the lowers
/// together, without walking the lowers again each time the upper layer changes (the simulator
/// builds a box's `fs` after every step that writes or removes a file, and the lower layers never
/// change once stored).
///
/// Why laying the upper layer over the lowers' merged view gives the same answer as merging them
/// all (fs/overlayfs/namei.c walks one component at a time): the upper layer takes part in a
/// directory only while every directory above it is a directory of the upper layer; where it does
/// not, the lowers decide alone, exactly as in their own view. Where it does, an upper entry wins
/// its path; a whiteout, a non-directory or an opaque directory also ends the lookup in every
/// lower layer below it, and a plain directory lets the lowers go on with the same layers that
/// take part there in their own view.
public struct MergedLowers: Sendable {
  /// `Overlay.merged(lowers)`: every visible path, sorted by bytes, with the index of the lower
  /// layer that provides it (0 for the top lower layer) and its entry.
  public let items: [(path: String, layer: Int, entry: LayerEntry)]

  public init(_ lowers: [LayerContents]) {
    items = Overlay.merged(lowers)
  }

  /// `Overlay.merged([upper] + lowers)`, layer 0 being the upper layer and the lowers following.
  public func under(_ upper: LayerContents) -> [(path: String, layer: Int, entry: LayerEntry)] {
    // What the upper layer shows, in byte order, and which of the lowers' paths it hides.
    var shown: [(path: String, layer: Int, entry: LayerEntry)] = []
    var hidden = [Bool](repeating: false, count: items.count)
    for path in upper.sortedPaths {
      guard let entry = upper[path], Self.upperReaches(path, upper) else { continue }
      // The upper entry wins its own path...
      if let i = index(of: path) { hidden[i] = true }
      // ...and a whiteout, a non-directory or an opaque directory everything under it.
      var hidesBelow = true
      switch entry.kind {
      case .whiteout: break
      case .directory(let opaque):
        shown.append((path, 0, entry))
        hidesBelow = opaque
      case .file, .symlink, .special: shown.append((path, 0, entry))
      }
      if hidesBelow {
        // Every path under `path` shares the prefix `path/`, so in byte order they follow one
        // another, starting where `path/` would go.
        let prefix = path + "/"
        var i = firstIndex(notBefore: prefix)
        while i < items.count, items[i].path.utf8.starts(with: prefix.utf8) {
          hidden[i] = true
          i += 1
        }
      }
    }
    // Both lists are in byte order, and no path is in both: merge them.
    var out: [(path: String, layer: Int, entry: LayerEntry)] = []
    out.reserveCapacity(items.count + shown.count)
    var next = 0
    for (i, item) in items.enumerated() where !hidden[i] {
      while next < shown.count, shown[next].path.utf8.lexicographicallyPrecedes(item.path.utf8) {
        out.append(shown[next])
        next += 1
      }
      out.append((item.path, item.layer + 1, item.entry))
    }
    out += shown[next...]
    return out
  }

  /// Whether a lookup of `path` still has the upper layer taking part when it gets there: every
  /// directory above `path` is a directory in the upper layer.
  static func upperReaches(_ path: String, _ upper: LayerContents) -> Bool {
    var parent = Overlay.parent(of: path)
    while parent != "/" {
      guard upper[parent]?.kind.isDirectory == true else { return false }
      parent = Overlay.parent(of: parent)
    }
    return true
  }

  /// The index of the first path not before `path` in byte order (binary search).
  func firstIndex(notBefore path: String) -> Int {
    var low = 0
    var high = items.count
    while low < high {
      let mid = (low + high) / 2
      if items[mid].path.utf8.lexicographicallyPrecedes(path.utf8) { low = mid + 1 } else { high = mid }
    }
    return low
  }

  /// The index of `path` in the lowers' view, if it is there.
  func index(of path: String) -> Int? {
    let i = firstIndex(notBefore: path)
    return i < items.count && items[i].path.utf8.elementsEqual(path.utf8) ? i : nil
  }
}
