import Kernel
import Simulator
import Testing

@testable import Lab

/// The mount commands' policy on the simulator (the same checks run before any step on every
/// backend, so the text is the same everywhere).
@Suite struct SessionMountTests {
  func session(_ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines { _ = s.execute(l) }
    return s
  }

  /// proc mounted for the host's pid namespace lists the host's processes, and /proc/PID/root of
  /// each one is that process's root: the host's files, whatever root the box pivoted to.
  @Test(arguments: [
    ["box new web", "unshare mnt"], ["box new web", "unshare mnt", "overlay busybox", "pivot-root"],
    ["box new web", "unshare mnt", "rootfs busybox", "chroot"],
  ])
  func procForTheHostsPidNamespaceIsRefused(_ setup: [String]) throws {
    let s = try Session(kernel: SimulatedKernel())
    for l in setup { _ = s.execute(l) }
    let before = s.tree
    let failures = s.failures
    let out = s.execute("mount proc /proc")
    #expect(
      out.first
        == "error: refused: web shares the host's pid namespace, so its proc would show the host's processes, and /proc/PID/root the host's files",
      "\(out)")
    #expect(out.contains("  rule:  a box mounts proc only for a pid namespace of its own"), "\(out)")
    #expect(out.contains("  fix:   unshare pid"), "\(out)")
    #expect(out.contains("  state: nothing was changed"), "\(out)")
    #expect(s.tree == before)
    #expect(s.failures == failures + 1)
  }

  @Test func procForTheBoxsOwnPidNamespaceMounts() throws {
    let s = try session("box new web", "unshare mnt", "unshare pid")
    let out = s.execute("mount proc /proc")
    #expect(out.first == "mounted proc on /proc in web's mount namespace mnt:1; the host's mounts did not change")
    // Other file systems show nothing of the pid namespace: no refusal there.
    let sys = try session("box new web", "unshare mnt")
    #expect(sys.execute("mount tmpfs /tmp").first?.hasPrefix("mounted tmpfs on /tmp") == true)
  }
}
