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
    try k.perform(.imageImport(image: ImageName(name: "bad"), directory: "/srv/bad"))
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
      .boxNew(box: "web"), .unshare(box: "web", kinds: [.mnt]),
      .overlay(box: "web", names: ["busybox"], layers: ["busybox"]),
      .writeFile(box: "web", path: "/root/python", text: "x"),
    ] { try k.perform(s) }
    // chmod 4755 in the box (the simulator has no chmod command: set the mode directly).
    let id = try #require(k.boxes.first { $0.name == "web" }?.process.root.id)
    k.filesystems[id]?.upper["/root/python"]?.mode = 0o4755
    let upper = try #require(k.filesystems[id]?.upper)
    let result = try k.perform(.commit(box: "web", image: ImageName(name: "rooted")))
    let diffID = SHA256.digest(LayerTar.write(upper.withStoreModes))
    #expect(result.output.joined(separator: "\n").contains(String(diffID.dropFirst(7).prefix(12))))
    #expect(k.store.layer("rooted")?.contents["/root/python"]?.mode == 0o755)
  }

  /// `image prune`: a layer no image names goes (printed as the real backend prints it), every
  /// image's layers stay.
  @Test func pruneRemovesOnlyLayersNoImageUses() throws {
    let k = SimulatedKernel()
    #expect(try k.perform(.imagePrune).output == [])
    let orphan = LayerContents([LayerEntry(path: "/x", kind: .file([9]), mode: 0o644)])
    let diffID = SHA256.digest(LayerTar.write(orphan))
    k.store.layers.append(.init(name: "orphan", diffID: diffID, contents: orphan, hostSpecific: false))
    #expect(try k.perform(.imagePrune).output == ["removed layer \(diffID.prefix(19))"])
    #expect(k.store.layer("orphan") == nil)
    #expect(k.store.layer("busybox") != nil)
    #expect(try k.perform(.imagePrune).output == [])
  }
}
