import Kernel
import Simulator
import Testing

@testable import Lab

/// `image rm` and `layer rm` on the simulator: what is refused (a box runs on it, another image is
/// built on it, the base image), naming who uses it, and what goes with an image (its layers no
/// other image names). The same refusals hold on the real kernel: the session decides them from
/// the state tree, and transcripts/06-layers.transcript runs them on both.
@Suite struct ImageRemoveTests {
  func session() throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for line in ["box new web", "unshare mnt", "overlay busybox", "write /etc/motd hello", "commit web-v1"] {
      let out = s.execute(line)
      #expect(s.failures == 0, "\(line): \(out)")
    }
    return s
  }

  func has(_ s: Session, _ path: String) -> Bool {
    (try? StatePath.parse(path)).flatMap { s.tree.value(at: $0) } != nil
  }

  @Test func anImageABoxRunsOnIsRefusedNamingTheBoxThenGoesWithItsOwnLayer() throws {
    let s = try session()
    for line in ["box new app", "unshare mnt", "overlay web-v1"] { _ = s.execute(line) }
    let refused = s.execute("image rm web-v1")
    #expect(refused.first == "error: image web-v1 is in use: box app runs on its layer web-v1", "\(refused)")
    #expect(refused.contains { $0.contains("box rm app first") })
    #expect(s.failures == 1 && has(s, "host.images[\"web-v1\"]"))
    let layer = s.execute("layer rm web-v1")
    #expect(layer.first == "error: layer web-v1 is in use: image web-v1 names it", "\(layer)")
    _ = s.execute("box rm app")
    let removed = s.execute("image rm web-v1")
    #expect(removed.first == "removed image web-v1 and its layers no other image used: web-v1", "\(removed)")
    #expect(!has(s, "host.images[\"web-v1\"]") && !has(s, "host.layers[\"web-v1\"]"))
    #expect(has(s, "host.layers.busybox"), "busybox's layer stays: the busybox image names it")
  }

  @Test func anImageAnotherIsBuiltOnIsRefusedAndATagSharesItsLayers() throws {
    let s = try session()
    #expect(s.execute("image rm busybox").first?.hasPrefix("error: busybox is the base image") == true)
    _ = s.execute("box rm web")
    _ = s.execute("image tag web-v1 web-v2")
    let removed = s.execute("image rm web-v1")
    #expect(removed.first == "removed image web-v1; its layers stay: other images use them", "\(removed)")
    #expect(has(s, "host.layers[\"web-v1\"]"))
    _ = s.execute("box new b")
    _ = s.execute("unshare mnt")
    _ = s.execute("overlay web-v2")
    _ = s.execute("write /x y")
    _ = s.execute("commit web-v3")
    let child = s.execute("image rm web-v2")
    #expect(child.first == "error: image web-v2 is in use: image web-v3 is built on it", "\(child)")
    let unknown = s.execute("image rm nope")
    #expect(unknown.first == "error: no image named \"nope\"", "\(unknown)")
  }

  /// A layer no image names (the name its image had moved to other content) is listed, completed
  /// and removed by the name `sha256-<12 hex>`, and `help layer` says so.
  @Test func aLayerNoImageNamesIsAddressedByItsDigest() throws {
    let s = try session()
    for line in ["image tag web-v1 oci:shelf/app:1", "image rm web-v1", "write /etc/motd bye", "commit web-v2"] {
      let out = s.execute(line)
      #expect(s.failures == 0, "\(line): \(out)")
    }
    let diffID = try #require(
      s.tree.value(at: StatePath(keys: "host", "layers", "web-v1", "diff_id"))?.stringValue)
    _ = s.execute("image tag web-v2 oci:shelf/app:1")
    let name = ImageTransfer.fallbackName(diffID)
    #expect(!has(s, "host.layers[\"web-v1\"]") && has(s, "host.layers[\"\(name)\"]"))
    #expect(s.execute("layer ls").contains { $0.hasPrefix("  \(name)") })
    #expect(s.completions(before: "layer rm ", word: "").contains(name))
    #expect(s.execute("layer rm \(name)").first == "removed layer \(name)")
    #expect(!has(s, "host.layers[\"\(name)\"]"))
    #expect(s.execute("help layer").contains { $0.contains("sha256-<12 hex> for one no image names") })
  }
}
