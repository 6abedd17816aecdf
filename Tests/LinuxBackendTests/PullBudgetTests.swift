import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend
@testable import OCI

/// A registry decides how much a pull fetches. Each blob had a bound (512 MiB), but a pull holds
/// every new blob in memory until all are checked, so a manifest listing many large layers could
/// take the machine's memory. The pull's layers together have a bound now, and so has their count.
@Suite struct PullBudgetTests {
  /// A layer of `size` bytes that gzip cannot shrink (SplitMix64 noise), as its tar and its blob.
  static func layer(_ name: String, size: Int, seed: UInt64) throws -> (tar: [UInt8], blob: [UInt8]) {
    var rng = SplitMix64(state: seed)
    var noise: [UInt8] = []
    noise.reserveCapacity(size)
    while noise.count < size { withUnsafeBytes(of: rng.next()) { noise += $0 } }
    let tar = LayerTar.write(LayerContents([LayerEntry(path: "/" + name, kind: .file(noise), mode: 0o644)]))
    return (tar, try Gzip.compress(tar))
  }

  static func serve(_ manifest: [UInt8], _ config: [UInt8], _ blobs: [[UInt8]]) throws -> LoopbackServer {
    try LoopbackServer { target in
      func ok(_ body: [UInt8]) -> [LoopbackServer.Piece] {
        [.init(bytes: Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)]
      }
      if target.contains("/manifests/") { return ok(manifest) }
      if target.hasSuffix(SHA256.digest(config)) { return ok(config) }
      if let blob = blobs.first(where: { target.hasSuffix(SHA256.digest($0)) }) { return ok(blob) }
      return [.init(bytes: Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8))]
    }
  }

  static func manifest(config: [UInt8], blobs: [[UInt8]], sizes: [Int]? = nil) -> [UInt8] {
    Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: SHA256.digest(config), size: config.count),
      layers: blobs.enumerated().map {
        Descriptor(
          mediaType: MediaType.layerGzip, digest: SHA256.digest($0.element), size: sizes?[$0.offset] ?? $0.element.count
        )
      }
    ).json.encoded()
  }

  /// Three layers of 600 KiB under a 1 MiB budget: the pull stops before the second layer's
  /// request (its declared size is past what is left) and the store is as it was. A registry that
  /// declares a small size and sends more is stopped the same way, by what arrives. Before the
  /// fix the same pull took all three (with the real budget, 3 x 300 MiB held 900 MiB at once).
  @Test(.requiresRoot) func aPullsLayersTogetherHaveABound() throws {
    let layers = try (0..<3).map { try Self.layer("f\($0)", size: 600 << 10, seed: UInt64($0)) }
    let config = ImageConfig(architecture: "amd64", diffIDs: layers.map { SHA256.digest($0.tar) }).json.encoded()
    let blobs = layers.map(\.blob)
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    kernel.pullByteLimit = 1 << 20
    try kernel.images.ensureBusybox()
    let before = try HostileRegistryTests.tree(kernel.images.home)

    for sizes in [nil, [10, 10, 10]] {
      let server = try Self.serve(Self.manifest(config: config, blobs: blobs, sizes: sizes), config, blobs)
      defer { server.stop() }
      let ref = try RegistryRef.parse("127.0.0.1:\(server.port)/big:v1").get()
      let error = #expect(throws: KernelError.self) { try kernel.perform(.layer(.imagePull(ref: ref))) }
      #expect(error?.errno == .EFBIG, "\(String(describing: error))")
      #expect(error?.detail == "the layers of \(ref) add up to more than 1 MiB, the most one pull fetches")
      #expect(!server.requests.contains { $0.contains(SHA256.digest(blobs[2])) })
      #expect(try HostileRegistryTests.tree(kernel.images.home) == before)
    }

    // Within the budget the same image is pulled.
    kernel.pullByteLimit = 4 << 20
    let server = try Self.serve(Self.manifest(config: config, blobs: blobs), config, blobs)
    defer { server.stop() }
    try kernel.perform(.layer(.imagePull(ref: try RegistryRef.parse("127.0.0.1:\(server.port)/big:v1").get())))
  }

  /// A manifest with more layers than a box can stack is refused before any blob is fetched.
  @Test(.requiresRoot) func aManifestWithMoreLayersThanABoxStacksIsRefused() throws {
    let layers = try (0...Overlay.maxLayers).map { try Self.layer("f\($0)", size: 16, seed: UInt64($0)) }
    let config = ImageConfig(architecture: "amd64", diffIDs: layers.map { SHA256.digest($0.tar) }).json.encoded()
    let blobs = layers.map(\.blob)
    let server = try Self.serve(Self.manifest(config: config, blobs: blobs), config, blobs)
    defer { server.stop() }
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    let error = #expect(throws: KernelError.self) {
      try kernel.perform(.layer(.imagePull(ref: try RegistryRef.parse("127.0.0.1:\(server.port)/many:v1").get())))
    }
    #expect(error?.errno == .E2BIG, "\(String(describing: error))")
    #expect(!server.requests.contains { $0.contains("/blobs/") })
  }
}
