/// The three OCI documents an image is made of (OCI image spec v1.1): the config (what the
/// layers are, by diff_id), the manifest (the config's and each layer blob's digest, size and
/// media type) and the index (the image layout's table of contents: which manifest each name
/// points at). Every document is written with a fixed key order, so it has one digest.
public enum MediaType {
  public static let index = "application/vnd.oci.image.index.v1+json"
  public static let manifest = "application/vnd.oci.image.manifest.v1+json"
  public static let config = "application/vnd.oci.image.config.v1+json"
  public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
  /// What Docker's registries and tools call the same things (Docker image manifest v2, schema 2).
  public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
  public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
  public static let dockerConfig = "application/vnd.docker.container.image.v1+json"

  public static let gzipLayers: Set<String> = [layerGzip, dockerLayerGzip]
  public static let manifests: Set<String> = [manifest, dockerManifest]
}

/// The annotation keys boxwalk reads and writes (OCI image spec, annotations.md).
public enum Annotation {
  /// In an index: the name a manifest goes by ("app:v1").
  public static let refName = "org.opencontainers.image.ref.name"
  /// On a layer descriptor: the name boxwalk gave the layer, so `which` still says `app` after a
  /// push and a pull. Other tools ignore it; a layer without it is named by its short digest.
  public static let layerName = "io.boxwalk.layer.name"
}

public struct Descriptor: Equatable, Sendable {
  public var mediaType: String
  public var digest: String
  public var size: Int
  public var annotations: [(String, String)]

  public init(mediaType: String, digest: String, size: Int, annotations: [(String, String)] = []) {
    self.mediaType = mediaType
    self.digest = digest
    self.size = size
    self.annotations = annotations
  }

  public static func == (a: Descriptor, b: Descriptor) -> Bool { a.json == b.json }

  public func annotation(_ key: String) -> String? { annotations.first { $0.0 == key }?.1 }

  public var json: JSONValue {
    var entries: [(String, JSONValue)] = [
      ("mediaType", .string(mediaType)), ("digest", .string(digest)), ("size", .number(size)),
    ]
    if !annotations.isEmpty { entries.append(("annotations", .object(annotations.map { ($0.0, .string($0.1)) }))) }
    return .object(entries)
  }

  public struct Invalid: Error, Equatable, Sendable {
    public var reason: String
  }

  public init(json: JSONValue) throws(Invalid) {
    guard let mediaType = json["mediaType"]?.string, let digest = json["digest"]?.string, let size = json["size"]?.int
    else { throw Invalid(reason: "a descriptor needs mediaType, digest and size") }
    guard SHA256.isDigest(digest) else { throw Invalid(reason: "digest \(digest) is not sha256:<64 hex digits>") }
    guard size >= 0 else { throw Invalid(reason: "a negative size") }
    var annotations: [(String, String)] = []
    if case .object(let entries)? = json["annotations"] {
      for (k, v) in entries { if let s = v.string { annotations.append((k, s)) } }
    }
    self.init(mediaType: mediaType, digest: digest, size: size, annotations: annotations)
  }
}

/// The image config (config.md). boxwalk writes only what it knows: the platform and the
/// diff_ids, and no timestamps, so the same layers on the same platform give the same config.
public struct ImageConfig: Equatable, Sendable {
  public var architecture: String
  public var os = "linux"
  /// sha256 of each uncompressed layer tar, bottom first.
  public var diffIDs: [String]

  public init(architecture: String, diffIDs: [String]) {
    self.architecture = architecture
    self.diffIDs = diffIDs
  }

  public var json: JSONValue {
    .object([
      ("architecture", .string(architecture)), ("os", .string(os)),
      ("rootfs", .object([("type", .string("layers")), ("diff_ids", .array(diffIDs.map { .string($0) }))])),
    ])
  }

  public init(json: JSONValue) throws(Descriptor.Invalid) {
    guard let ids = json["rootfs"]?["diff_ids"]?.array else {
      throw Descriptor.Invalid(reason: "a config without rootfs.diff_ids")
    }
    var diffIDs: [String] = []
    for id in ids {
      guard let s = id.string, SHA256.isDigest(s) else { throw Descriptor.Invalid(reason: "a bad diff_id") }
      diffIDs.append(s)
    }
    self.init(architecture: json["architecture"]?.string ?? "", diffIDs: diffIDs)
    os = json["os"]?.string ?? "linux"
  }
}

/// The image manifest (manifest.md): config and layers, bottom layer first.
public struct Manifest: Equatable, Sendable {
  public var mediaType = MediaType.manifest
  public var config: Descriptor
  public var layers: [Descriptor]

  public init(config: Descriptor, layers: [Descriptor]) {
    self.config = config
    self.layers = layers
  }

  public var json: JSONValue {
    .object([
      ("schemaVersion", .number(2)), ("mediaType", .string(mediaType)), ("config", config.json),
      ("layers", .array(layers.map(\.json))),
    ])
  }

  public init(json: JSONValue) throws(Descriptor.Invalid) {
    guard json["schemaVersion"]?.int == 2 else { throw Descriptor.Invalid(reason: "schemaVersion is not 2") }
    let type = json["mediaType"]?.string ?? MediaType.manifest
    guard MediaType.manifests.contains(type) else {
      throw Descriptor.Invalid(
        reason: "\(type) is not an image manifest (an index of several platforms is not supported)")
    }
    guard let config = json["config"], let layers = json["layers"]?.array else {
      throw Descriptor.Invalid(reason: "a manifest needs config and layers")
    }
    var descriptors: [Descriptor] = []
    for l in layers {
      let d = try Descriptor(json: l)
      guard MediaType.gzipLayers.contains(d.mediaType) else {
        throw Descriptor.Invalid(reason: "layer media type \(d.mediaType): boxwalk reads gzip layer tars only")
      }
      descriptors.append(d)
    }
    self.init(config: try Descriptor(json: config), layers: descriptors)
    mediaType = type
  }
}

/// index.json of an OCI image layout (image-layout.md): each manifest with the name it goes by.
public struct ImageIndex: Equatable, Sendable {
  public var manifests: [Descriptor]

  public init(manifests: [Descriptor] = []) { self.manifests = manifests }

  public var json: JSONValue {
    .object([
      ("schemaVersion", .number(2)), ("mediaType", .string(MediaType.index)),
      ("manifests", .array(manifests.map(\.json))),
    ])
  }

  public init(json: JSONValue) throws(Descriptor.Invalid) {
    guard let list = json["manifests"]?.array else { throw Descriptor.Invalid(reason: "an index without manifests") }
    var out: [Descriptor] = []
    for m in list { out.append(try Descriptor(json: m)) }
    self.init(manifests: out)
  }

  /// The manifest named `name` ("app:v1").
  public func manifest(named name: String) -> Descriptor? {
    manifests.first { $0.annotation(Annotation.refName) == name }
  }

  /// Points `name` at `manifest`, replacing what it named before; kept sorted by name.
  public mutating func tag(_ name: String, _ manifest: Descriptor) {
    manifests.removeAll { $0.annotation(Annotation.refName) == name }
    var d = manifest
    d.annotations = [(Annotation.refName, name)]
    manifests.append(d)
    manifests.sort { ($0.annotation(Annotation.refName) ?? "") < ($1.annotation(Annotation.refName) ?? "") }
  }

  /// The `oci-layout` file every image layout has.
  public static let layoutFile = Array("{\"imageLayoutVersion\":\"1.0.0\"}".utf8)
}
