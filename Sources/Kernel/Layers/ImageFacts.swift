/// What the host's image store holds (`image ls`, `layer ls`), as both kernels report it.
public struct ImageFacts: Equatable, Sendable {
  public var name: ImageName
  /// Layer names, top first (an OCI manifest lists them bottom first).
  public var layers: [String]
  public init(name: ImageName, layers: [String]) {
    self.name = name
    self.layers = layers
  }
}

public struct LayerFacts: Equatable, Sendable {
  /// The name of the image that introduced it (or a short digest for a layer pulled without one).
  public var name: String
  /// sha256 of the uncompressed tar, `sha256:` and 64 hex digits: the OCI config's diff_id.
  public var diffID: String
  /// How many regular files it holds.
  public var files: Int
  /// True when its content differs between machines (the busybox layer holds this host's
  /// busybox binary): its digest is then volatile, never printed by default (docs/transcripts.md,
  /// "What is volatile").
  public var hostSpecific: Bool
  public init(name: String, diffID: String, files: Int, hostSpecific: Bool) {
    self.name = name
    self.diffID = diffID
    self.files = files
    self.hostSpecific = hostSpecific
  }
}

/// A box whose root filesystem is an overlay: its layers and what the upper layer holds.
public struct FSFacts: Equatable, Sendable {
  /// Lower layers, top first.
  public var layers: [String]
  /// Every regular file of the merged view and where it comes from (a layer name, or `upper`).
  public var files: [(path: String, layer: String)]
  /// The upper layer's entries: copied-up and new files, directories, whiteouts.
  public var upper: [(path: String, kind: LayerEntryKind)]
  /// Directories of the upper layer at `LayerContents.depthLimit` whose entries were not read.
  public var truncated: [String]

  public init(
    layers: [String], files: [(path: String, layer: String)], upper: [(path: String, kind: LayerEntryKind)],
    truncated: [String] = []
  ) {
    self.layers = layers
    self.files = files
    self.upper = upper
    self.truncated = truncated
  }

  /// Built from the layers' contents, the same way on both kernels.
  public init(layerNames: [String], upper: LayerContents, lowers: [LayerContents]) {
    let (upper, truncated) = upper.limited()
    self.init(layerNames: layerNames, upper: upper, merged: Overlay.merged([upper] + lowers), truncated: truncated)
  }

  /// The same, from the lower layers' merged view made once (`MergedLowers`): for a kernel that
  /// keeps it while the upper layer changes.
  public init(layerNames: [String], upper: LayerContents, lowers: MergedLowers) {
    let (upper, truncated) = upper.limited()
    self.init(layerNames: layerNames, upper: upper, merged: lowers.under(upper), truncated: truncated)
  }

  private init(
    layerNames: [String], upper: LayerContents, merged: [(path: String, layer: Int, entry: LayerEntry)],
    truncated: [String]
  ) {
    self.truncated = truncated
    layers = layerNames
    files = merged.compactMap { item in
      guard case .file = item.entry.kind else { return nil }
      return (item.path, item.layer == 0 ? "upper" : layerNames[item.layer - 1])
    }
    self.upper = upper.sortedPaths.compactMap { p in upper[p].map { (p, $0.kind) } }
  }

  public static func == (a: FSFacts, b: FSFacts) -> Bool {
    a.layers == b.layers && a.files.map(\.path) == b.files.map(\.path) && a.files.map(\.layer) == b.files.map(\.layer)
      && a.upper.map(\.path) == b.upper.map(\.path) && a.upper.map(\.kind.word) == b.upper.map(\.kind.word)
      && a.truncated == b.truncated
  }
}

/// One entry of `ls`.
public struct DirectoryEntry: Equatable, Sendable {
  public var name: String
  public var kind: LayerEntryKind
  public init(name: String, kind: LayerEntryKind) {
    self.name = name
    self.kind = kind
  }
}
