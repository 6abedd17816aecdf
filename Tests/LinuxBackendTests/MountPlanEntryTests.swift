import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// The mount steps on the real kernel are made entry by entry by the box's helper (a `calls`
/// request of MountCall values): an error names the entry that failed, and what the entries
/// before it did is undone where the step must leave nothing behind.
@Suite(.requiresRoot, .hostUnchanged) struct MountPlanEntryTests {
  func failure(_ kernel: LinuxKernel, _ step: Step) -> KernelError? {
    do {
      try kernel.perform(step)
      return nil
    } catch {
      return error
    }
  }

  @Test func aLaterEntryThatFailsIsNamedAndTheEarlierOnesUndone() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", imageHome: root.path + "/images")
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "app")))
    try kernel.perform(.namespace(.unshare(box: "app", kinds: [.mnt])))

    // umount2(2) of a directory nothing is mounted on: the openat2(2) of the parent and the
    // fchdir(2) were made, the third entry fails.
    let umount = try #require(failure(kernel, .mount(.umount(box: "app", path: "/mnt"))))
    #expect(umount.errno == .EINVAL)
    #expect(umount.failed == .umount2(path: "mnt", .nofollow))
    let pid = try #require(try kernel.facts().box("app")?.process.hostPID)
    var cwd = stat()
    var top = stat()
    #expect(stat("/proc/\(pid)/cwd", &cwd) == 0 && stat("/proc/\(pid)/root", &top) == 0)
    #expect(cwd.st_dev == top.st_dev && cwd.st_ino == top.st_ino, "the helper's working directory is restored")

    // pivot_root(2) into a plain directory: its mkdir(2) of put_old was made, pivot_root fails,
    // and the directory is removed again.
    try kernel.perform(.layer(.overlay(box: "app", names: ["busybox"], layers: ["busybox"], plain: true)))
    let pivot = try #require(failure(kernel, .mount(.pivotRoot(box: "app"))))
    #expect(pivot.errno == .EINVAL)
    #expect(pivot.failed == .pivotRoot(box: "app"))
    let rootfs = try #require(kernel.boxState["app"]?.rootfsPath)
    #expect(access(rootfs + "/" + Step.oldRootName, F_OK) != 0, "put_old is removed when pivot_root fails")
    // A bind mount of the root filesystem onto itself makes it a mount point.
    try kernel.perform(.mount(.mount(box: "app", request: .bind(source: "/", target: "/"))))
    try kernel.perform(.mount(.pivotRoot(box: "app")))
  }
}
