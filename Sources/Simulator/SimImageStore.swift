import Kernel
import OCI

/// The simulator's image store and registries, in memory. Layers hold their full contents, so a
/// committed layer's tar, and so its diff_id, is byte for byte what the Linux backend writes.
struct SimImageStore {
  struct Layer {
    var name: String
    var diffID: String
    /// Never changed once stored: a layer is known by its content's digest.
    let contents: LayerContents
    var hostSpecific: Bool
    /// How many regular files `contents` holds, counted once here rather than in every facts().
    let fileCount: Int

    init(name: String, diffID: String, contents: LayerContents, hostSpecific: Bool) {
      self.name = name
      self.diffID = diffID
      self.contents = contents
      self.hostSpecific = hostSpecific
      fileCount = contents.fileCount
    }
  }

  var layers: [Layer] = []
  /// Image name (full, with tag) to layer names, top first.
  var images: [String: (name: ImageName, layers: [String])] = [:]
  /// Registries by `registryKey` ("127.0.0.1:5000" for localhost:5000 too, "oci:shelf").
  var registries: [String: SimRegistry] = [:]

  /// busybox-static is "installed" in the simulator. Its binary is a stand-in, so this layer's
  /// digest is not the real one: it is host-specific on Linux too, and never printed. Built once
  /// per process: hashing its tar is most of a new simulated kernel's cost.
  private static let busybox: Layer = {
    let contents = BusyboxImage.layer(busybox: Array("boxwalk simulated busybox\n".utf8))
    return Layer(
      name: BusyboxImage.name, diffID: SHA256.digest(LayerTar.write(contents)), contents: contents, hostSpecific: true)
  }()

  /// The merged view of the busybox image's one layer (`overlay busybox`, `rootfs busybox`),
  /// made once per process for the same reason as its digest: every simulated kernel starts with
  /// this layer, and merging it was most of a new kernel's first overlay.
  static let busyboxLowers = (names: [BusyboxImage.name], merged: MergedLowers([busybox.contents]))

  init() {
    layers = [Self.busybox]
    let name = ImageName(name: BusyboxImage.name)
    images[name.full] = (name, [BusyboxImage.name])
  }

  func layer(_ name: String) -> Layer? { layers.first { $0.name == name } }

  /// Makes the busybox layer from this machine's busybox-static (the CLI reads it), so its
  /// contents and diff_id are those the real backend's image has, instead of the stand-in's.
  mutating func useBusyboxBinary(_ binary: [UInt8]) {
    guard let i = layers.firstIndex(where: { $0.name == BusyboxImage.name && $0.hostSpecific }) else { return }
    let contents = BusyboxImage.layer(busybox: binary).withStoreModes
    layers[i] = Layer(
      name: BusyboxImage.name, diffID: SHA256.digest(LayerTar.write(contents)), contents: contents, hostSpecific: true)
  }

  /// Adds a layer unless one with the same content is here; returns the name it goes by and its
  /// diff_id. The store's mode rule comes first, as on Linux (StoreModes: no setuid, setgid,
  /// sticky or world-write bits), so both kernels store, and digest, the same layer.
  mutating func add(name: String, contents original: LayerContents) -> (name: String, existed: Bool, diffID: String) {
    let contents = original.withStoreModes
    let diffID = SHA256.digest(LayerTar.write(contents))
    if let same = layers.first(where: { $0.diffID == diffID }) { return (same.name, true, diffID) }
    let free = layer(name) == nil ? name : ImageTransfer.fallbackName(diffID)
    layers.append(Layer(name: free, diffID: diffID, contents: contents, hostSpecific: false))
    return (free, false, diffID)
  }

  var imageFacts: [ImageFacts] { images.values.map { ImageFacts(name: $0.name, layers: $0.layers) } }
  var layerFacts: [LayerFacts] {
    layers.map {
      LayerFacts(name: $0.name, diffID: $0.diffID, files: $0.fileCount, hostSpecific: $0.hostSpecific)
    }
  }
}

/// A registry, server or directory alike: blobs by diff_id, and tags naming layer lists.
struct SimRegistry {
  var blobs: [String: LayerContents] = [:]
  /// Configs by their content: the diff_ids they list.
  var configs: Set<[String]> = []
  /// "repo:tag" to the image's layers, bottom first, as (name, diff_id).
  var tags: [String: [(name: String, diffID: String)]] = [:]
}

/// A box's root filesystem in the simulator: an overlay of lower layers (top first) under the
/// upper layer, as `overlay` and `rootfs` make it.
struct SimFilesystem {
  var lowers: [String]
  var upper: LayerContents
}
