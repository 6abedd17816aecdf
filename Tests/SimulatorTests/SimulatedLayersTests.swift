import Kernel
import OCI
import Testing

@testable import Simulator

/// Copy-up, whiteouts, opaque directories and commit in the simulator, as overlayfs makes them
/// (the same sequences run on the real kernel in transcripts/06-layers.transcript).
@Suite struct SimulatedLayersTests {
  func overlayBox() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for s: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt])),
      .layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])),
    ] { try k.perform(s) }
    return k
  }

  func upper(_ k: SimulatedKernel) throws -> [String: String] {
    let fs = try #require(try k.facts().box("web")?.process.fs)
    return Dictionary(uniqueKeysWithValues: fs.upper.map { ($0.path, $0.kind.word) })
  }

  @Test func writingALowerFileCopiesItAndItsDirectoryUp() throws {
    let k = try overlayBox()
    try k.perform(.layer(.writeFile(box: "web", path: "/etc/hostname", text: "web")))
    #expect(try upper(k) == ["/etc": "dir", "/etc/hostname": "file"])
    #expect(try k.origin(box: "web", path: "/etc/hostname").layer == "upper")
    #expect(try k.readFile(box: "web", path: "/etc/hostname") == Array("web\n".utf8))
    // The lower layer did not change.
    #expect(k.store.layer("busybox")?.contents["/etc/hostname"]?.kind == .file(Array("busybox\n".utf8)))
  }

  @Test func removingALowerFileLeavesAWhiteoutAndAnUpperOnlyFileLeavesNothing() throws {
    let k = try overlayBox()
    try k.perform(.layer(.removeFile(box: "web", path: "/etc/group")))
    try k.perform(.layer(.writeFile(box: "web", path: "/tmp/x", text: "x")))
    try k.perform(.layer(.removeFile(box: "web", path: "/tmp/x")))
    #expect(try upper(k) == ["/etc": "dir", "/etc/group": "whiteout (char 0:0)", "/tmp": "dir"])
    #expect(throws: KernelError.self) { try k.readFile(box: "web", path: "/etc/group") }
  }

  @Test func aDirectoryMadeOverAWhiteoutIsOpaque() throws {
    let k = try overlayBox()
    try k.perform(.layer(.removeFile(box: "web", path: "/etc")))
    #expect(try upper(k) == ["/etc": "whiteout (char 0:0)"])
    try k.perform(.layer(.writeFile(box: "web", path: "/etc/motd", text: "hi")))
    #expect(try upper(k) == ["/etc": "opaque dir", "/etc/motd": "file"])
    #expect(try k.listDirectory(box: "web", path: "/etc").map(\.name) == ["motd"])
  }

  @Test func fileCommandsFollowNoSymbolicLink() throws {
    let k = try overlayBox()
    #expect(throws: KernelError.self) { try k.perform(.layer(.writeFile(box: "web", path: "/bin/sh", text: "x"))) }
    #expect(throws: KernelError.self) { try k.readFile(box: "web", path: "/bin/sh") }
    #expect(
      try k.listDirectory(box: "web", path: "/bin").first { $0.name == "sh" }?.kind == .symlink(target: "busybox"))
  }

  @Test func commitMakesTheUpperLayerALayerWithTheTarsDigest() throws {
    let k = try overlayBox()
    try k.perform(.layer(.removeFile(box: "web", path: "/etc/group")))
    try k.perform(.layer(.writeFile(box: "web", path: "/etc/motd", text: "hi")))
    let result = try k.perform(.layer(.commit(box: "web", image: ImageName(name: "app"))))
    let expected = LayerContents([
      LayerEntry(path: "/etc", kind: .directory(opaque: false), mode: 0o755),
      LayerEntry(path: "/etc/group", kind: .whiteout, mode: 0),
      LayerEntry(path: "/etc/motd", kind: .file(Array("hi\n".utf8)), mode: 0o644),
    ])
    let facts = try k.facts()
    #expect(facts.layers.first { $0.name == "app" }?.diffID == SHA256.digest(LayerTar.write(expected)))
    #expect(facts.images.first { $0.name.name == "app" }?.layers == ["app", "busybox"])
    #expect(result.output.dropFirst().map { $0.trimmingCharacters() } == ["etc/", "etc/.wh.group", "etc/motd"])
  }

  @Test func pushThenPullMovesOnlyWhatIsMissing() throws {
    let k = try overlayBox()
    try k.perform(.layer(.writeFile(box: "web", path: "/srv/a", text: "a")))
    try k.perform(.layer(.commit(box: "web", image: ImageName(name: "app"))))
    let ref = try RegistryRef.parse("oci:shelf/app:v1").get()
    let first = try k.perform(.layer(.imagePush(image: ImageName(name: "app"), ref: ref))).output
    #expect(first.prefix(2) == ["layer busybox: pushed", "layer app: pushed"])
    let again = try k.perform(.layer(.imagePush(image: ImageName(name: "app"), ref: ref))).output
    #expect(
      again.prefix(3) == [
        "layer busybox: already in the registry", "layer app: already in the registry",
        "config: already in the registry",
      ])
    let pulled = try k.perform(.layer(.imagePull(ref: ref))).output
    #expect(pulled == ["manifest: app:v1, 2 layers", "layer busybox: already here", "layer app: already here"])
    let missing = try RegistryRef.parse("oci:shelf/app:v2").get()
    #expect(throws: KernelError.self) { try k.perform(.layer(.imagePull(ref: missing))) }
  }

  @Test func importReadsTheDirectoryThroughTheGivenReader() throws {
    let k = SimulatedKernel()
    k.hostDirectoryReader = { path in
      path == "/srv/site"
        ? .success(LayerContents([LayerEntry(path: "/index.html", kind: .file([1]), mode: 0o644)]))
        : .failure(HostDirectoryError(errno: .ENOENT))
    }
    try k.perform(.layer(.imageImport(image: ImageName(name: "site"), directory: "/srv/site")))
    #expect(try k.facts().layers.first { $0.name == "site" }?.files == 1)
    #expect(throws: KernelError.self) {
      try k.perform(.layer(.imageImport(image: ImageName(name: "x"), directory: "/nope")))
    }
  }
}

extension String {
  func trimmingCharacters() -> String { String(drop { $0 == " " }) }
}
