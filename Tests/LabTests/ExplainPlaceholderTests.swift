import Kernel
import Simulator
import Testing

@testable import Lab

/// explain names what `<web>` in a shell line stands for (the box's host PID), and only when a
/// line has one: `<web rootfs>`, a prepared root's path, is not a PID.
@Suite struct ExplainPlaceholderTests {
  static let note = "  <NAME> is that box's host PID: show NAME.host_pid"

  @Test func aBoxsPIDPlaceholderIsExplained() throws {
    let s = try Session(kernel: SimulatedKernel())
    for line in ["box new web", "unshare uts", "hostname x"] { _ = s.execute(line) }
    #expect(s.execute("explain").contains(Self.note))
  }

  @Test func aRootsPathPlaceholderAloneIsNot() throws {
    let s = try Session(kernel: SimulatedKernel())
    for line in ["box new web", "unshare mnt", "rootfs busybox --dir"] { _ = s.execute(line) }
    let out = s.execute("explain")
    #expect(out.contains { $0.contains("<web rootfs>") })
    #expect(!out.contains(Self.note))
  }
}
