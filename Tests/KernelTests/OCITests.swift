import Kernel
import OCI
import Testing

struct SHA256Tests {
  /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
  ])
  func knownDigests(_ input: String, _ hex: String) {
    #expect(SHA256.digest(Array(input.utf8)) == "sha256:" + hex)
  }

  @Test func aMillionAs() {
    #expect(
      SHA256.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        == "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func piecesHashLikeTheWhole() {
    let bytes = (0..<1000).map { UInt8($0 % 251) }
    var h = SHA256()
    h.update(bytes[0..<63])
    h.update(bytes[63..<500])
    h.update(bytes[500...])
    #expect("sha256:" + SHA256.hex(h.finish()) == SHA256.digest(bytes))
  }

  @Test func onlyLowercaseSHA256DigestsAreNames() {
    #expect(SHA256.isDigest(SHA256.digest([1])))
    #expect(!SHA256.isDigest("sha256:../../etc/passwd"))
    #expect(!SHA256.isDigest("sha512:" + String(repeating: "a", count: 64)))
    #expect(!SHA256.isDigest("sha256:" + String(repeating: "A", count: 64)))
  }
}

struct LayerTarTests {
  static let layer = LayerContents([
    LayerEntry(path: "/etc", kind: .directory(opaque: true), mode: 0o755),
    LayerEntry(path: "/etc/motd", kind: .file(Array("hello\n".utf8)), mode: 0o644),
    LayerEntry(path: "/etc/group", kind: .whiteout, mode: 0),
    LayerEntry(path: "/bin/sh", kind: .symlink(target: "busybox"), mode: 0o777),
    LayerEntry(
      path: "/" + String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 120), kind: .file([1]),
      mode: 0o600),
  ])

  @Test func whiteoutsAndOpaqueDirectoriesTakeTheOCIForm() {
    let names = LayerTar.entryNames(Self.layer)
    #expect(names.contains("etc/.wh.group"))
    #expect(names.contains("etc/.wh..wh..opq"))
    #expect(names.firstIndex(of: "etc/") ?? 99 < names.firstIndex(of: "etc/motd") ?? 0)
  }

  @Test func writingIsReproducibleAndReadingGivesTheLayerBack() throws {
    let tar = LayerTar.write(Self.layer)
    #expect(tar == LayerTar.write(Self.layer))
    #expect(tar.count % 512 == 0)
    #expect(try LayerTar.read(tar) == Self.layer)
  }

  /// A layer's diff_id is hashed as its tar is written, never held whole: the same digest.
  @Test func theDiffIDIsTheDigestOfTheTar() {
    #expect(LayerTar.diffID(Self.layer) == SHA256.digest(LayerTar.write(Self.layer)))
    #expect(LayerTar.diffID(LayerContents()) == SHA256.digest([UInt8](repeating: 0, count: 1024)))
  }

  static func header(_ name: String, type: Character, link: String = "") -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 512)
    for (i, c) in name.utf8.enumerated() { b[i] = c }
    for (i, c) in "0000644\0".utf8.enumerated() { b[100 + i] = c }
    for (i, c) in "00000000000\0".utf8.enumerated() { b[124 + i] = c }
    b[156] = UInt8(ascii: type.asciiValue.map { Unicode.Scalar($0) } ?? "0")
    for (i, c) in link.utf8.enumerated() { b[157 + i] = c }
    for (i, c) in "ustar\0".utf8.enumerated() { b[257 + i] = c }
    for i in 148..<156 { b[i] = 32 }
    let sum = String(b.reduce(0) { $0 + Int($1) }, radix: 8)
    for (i, c) in (String(repeating: "0", count: 6 - sum.count) + sum).utf8.enumerated() { b[148 + i] = c }
    b[154] = 0
    return b + [UInt8](repeating: 0, count: 1024)
  }

  @Test(arguments: [
    ("../etc/passwd", Character("0"), ""), ("a/../../b", Character("0"), ""), ("link", Character("1"), "/etc/shadow"),
    ("dev/sda", Character("3"), ""), ("fifo", Character("6"), ""),
    // Whiteouts of names that are no names: `..` (the parent), `.` and the empty name.
    ("a/.wh...", Character("0"), ""), (".wh..", Character("0"), ""), ("a/.wh.", Character("0"), ""),
  ])
  func hostileEntriesAreRefused(_ name: String, _ type: Character, _ link: String) {
    #expect(throws: LayerTar.ReadError.self) { try LayerTar.read(Self.header(name, type: type, link: link)) }
  }

  @Test func absolutePathsStayInsideTheLayer() throws {
    let layer = try LayerTar.read(Self.header("/etc/x", type: "0"))
    #expect(layer["/etc/x"] != nil)
  }

  @Test func aBadChecksumIsAnError() {
    var tar = Self.header("x", type: "0")
    tar[0] = UInt8(ascii: "y")
    #expect(throws: LayerTar.ReadError.self) { try LayerTar.read(tar) }
  }
}

struct OCIDocumentTests {
  @Test func documentsRoundTripWithAFixedKeyOrder() throws {
    let d = Descriptor(
      mediaType: MediaType.layerGzip, digest: SHA256.digest([1]), size: 5, annotations: [(Annotation.layerName, "app")])
    let manifest = Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: SHA256.digest([2]), size: 9), layers: [d])
    let bytes = manifest.json.encoded()
    #expect(
      String(decoding: bytes, as: UTF8.self).hasPrefix(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\""))
    #expect(try Manifest(json: JSONValue.parse(bytes)) == manifest)
    var index = ImageIndex()
    index.tag("b:latest", d)
    index.tag("a:v1", d)
    index.tag("b:latest", d)
    #expect(index.manifests.compactMap { $0.annotation(Annotation.refName) } == ["a:v1", "b:latest"])
  }

  @Test func dockerManifestsAreRead() throws {
    let json = """
      {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
       "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"\(SHA256.digest([1]))"},
       "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2,"digest":"\(SHA256.digest([2]))"}]}
      """
    let m = try Manifest(json: JSONValue.parse(Array(json.utf8)))
    #expect(m.layers.count == 1)
  }

  @Test func badDocumentsAreRefused() {
    #expect(throws: (any Error).self) { try JSONValue.parse(Array("{\"a\":".utf8)) }
    #expect(throws: (any Error).self) { try JSONValue.parse(Array(String(repeating: "[", count: 100).utf8)) }
    let bad =
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"size\":1,\"digest\":\"sha256:../../x\"},\"layers\":[]}"
    #expect(throws: (any Error).self) { try Manifest(json: JSONValue.parse(Array(bad.utf8))) }
  }
}
