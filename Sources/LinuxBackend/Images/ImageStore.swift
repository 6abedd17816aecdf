import Glibc
import Kernel
import OCI

/// The host's image store (SPEC §9): an OCI image layout at HOME/oci, and each layer unpacked
/// for overlayfs at HOME/layers/<diff_id hex>, in overlayfs's own form (whiteouts as character
/// devices 0/0, opaque directories marked with the trusted.overlay.opaque xattr), which is what
/// containerd's overlayfs snapshotter does. HOME is $BOXWALK_HOME, else /var/lib/boxwalk; tests
/// and `boxwalk test` give a throwaway one inside the session directory.
final class ImageStore {
  let home: String
  let layout: OCILayout
  private let busyboxPath: String
  /// Parsed documents and listings by digest: blobs never change.
  private var documents: [String: JSONValue] = [:]
  private var listings: [String: LayerContents] = [:]

  struct Layer: Equatable {
    var name: String
    var diffID: String
    var blob: Descriptor
    var hostSpecific: Bool
  }

  struct Image {
    var name: ImageName
    /// Top first.
    var layers: [Layer]
  }

  static let layerNameKey = Annotation.layerName
  static let hostSpecificKey = "io.boxwalk.layer.host-specific"

  init(home: String? = nil, busybox: String = "/bin/busybox") {
    if let home {
      self.home = home
    } else if let env = getenv("BOXWALK_HOME"), env.pointee != 0 {
      self.home = String(cString: env)
    } else {
      self.home = "/var/lib/boxwalk"
    }
    layout = OCILayout(root: self.home + "/oci")
    busyboxPath = busybox
  }

  var busyboxAvailable: Bool { access(busyboxPath, X_OK) == 0 }

  /// The busybox layer's diff_id before the image is built (the store builds it at the first
  /// rootfs or overlay): the sha256 of the tar the build would write, so the state shows the
  /// digest the layer will have rather than nothing. Read and hashed once.
  private var busyboxDigest: String?
  func busyboxDiffID() -> String {
    if let busyboxDigest { return busyboxDigest }
    let digest = (try? readBusybox()).map { Self.busyboxDiffID(binary: $0) } ?? ""
    busyboxDigest = digest
    return digest
  }

  /// The diff_id of the busybox layer made from this binary.
  static func busyboxDiffID(binary: [UInt8]) -> String {
    SHA256.digest(LayerTar.write(BusyboxImage.layer(busybox: binary)))
  }

  func readBusybox() throws(SystemCallError) -> [UInt8] {
    let fd = open(busyboxPath, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(busyboxPath)))", errno: errno) }
    defer { close(fd) }
    return try FileDescriptors.readAll(fd, shown: busyboxPath, limit: 64 << 20)
  }

  // MARK: Reading

  /// Every image and layer the index names. A layer is known by its diff_id; its name is the one
  /// its first manifest gives it (a name taken by other content gets the short digest instead).
  func catalog() throws(SystemCallError) -> (images: [Image], layers: [Layer]) {
    guard layout.exists else { return ([], []) }
    var images: [Image] = []
    var layers: [Layer] = []
    for descriptor in try layout.index().manifests {
      guard let ref = descriptor.annotation(Annotation.refName), case .success(let name) = ImageName.parse(ref) else {
        continue
      }
      let (manifest, config) = try manifestAndConfig(descriptor.digest)
      var stack: [Layer] = []
      for (blob, diffID) in zip(manifest.layers, config.diffIDs) {
        if let known = layers.first(where: { $0.diffID == diffID }) {
          stack.insert(known, at: 0)
          continue
        }
        var layerName = blob.annotation(Self.layerNameKey) ?? ImageTransfer.fallbackName(diffID)
        if Names.checkName(layerName, limit: 200) != nil && ImageName.parse(layerName).isFailure
          || layers.contains(where: { $0.name == layerName })
        {
          layerName = ImageTransfer.fallbackName(diffID)
        }
        let layer = Layer(
          name: layerName, diffID: diffID, blob: blob, hostSpecific: blob.annotation(Self.hostSpecificKey) == "true")
        layers.append(layer)
        stack.insert(layer, at: 0)
      }
      images.append(Image(name: name, layers: stack))
    }
    return (images, layers)
  }

  func manifestAndConfig(_ digest: String, in source: OCILayout? = nil) throws(SystemCallError) -> (
    Manifest, ImageConfig
  ) {
    let place = source ?? layout
    guard let manifest = try? Manifest(json: try document(digest, place)) else {
      throw SystemCallError(call: "parse(manifest \(digest.prefix(19)))", errno: EBADMSG)
    }
    guard let config = try? ImageConfig(json: try document(manifest.config.digest, place)),
      config.diffIDs.count == manifest.layers.count
    else { throw SystemCallError(call: "parse(config \(manifest.config.digest.prefix(19)))", errno: EBADMSG) }
    return (manifest, config)
  }

  private func document(_ digest: String, _ place: OCILayout) throws(SystemCallError) -> JSONValue {
    if let known = documents[digest] { return known }
    let json = try place.document(digest)
    documents[digest] = json
    return json
  }

  /// The facts the state tree shows. Reading them writes nothing: until a step uses it, the
  /// busybox image is listed as it will be (its content, so its digest, is this host's anyway),
  /// and a session that never touches layers leaves the store alone.
  func facts() throws(SystemCallError) -> (images: [ImageFacts], layers: [LayerFacts]) {
    let (images, layers) = try catalog()
    var imageFacts = images.map { ImageFacts(name: $0.name, layers: $0.layers.map(\.name)) }
    var layerFacts = try layers.map { l throws(SystemCallError) in
      LayerFacts(name: l.name, diffID: l.diffID, files: try listing(l).fileCount, hostSpecific: l.hostSpecific)
    }
    let busybox = ImageName(name: BusyboxImage.name)
    if busyboxAvailable, !images.contains(where: { $0.name == busybox }),
      !layers.contains(where: { $0.name == BusyboxImage.name })
    {
      imageFacts.append(ImageFacts(name: busybox, layers: [BusyboxImage.name]))
      let files = BusyboxImage.layer(busybox: []).fileCount
      layerFacts.append(LayerFacts(name: BusyboxImage.name, diffID: busyboxDiffID(), files: files, hostSpecific: true))
    }
    return (imageFacts, layerFacts)
  }

  /// Where a layer is unpacked (unpacking it from its blob if it is not yet).
  func directory(_ layer: Layer) throws(SystemCallError) -> String {
    let path = home + "/layers/" + layer.diffID.dropFirst(7)
    if access(path, F_OK) == 0 { return path }
    let tar = try tarOf(layer.blob, diffID: layer.diffID, from: layout)
    guard let contents = try? LayerTar.read(tar) else {
      throw SystemCallError(call: "read the tar of layer \(layer.name)", errno: EBADMSG)
    }
    try unpack(contents, at: path)
    return path
  }

  /// What a layer holds (kinds only), read from its directory.
  func listing(_ layer: Layer) throws(SystemCallError) -> LayerContents {
    if let known = listings[layer.diffID] { return known }
    let contents = try LayerDirectory.read(try directory(layer), .init(contents: false, overlayMarks: true))
    listings[layer.diffID] = contents
    return contents
  }

  /// The uncompressed tar of a layer blob, checked against its diff_id.
  func tarOf(_ blob: Descriptor, diffID: String, from place: OCILayout) throws(SystemCallError) -> [UInt8] {
    let compressed = try place.readBlob(blob.digest)
    let tar: [UInt8]
    do {
      tar = try Gzip.decompress(compressed, limit: LayerTar.maxTotalBytes + (64 << 20))
    } catch {
      throw SystemCallError(call: "gunzip(blob \(blob.digest.prefix(19))): \(error.reason)", errno: EBADMSG)
    }
    guard SHA256.digest(tar) == diffID else {
      throw SystemCallError(call: "sha256(layer tar): it is not the diff_id its config names", errno: EBADMSG)
    }
    return tar
  }

  private func unpack(_ contents: LayerContents, at path: String) throws(SystemCallError) {
    try Directories.make(home + "/layers")
    let partial = path + ".partial-\(getpid())"
    FileTree.remove(partial)
    do {
      try LayerDirectory.write(contents, to: partial)
    } catch {
      FileTree.remove(partial)
      throw error
    }
    guard rename(partial, path) == 0 else {
      let failure = errno
      FileTree.remove(partial)
      if failure == EEXIST || failure == ENOTEMPTY { return }
      throw SystemCallError(call: "rename(\(SmallFiles.quoted(partial)))", errno: failure)
    }
  }

  // MARK: Writing

  /// Makes the busybox image from busybox-static when the store has none (SPEC §3).
  func ensureBusybox() throws(SystemCallError) {
    let name = ImageName(name: BusyboxImage.name)
    if layout.exists, try layout.index().manifest(named: name.full) != nil { return }
    guard busyboxAvailable else { return }
    let binary = try readBusybox()
    _ = try add(name, new: [(BusyboxImage.name, BusyboxImage.layer(busybox: binary), true)], below: [])
  }

  /// Adds an image: new layers (top first) on top of existing ones. A new layer whose content
  /// the store has already is not stored twice. Returns the new image's layers, top first.
  @discardableResult
  func add(_ name: ImageName, new: [(name: String, contents: LayerContents, hostSpecific: Bool)], below: [Layer])
    throws(SystemCallError) -> [Layer]
  {
    try layout.create()
    let known = try catalog().layers
    var added: [Layer] = []
    for (layerName, contents, hostSpecific) in new {
      let tar = LayerTar.write(contents)
      let diffID = SHA256.digest(tar)
      if let same = known.first(where: { $0.diffID == diffID }) {
        added.append(same)
        continue
      }
      let gz: [UInt8]
      do {
        gz = try Gzip.compress(tar)
      } catch {
        throw SystemCallError(call: "gzip(layer \(layerName)): \(error.reason)", errno: EIO)
      }
      let digest = try layout.writeBlob(gz)
      var annotations = [(Self.layerNameKey, layerName)]
      if hostSpecific { annotations.append((Self.hostSpecificKey, "true")) }
      let blob = Descriptor(mediaType: MediaType.layerGzip, digest: digest, size: gz.count, annotations: annotations)
      try unpack(contents, at: home + "/layers/" + diffID.dropFirst(7))
      added.append(Layer(name: layerName, diffID: diffID, blob: blob, hostSpecific: hostSpecific))
    }
    let stack = added + below
    try tag(name, stack)
    return stack
  }

  /// Writes the config and manifest of `stack` (top first) and points `name` at it.
  func tag(_ name: ImageName, _ stack: [Layer]) throws(SystemCallError) {
    let bottomFirst = Array(stack.reversed())
    let config = ImageConfig(architecture: Self.architecture, diffIDs: bottomFirst.map(\.diffID)).json.encoded()
    let configDigest = try layout.writeBlob(config)
    let manifest = Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: configDigest, size: config.count),
      layers: bottomFirst.map { layer in
        var blob = layer.blob
        blob.annotations =
          [(Self.layerNameKey, layer.name)] + (layer.hostSpecific ? [(Self.hostSpecificKey, "true")] : [])
        return blob
      }
    ).json.encoded()
    let manifestDigest = try layout.writeBlob(manifest)
    var index = try layout.index()
    index.tag(name.full, Descriptor(mediaType: MediaType.manifest, digest: manifestDigest, size: manifest.count))
    try layout.writeIndex(index)
  }

  /// The OCI platform name of this machine (uname(2) machine, as Go's GOARCH spells it).
  static var architecture: String {
    var u = utsname()
    uname(&u)
    let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    switch machine {
    case "x86_64": return "amd64"
    case "aarch64": return "arm64"
    default: return machine
    }
  }
}

extension Result {
  var isFailure: Bool { if case .failure = self { true } else { false } }
}
