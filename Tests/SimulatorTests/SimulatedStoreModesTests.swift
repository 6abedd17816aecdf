import Kernel
import OCI
import Testing

@testable import Simulator

/// The simulator's store keeps the Linux store's mode rule (StoreModes): no setuid, setgid,
/// sticky or world-write bit reaches a layer, and the layer's digest is that of what is stored,
/// so both kernels print the same diff_id.
@Suite struct SimulatedStoreModesTests {
  static let dangerous = LayerContents([
    LayerEntry(path: "/usr/bin/python", kind: .file([1]), mode: 0o4755),
    LayerEntry(path: "/usr/bin/wall", kind: .file([2]), mode: 0o2755),
    LayerEntry(path: "/etc/open", kind: .file([3]), mode: 0o666),
    LayerEntry(path: "/tmp", kind: .directory(opaque: false), mode: 0o1777),
    LayerEntry(path: "/bin/sh", kind: .symlink(target: "busybox"), mode: 0o777),
  ])

  @Test func importedLayersLoseTheBitsAndAreDigestedAsStored() throws {
    let k = SimulatedKernel()
    k.hostDirectoryReader = { _ in .success(Self.dangerous) }
    try k.perform(.layer(.imageImport(image: ImageName(name: "bad"), directory: "/srv/bad")))
    let layer = try #require(k.store.layer("bad"))
    #expect(layer.diffID == SHA256.digest(LayerTar.write(Self.dangerous.withStoreModes)))
    #expect(layer.diffID != SHA256.digest(LayerTar.write(Self.dangerous)))
    #expect(layer.contents["/usr/bin/python"]?.mode == 0o755)
    #expect(layer.contents["/usr/bin/wall"]?.mode == 0o755)
    #expect(layer.contents["/etc/open"]?.mode == 0o664)
    #expect(layer.contents["/tmp"]?.mode == 0o775)
    #expect(layer.contents["/bin/sh"]?.mode == 0o777)
  }

  @Test func aCommittedUpperLayerLosesTheBitsToo() throws {
    let k = SimulatedKernel()
    for s: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt])),
      .layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])),
      .layer(.writeFile(box: "web", path: "/root/python", text: "x")),
    ] { try k.perform(s) }
    // chmod 4755 in the box (the simulator has no chmod command: set the mode directly).
    let id = try #require(k.boxes.first { $0.name == "web" }?.process.root.id)
    k.filesystems[id]?.upper["/root/python"]?.mode = 0o4755
    let upper = try #require(k.filesystems[id]?.upper)
    let result = try k.perform(.layer(.commit(box: "web", image: ImageName(name: "rooted"))))
    let diffID = SHA256.digest(LayerTar.write(upper.withStoreModes))
    #expect(result.output.joined(separator: "\n").contains(String(diffID.dropFirst(7).prefix(12))))
    #expect(k.store.layer("rooted")?.contents["/root/python"]?.mode == 0o755)
  }

  /// `image prune`: a layer no image names goes (printed as the real backend prints it), every
  /// image's layers stay.
  @Test func pruneRemovesOnlyLayersNoImageUses() throws {
    let k = SimulatedKernel()
    #expect(try k.perform(.layer(.imagePrune)).output == [])
    let orphan = LayerContents([LayerEntry(path: "/x", kind: .file([9]), mode: 0o644)])
    let diffID = SHA256.digest(LayerTar.write(orphan))
    k.store.layers.append(.init(name: "orphan", diffID: diffID, contents: orphan, hostSpecific: false))
    #expect(try k.perform(.layer(.imagePrune)).output == ["removed layer \(diffID.prefix(19))"])
    #expect(k.store.layer(diffID: diffID) == nil)
    #expect(k.store.layer("busybox") != nil)
    #expect(try k.perform(.layer(.imagePrune)).output == [])
  }

  /// An image tagged over: its own layer goes by its digest (as the real store, which knows it
  /// only by its directory, shows it), a box that ran on it still reads it, `layer rm` refuses it
  /// while that box lives, and prune counts the blobs the real store would remove (the manifest
  /// and the config; the layer's tar once no box runs on it).
  @Test func aLayerNoImageNamesGoesByItsDigestAndPruneCountsItsBlobs() throws {
    let k = SimulatedKernel()
    let upper = LayerContents([LayerEntry(path: "/y", kind: .file([7]), mode: 0o644)])
    _ = k.store.add(name: "v2", contents: upper)
    k.store.setImage(ImageName(name: "v2"), ["v2", BusyboxImage.name])
    let diffID = k.store.layer("v2")!.diffID
    _ = try k.perform(.process(.boxNew(box: "b")))
    _ = try k.perform(.namespace(.unshare(box: "b", kinds: [.mnt])))
    _ = try k.perform(.layer(.overlay(box: "b", names: ["v2"], layers: ["v2", BusyboxImage.name])))
    _ = try k.perform(.layer(.imageTag(source: ImageName(name: BusyboxImage.name), target: ImageName(name: "v2"))))
    let shown = ImageTransfer.fallbackName(diffID)
    #expect(k.store.layer("v2") == nil && k.store.layer(shown)?.diffID == diffID)
    #expect(k.store.layerFacts.contains { $0.name == shown })
    #expect(throws: KernelError.self) { try k.perform(.layer(.layerRemove(name: shown))) }
    #expect(try k.readFile(box: "b", path: "/y") == [7])
    #expect(
      try k.perform(.layer(.imagePrune)).output == ImageTransfer.prunedBlobs(2),
      "the box still runs on the layer: its tar stays, the manifest and config go")
    _ = try k.perform(.process(.boxRemove(box: "b")))
    _ = try k.perform(.layer(.layerRemove(name: shown)))
    #expect(k.store.layer(diffID: diffID) == nil)
    #expect(try k.perform(.layer(.imagePrune)).output == ImageTransfer.prunedBlobs(1))
    #expect(try k.perform(.layer(.imagePrune)).output == [])
  }
}
