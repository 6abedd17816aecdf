import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// What a second adversarial pass against the real backend found, each session run on the
/// kernel and, where the simulator models it, compared with the simulator's text.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct AdversaryRegressionTests {
  static let nobody: uid_t = 65534

  func session(_ backend: String, _ lines: [String], env: [String: String] = [:]) throws -> [String] {
    try CommandLineTests.boxwalk(["--backend", backend], input: lines.joined(separator: "\n") + "\n", env: env).lines
  }

  /// setns(2) into a mount namespace sets the caller's root to that namespace's root. A container
  /// (b) that joined a box still on the host's root (a) ran `touch` on the host's /tmp as root.
  @Test func aContainerCannotJoinItsWayBackToTheHostsFiles() throws {
    let proof = TestScratch.path("join-mnt-proof")
    let lines = [
      "box new a", "unshare mnt", "box new b", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root",
      "join mnt a", "run touch \(proof)", "show b.root",
    ]
    let real = try session("real", lines)
    #expect(!FileManager.default.fileExists(atPath: proof), "a box program wrote the host's \(proof): \(real)")
    try? FileManager.default.removeItem(atPath: proof)
    #expect(
      real.contains("error: refused: joining a mount namespace moves a box to that namespace's root directory"),
      "\(real)")
    #expect(real.contains("b.root = \"overlay of busybox (pivot_root)\""), "\(real)")
    // The simulator runs no touch; without the run, both print the same (the first line names
    // the backend).
    let same = lines.filter { !$0.hasPrefix("run ") }
    #expect(try session("real", same).dropFirst() == session("sim", same).dropFirst())
  }

  /// pivot-root puts the old root under /.oldroot. An image that already had that name (a link,
  /// or a directory with files) made the step fail after pivot_root(2) had changed the root,
  /// while it said "nothing was changed" and boxwalk went on showing the root as prepared.
  @Test(arguments: ["link", "directory"])
  func pivotRootRefusesAnImageThatHasOldroot(_ kind: String) throws {
    let dir = TestScratch.path("oldroot-" + kind)
    try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
    try "inside\n".write(toFile: dir + "/sub/f", atomically: false, encoding: .utf8)
    if kind == "link" {
      try FileManager.default.createSymbolicLink(atPath: dir + "/.oldroot", withDestinationPath: "sub")
    } else {
      try FileManager.default.createDirectory(atPath: dir + "/.oldroot", withIntermediateDirectories: true)
      try "x\n".write(toFile: dir + "/.oldroot/keep", atomically: false, encoding: .utf8)
    }
    let lines = [
      "image import odd \(dir)", "box new a", "unshare mnt,pid,ipc", "overlay odd,busybox", "pivot-root",
      "show a.root", "cat /sub/f", "rm /.oldroot", "pivot-root", "show a.root", "cat /sub/f",
    ]
    let real = try session("real", lines)
    #expect(real.contains("error: mkdir(\"<a rootfs>/.oldroot\", 0700): EEXIST"), "\(real)")
    let refused = real.firstIndex(of: "error: mkdir(\"<a rootfs>/.oldroot\", 0700): EEXIST") ?? 0
    #expect(real[refused...].prefix(6).contains("  state:   nothing was changed"), "\(real)")
    #expect(real.contains("a.root = \"overlay of odd,busybox (prepared)\""), "\(real)")
    #expect(real.contains("a.root = \"overlay of odd,busybox (pivot_root)\""), "\(real)")
    #expect(real.filter { $0 == "inside" }.count == 2, "\(real)")
    #expect(real.dropFirst() == (try session("sim", lines)).dropFirst())
  }

  /// BOXWALK_HOME may be a link, but not one another user planted: root's store went wherever
  /// the other user's link in /tmp pointed.
  @Test func aStoreHomeLinkOfAnotherUserIsRefused() throws {
    let victim = TestScratch.path("victim")
    try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
    let link = TestScratch.path("planted-store")
    #expect(symlink(victim, link) == 0)
    #expect(lchown(link, Self.nobody, Self.nobody) == 0)
    let image = TestScratch.path("image")
    try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
    try "x\n".write(toFile: image + "/x", atomically: false, encoding: .utf8)
    let out = try session("real", ["image import x \(image)"], env: ["BOXWALK_HOME": link])
    #expect(out.contains { $0.contains("a symbolic link owned by uid 65534, not by this user") }, "\(out)")
    #expect((try FileManager.default.contentsOfDirectory(atPath: victim)).isEmpty, "\(out)")
  }

  /// A store under a directory another user owns can be renamed away by that user and a link
  /// put in its place between two steps.
  @Test func aStoreUnderAnotherUsersDirectoryIsRefused() throws {
    let theirs = TestScratch.path("theirs")
    try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)
    #expect(chown(theirs, Self.nobody, Self.nobody) == 0)
    let image = TestScratch.path("image")
    try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
    try "x\n".write(toFile: image + "/x", atomically: false, encoding: .utf8)
    let out = try session("real", ["image import x \(image)"], env: ["BOXWALK_HOME": theirs + "/store"])
    #expect(out.contains { $0.contains("a directory above the image store, owned by uid 65534") }, "\(out)")
    #expect(!FileManager.default.fileExists(atPath: theirs + "/store/oci"), "\(out)")
  }

  /// A box program is root in the host's user namespace on the real backend. Through the proc
  /// and sysfs its box mounted it could open /proc/sysrq-trigger (one byte reboots the machine),
  /// /proc/sys/kernel/core_pattern and sysfs knobs for writing. Only opened here, with O_APPEND
  /// and nothing written, so the probe itself changes nothing even where it succeeds.
  @Test func aBoxProgramCannotWriteTheMachinesSettingsThroughProcOrSysfs() throws {
    let lines = [
      "box new a", "unshare mnt,pid,ipc", "rootfs busybox", "mount proc /proc", "mount sysfs /sys", "pivot-root",
      "run -d sleep 100",
      "run sh -c 'exec 3>>/proc/sysrq-trigger && echo opened sysrq-trigger'",
      "run sh -c 'exec 3>>/proc/sys/kernel/core_pattern && echo opened core_pattern'",
      "run sh -c 'exec 3>>/sys/kernel/mm/transparent_hugepage/enabled && echo opened a sysfs knob'",
      "run sh -c 'cat /proc/self/stat >/dev/null && echo proc still reads'",
    ]
    let out = try session("real", lines)
    #expect(!out.contains { $0.hasPrefix("opened ") }, "\(out)")
    // (Kernels built without CONFIG_MAGIC_SYSRQ have no sysrq-trigger; core_pattern is always there.)
    #expect(
      out.contains { $0.contains("/proc/sys/kernel/core_pattern") && $0.contains("Read-only file system") }, "\(out)")
    #expect(out.contains("proc still reads"), "\(out)")
    #expect(
      out.contains("  syscall  fsmount(MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC)"),
      "\(out)")
  }
}
