import Kernel
import Simulator
import Testing

@testable import Lab

/// The layer and image commands refuse bad input before any step (docs/architecture.md, "Errors"):
/// no traversal.
@Suite struct SessionLayersTests {
  func session(_ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines { _ = s.execute(l) }
    return s
  }

  @Test(arguments: [
    ("overlay ../etc", "error: \"../etc\" is not an image or layer name", "starts with a letter"),
    ("overlay busybox,", "error: \"\" is not an image or layer name", "not empty"),
    ("overlay a,b", "error: no image or layer named \"a\"", "images: busybox"),
    ("overlay bsybox", "error: no image or layer named \"bsybox\"", "did you mean: busybox"),
    ("write etc/x y", "error: \"etc/x\" is not a path in the box", "starts with /"),
    ("write /a/../b y", "error: \"/a/../b\" is not a path in the box", "no . or .. parts"),
    ("rm /", "error: rm / would act on the root directory itself", "below /"),
    ("cat /etc//x", "error: \"/etc//x\" is not a path in the box", "//"),
    (
      "commit localhost:5000/app:v1",
      "error: \"localhost:5000/app:v1\" is a registry reference; local images are NAME[:TAG]", "image push"
    ),
    ("commit busybox", "error: an image or layer named busybox exists", "another name"),
    ("commit app:", "error: \"app:\" is not an image name", "not empty"),
    ("image import app relative/dir", "error: \"relative/dir\" is not a directory boxwalk imports", "absolute"),
    (
      "image push example.com:5000/app:v1", "error: \"example.com:5000/app:v1\" is not a registry reference", "loopback"
    ),
    ("image push oci:../x/app", "error: \"oci:../x/app\" is not a registry reference", "directory registry's name"),
    ("image push localhost:5000/App", "error: \"localhost:5000/App\" is not a registry reference", "lowercase"),
    ("image push localhost:70000/app", "error: \"localhost:70000/app\" is not a registry reference", "65535"),
    ("image push oci:shelf/app:v1", "error: no local image oci:shelf/app:v1 or app:v1 to push", "image tag"),
    ("image tag nothere x", "error: no image named \"nothere\"", "images: busybox"),
    ("image frob", "error: unknown command \"image frob\"", "help"),
    ("layer rm x", "error: no layer named \"x\"", "layers: busybox"),
    ("layer frob", "error: unknown command \"layer frob\"", "help"),
    (
      "umount /", "error: umount / would take web's overlay, its root filesystem, away from under the file commands",
      "box rm"
    ),
  ])
  func badInputChangesNothing(_ line: String, _ headline: String, _ detail: String) throws {
    let s = try session("box new web", "unshare mnt", "overlay busybox")
    let before = s.tree
    let out = s.execute(line)
    #expect(out.first == headline, "\(line)")
    #expect(out.dropFirst().contains { $0.contains(detail) }, "\(line): \(out)")
    #expect(s.tree == before)
  }

  @Test func fileCommandsNeedARootFilesystemOfTheBoxsOwn() throws {
    let s = try session("box new web")
    #expect(
      s.execute("write /etc/motd hi").first
        == "error: web has no root filesystem of its own, so write would touch the host's files")
    #expect(
      s.execute("overlay busybox").first?.hasPrefix("error: refused: web shares the host's mount namespace") == true)
  }

  @Test func whichExplainsWhiteoutsAndOpaqueDirectories() throws {
    let s = try session("box new web", "unshare mnt", "overlay busybox", "rm /etc/group")
    #expect(s.execute("which /etc/group").dropFirst().first?.contains("a whiteout in the upper layer hides") == true)
    _ = s.execute("rm /etc")
    _ = s.execute("write /etc/motd hi")
    #expect(s.execute("which /etc/passwd").dropFirst().first?.contains("/etc is an opaque directory") == true)
    #expect(s.execute("which /etc/motd") == ["/etc/motd: file in the upper layer (web's own, writable)"])
  }
}
