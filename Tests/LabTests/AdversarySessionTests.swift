import Kernel
import Simulator
import Testing

@testable import Lab

/// Holes a second adversarial pass found, on the simulator: each is refused before any system
/// call, with the same text the real backend prints (CLITests.AdversaryRegressionTests runs the
/// same sessions on the kernel).
@Suite struct AdversarySessionTests {
  func session(_ lines: [String]) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines { _ = s.execute(l) }
    return s
  }

  /// setns(2) into a mount namespace sets the root to that namespace's root: a container that
  /// joined a box on the host's root would run its programs on the host's files.
  @Test func joinMntIsRefusedWhenItWouldMoveABoxOffItsRoot() throws {
    let s = try session([
      "box new a", "box new b", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root",
    ])
    let out = s.execute("join mnt a")
    #expect(
      out.first == "error: refused: joining a mount namespace moves a box to that namespace's root directory", "\(out)")
    #expect(out.contains("  state:   nothing was changed"), "\(out)")
    #expect(s.execute("show b.ns.mnt") == ["b.ns.mnt = \"mnt:1\""])
    // The other way: a box on the host's root joining a container's namespace.
    _ = s.execute("use a")
    let back = s.execute("join mnt b")
    #expect(
      back.first == "error: refused: joining a mount namespace moves a box to that namespace's root directory",
      "\(back)")
    // Two boxes on the host's root still join as before.
    _ = s.execute("box new c")
    _ = s.execute("unshare mnt")
    _ = s.execute("use a")
    #expect(s.execute("join mnt c").first == "a joined c's mnt namespace: mnt:2")
    // A namespace whose root filesystem is only prepared keeps the host's root: joining it is
    // allowed (the box stays on the host's files, as boxwalk shows it).
    _ = s.execute("box new d")
    _ = s.execute("unshare mnt")
    _ = s.execute("rootfs busybox")
    _ = s.execute("box new e")
    #expect(s.execute("join mnt d").first == "e joined d's mnt namespace: mnt:3", "\(s.execute("show e.root"))")
    #expect(s.execute("show e.root") == ["e.root = \"host\""])
  }
}
