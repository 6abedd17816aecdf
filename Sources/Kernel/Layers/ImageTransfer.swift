/// The lines `image push`, `image pull` and `commit` print, written once for both kernels.
public enum ImageTransfer {
  public static func pushedLayer(_ name: String, existed: Bool) -> String {
    "layer \(name): " + (existed ? "already in the registry" : "pushed")
  }
  public static func pushedConfig(existed: Bool) -> String {
    "config: " + (existed ? "already in the registry" : "pushed")
  }
  public static func pushedManifest(_ ref: RegistryRef) -> String {
    "manifest: pushed, \(ref.repository):\(ref.tag) names it now"
  }
  public static func notInRegistry(_ ref: RegistryRef) -> String {
    "\(ref.registry) has no \(ref.repository):\(ref.tag)"
  }
  public static func pulledManifest(_ ref: RegistryRef, layers: Int) -> String {
    "manifest: \(ref.repository):\(ref.tag), \(layers) layer" + (layers == 1 ? "" : "s")
  }
  public static func pulledLayer(_ name: String, existed: Bool) -> String {
    "layer \(name): " + (existed ? "already here" : "pulled")
  }
  /// The name a pulled layer gets when the registry gives none, or one this store uses for other
  /// content: `sha256-` and the first 12 hex digits of its diff_id.
  public static func fallbackName(_ diffID: String) -> String {
    "sha256-" + String(diffID.dropFirst(7).prefix(12))
  }
  /// `commit`: the layer's digest and its tar entries, so the OCI whiteout form is visible.
  /// `image prune`: a layer directory no image names, removed (both kernels print this).
  public static func prunedLayer(_ diffID: String) -> String { "removed layer \(diffID.prefix(19))" }
  /// `image prune`: the blobs no image reaches (manifests and configs of images whose name now
  /// names another, and the tars of layers none names), counted: their digests are of gzip
  /// output, which only the real store makes, so both kernels say how many and not which.
  public static func prunedBlobs(_ count: Int) -> [String] {
    count == 0
      ? [] : ["removed \(count) blob\(count == 1 ? "" : "s") no image reaches (manifests, configs, layer tars)"]
  }
  /// `layer rm` of a layer a box's overlay still reads, which no image names any more.
  public static func layerBusy(box: String?) -> String {
    box.map { "box \($0) runs on it: overlayfs reads a box's lower layers for as long as the box lives" }
      ?? "a box of another session runs on it: overlayfs reads a box's lower layers for as long as the box lives"
  }

  public static func committed(_ name: String, diffID: String, tarNames: [String]) -> [String] {
    if tarNames.isEmpty {
      // An empty upper layer still makes a layer (an empty tar, two zero blocks): docker commit
      // does the same. Said, so a learner who forgot to change a file sees it here.
      return [
        "new layer \(name), diff_id \(diffID.prefix(19)), tar entries: none",
        "  the box changed no file since its root filesystem was made, so this layer is empty",
      ]
    }
    return ["new layer \(name), diff_id \(diffID.prefix(19)), tar entries:"] + tarNames.map { "  " + $0 }
  }
}
