import Kernel
import OCI
import Synchronization

/// The simulator's image store and registries, in memory. Layers hold their full contents, so a
/// committed layer's tar, and so its diff_id, is byte for byte what the Linux backend writes.
struct SimImageStore {
  struct Layer: Sendable {
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
  /// Image name (full, with tag) to layer names, top first. An image names a layer by the name
  /// the layer is stored under (`Layer.name`).
  var images: [String: (name: ImageName, layers: [String])] = [:]
  /// The blobs the real store would hold, by what they are rather than by digest (the simulator
  /// keeps no compressed bytes): so `image prune` removes, and counts, the blobs the real store
  /// does. A manifest is known by its layers' names and diff_ids, a config by the diff_ids.
  var blobs: Set<Blob> = []

  enum Blob: Hashable {
    case manifest([String])
    case config([String])
    case layer(String)
  }
  /// Registries by `registryKey` ("127.0.0.1:5000" for localhost:5000 too, "oci:shelf").
  var registries: [String: SimRegistry] = [:]

  /// busybox-static is "installed" in the simulator. Its binary is a stand-in, so this layer's
  /// digest is not the real one: it is host-specific on Linux too, and never printed. Built once
  /// per process: hashing its tar is most of a new simulated kernel's cost.
  private static let busybox: Layer = {
    let contents = BusyboxImage.layer(busybox: Array("boxwalk simulated busybox\n".utf8))
    return Layer(name: BusyboxImage.name, diffID: LayerTar.diffID(contents), contents: contents, hostSpecific: true)
  }()

  /// The merged view of the busybox image's one layer (`overlay busybox`, `rootfs busybox`),
  /// made once per process for the same reason as its digest: every simulated kernel starts with
  /// this layer, and merging it was most of a new kernel's first overlay.
  static let busyboxLowers = (diffIDs: [busybox.diffID], merged: MergedLowers([busybox.contents]))

  init() {
    layers = [Self.busybox]
    let name = ImageName(name: BusyboxImage.name)
    images[name.full] = (name, [BusyboxImage.name])
    blobs = imageBlobs([BusyboxImage.name])
  }

  /// The stored names some image names.
  var namedLayers: Set<String> { Set(images.values.flatMap(\.layers)) }

  /// The name a layer goes by: its own while an image names it. One no image names (its image
  /// was tagged over or pulled again, or a box still ran on it when its image went) is known in
  /// the real store only by its directory, `layers/<diff_id>`, so it goes by `sha256-` and 12
  /// hex digits of its diff_id (ImageTransfer.fallbackName), on both kernels.
  func shownName(_ layer: Layer, named: Set<String>) -> String {
    named.contains(layer.name) ? layer.name : ImageTransfer.fallbackName(layer.diffID)
  }

  /// The layer that goes by `name` (see shownName).
  func layer(_ name: String) -> Layer? {
    let named = namedLayers
    return layers.first { shownName($0, named: named) == name }
  }

  func layer(diffID: String) -> Layer? { layers.first { $0.diffID == diffID } }

  /// The blobs an image of these layers (stored names, top first) is made of in the real store:
  /// its manifest, its config and a blob per layer.
  func imageBlobs(_ names: [String]) -> Set<Blob> {
    let stack = names.reversed().compactMap { name in layers.first { $0.name == name } }
    var blobs: Set<Blob> = [.manifest(stack.map { $0.name + " " + $0.diffID }), .config(stack.map(\.diffID))]
    for layer in stack { blobs.insert(.layer(layer.diffID)) }
    return blobs
  }

  /// Every blob an image reaches.
  var referencedBlobs: Set<Blob> { images.values.reduce(into: []) { $0.formUnion(imageBlobs($1.layers)) } }

  /// Names `image` as these layers (top first), writing its manifest and config as the real
  /// store's tag does.
  mutating func setImage(_ image: ImageName, _ names: [String]) {
    images[image.full] = (image, names)
    blobs.formUnion(imageBlobs(names))
  }

  /// Makes the busybox layer from this machine's busybox-static (the CLI reads it), so its
  /// contents and diff_id are those the real backend's image has, instead of the stand-in's.
  mutating func useBusyboxBinary(_ binary: [UInt8]) {
    guard let i = layers.firstIndex(where: { $0.name == BusyboxImage.name && $0.hostSpecific }) else { return }
    let stale = imageBlobs([BusyboxImage.name])
    defer { blobs = blobs.subtracting(stale).union(imageBlobs([BusyboxImage.name])) }
    layers[i] = Self.hostBusybox(binary)
  }

  /// The busybox layer made from this machine's binary, with the binary it was made from: made
  /// once per process and shared by every simulated kernel given the same bytes (each lesson
  /// starts a new one; the daemon one per session), so its 2 MB are held once and its tar hashed
  /// once.
  private static let hostBusyboxMade = Mutex<(binary: [UInt8], layer: Layer)?>(nil)

  private static func hostBusybox(_ binary: [UInt8]) -> Layer {
    // Equal arrays of one storage compare in constant time; other bytes are compared whole.
    if let made = hostBusyboxMade.withLock({ $0 }), made.binary == binary { return made.layer }
    let contents = BusyboxImage.layer(busybox: binary).withStoreModes
    let layer = Layer(
      name: BusyboxImage.name, diffID: LayerTar.diffID(contents), contents: contents, hostSpecific: true)
    hostBusyboxMade.withLock { $0 = (binary, layer) }
    return layer
  }

  /// Adds a layer unless one with the same content is here; returns the name it goes by and its
  /// diff_id. The store's mode rule comes first, as on Linux (StoreModes: no setuid, setgid,
  /// sticky or world-write bits), so both kernels store, and digest, the same layer.
  mutating func add(name: String, contents original: LayerContents) -> (name: String, existed: Bool, diffID: String) {
    let contents = original.withStoreModes
    let diffID = LayerTar.diffID(contents)
    let named = namedLayers
    if let same = layers.first(where: { $0.diffID == diffID }), named.contains(same.name) {
      return (same.name, true, diffID)
    }
    // As the real store: a name an image's layer goes by is taken; one only a layer no image
    // names was stored under is not (that layer goes by its digest, and keeps it).
    let free =
      layers.contains { named.contains($0.name) && $0.name == name } ? ImageTransfer.fallbackName(diffID) : name
    for i in layers.indices where layers[i].name == free && !named.contains(free) {
      layers[i].name = ImageTransfer.fallbackName(layers[i].diffID)
    }
    blobs.insert(.layer(diffID))
    // The same content no image names (its directory is still there): it is stored anew, under
    // the new name, as the real store does; a box that ran on it reads the same files.
    if let i = layers.firstIndex(where: { $0.diffID == diffID }) {
      layers[i].name = free
      return (free, false, diffID)
    }
    layers.append(Layer(name: free, diffID: diffID, contents: contents, hostSpecific: false))
    return (free, false, diffID)
  }

  var imageFacts: [ImageFacts] { images.values.map { ImageFacts(name: $0.name, layers: $0.layers) } }
  var layerFacts: [LayerFacts] {
    let named = namedLayers
    return layers.map {
      LayerFacts(
        name: shownName($0, named: named), diffID: $0.diffID, files: $0.fileCount, hostSpecific: $0.hostSpecific)
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
  /// The lower layers' names when the overlay was made, top first (the state shows these).
  var lowers: [String]
  /// Their diff_ids, by which the layers are read: a layer's name can change under a box (it
  /// goes by its digest once no image names it), its content cannot.
  var lowerIDs: [String] = []
  var upper: LayerContents
}
