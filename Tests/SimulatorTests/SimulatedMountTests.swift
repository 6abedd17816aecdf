import Kernel
import Testing

@testable import Simulator

/// Mount targets and bind sources are opened beneath the box's root with openat2(2)
/// RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, as the helper does on Linux: a symbolic link anywhere on
/// the way is ELOOP (a link in an image could otherwise lead the mount to the host's files), a
/// part that is not a directory ENOTDIR. The same session runs on the real kernel in
/// Tests/CLITests/MountResolutionTests.swift.
@Suite struct SimulatedMountTests {
  /// A box with an overlay of an image holding `hostetc -> /etc` and a regular file.
  func linkedBox() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    k.hostDirectoryReader = { _ in
      .success(
        LayerContents([
          LayerEntry(path: "/hostetc", kind: .symlink(target: "/etc"), mode: 0o777),
          LayerEntry(path: "/usr", kind: .directory(opaque: false), mode: 0o755),
          LayerEntry(path: "/etc/marker", kind: .file(Array("box\n".utf8)), mode: 0o644),
        ]))
    }
    for s: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt, .pid])),
      .layer(.imageImport(image: ImageName(name: "linky"), directory: "/srv/linky")),
      .layer(.overlay(box: "web", names: ["linky", "busybox"], layers: ["linky", "busybox"])),
    ] { try k.perform(s) }
    return k
  }

  /// Each entry of a mount step's plan is made in turn, and an error names the entry that
  /// failed, not the step's first: umount2(2) of a path nothing is mounted on is EINVAL after
  /// the openat2(2) of its parent and the fchdir(2) worked; pivot_root(2) into a root that is
  /// no mount point fails after its mkdir(2).
  @Test func aLaterEntryFailsAndIsNamed() throws {
    let k = try linkedBox()
    let umount = Step.mount(.umount(box: "web", path: "/usr"))
    let failed = try #require(failure(k, umount))
    #expect(failed.errno == .EINVAL)
    #expect(failed.failed == .umount2(path: "usr", .nofollow))
    #expect(umount.plan.firstIndex(of: .umount2(path: "usr", .nofollow)) == 2)
    // A parent that is not there fails at its openat2(2), before any umount2(2).
    let missing = try #require(failure(k, .mount(.umount(box: "web", path: "/nothing/here"))))
    #expect(missing.errno == .ENOENT)
    #expect(missing.failed == .openBeneath(box: "web", path: "/nothing", .directory))

    let plain = SimulatedKernel()
    for s: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt])),
      .layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"], plain: true)),
    ] { try plain.perform(s) }
    let pivot = try #require(failure(plain, .mount(.pivotRoot(box: "web"))))
    #expect(pivot.errno == .EINVAL)
    #expect(pivot.failed == .pivotRoot(box: "web"))
  }

  @Test func aBindSourceThroughALinkIsELOOPAtItsOpen() throws {
    let k = try linkedBox()
    let step = Step.mount(.mount(box: "web", request: .bind(source: "/hostetc", target: "/usr")))
    let error = try #require(failure(k, step))
    #expect(error.errno == .ELOOP)
    #expect(error.failed == .openBeneath(box: "web", path: "/hostetc", .directory))
    #expect(error.call.hasPrefix("openat2(<web root>, \"/hostetc\""))
    #expect(try k.facts().box("web")?.process.mounts.map(\.path) == ["/"])
  }

  @Test(arguments: [
    (MountRequest.tmpfs(path: "/hostetc"), Errno.ELOOP), (.proc(path: "/hostetc"), .ELOOP),
    (.sysfs(path: "/hostetc/ssh"), .ELOOP), (.bind(source: "/etc", target: "/hostetc"), .ELOOP),
    (.tmpfs(path: "/etc/marker"), .ENOTDIR), (.bind(source: "/etc/marker", target: "/usr"), .ENOTDIR),
    (.tmpfs(path: "/etc/marker/x"), .ENOTDIR), (.tmpfs(path: "/nonexistent"), .ENOENT),
  ])
  func aTargetOrSourceThatIsNoPlainDirectoryIsRefused(_ request: MountRequest, _ expected: Errno) throws {
    let k = try linkedBox()
    #expect(errno(k, .mount(.mount(box: "web", request: request))) == expected, "\(request)")
  }

  @Test func aBindOfTheBoxsOwnDirectoryMounts() throws {
    let k = try linkedBox()
    try k.perform(.mount(.mount(box: "web", request: .bind(source: "/etc", target: "/usr"))))
    #expect(try k.facts().box("web")?.process.mounts.map(\.path) == ["/", "/usr"])
    try k.perform(.mount(.umount(box: "web", path: "/usr")))
    let error = try #require(failure(k, .mount(.umount(box: "web", path: "/usr"))))
    #expect(error.errno == .EINVAL)
    #expect(error.call == "umount2(\"usr\", UMOUNT_NOFOLLOW)")
  }
}
