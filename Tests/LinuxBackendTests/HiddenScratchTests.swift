import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// A box that mounts over the directories holding boxwalk's own files (the session's directory,
/// the image store) does not hide them from boxwalk: the helper holds them open and reaches the
/// overlay's layers and mount point through those descriptors (BoxwalkHelper/Anchors.swift).
@Suite(.requiresRoot, .hostUnchanged) struct HiddenScratchTests {
  /// Both the state root and the image store are under /tmp here, so `mount tmpfs /tmp` in the
  /// box hides the upper, work and mount directories and every layer.
  @Test func aTmpfsOverTheScratchAndTheStoreHidesNothingFromBoxwalk() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", imageHome: root.path + "/images")
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "app")))
    try kernel.perform(.namespace(.unshare(box: "app", kinds: [.mnt])))
    try kernel.perform(.mount(.mount(box: "app", request: .tmpfs(path: "/tmp"))))
    try kernel.perform(.layer(.overlay(box: "app", names: ["busybox"], layers: ["busybox"])))
    try kernel.perform(.layer(.writeFile(box: "app", path: "/etc/motd", text: "hi")))
    #expect(try kernel.readFile(box: "app", path: "/etc/motd") == Array("hi\n".utf8))
    #expect(try kernel.origin(box: "app", path: "/etc/motd").layer == "upper")
    // A mount inside the root filesystem, made through the hidden mount point.
    try kernel.perform(.mount(.mount(box: "app", request: .tmpfs(path: "/mnt"))))
    try kernel.perform(.mount(.umount(box: "app", path: "/mnt")))

    // A box that joins the namespace takes the anchors of the box it joined, and a second
    // unshare carries them (the store's through the root directory) into the copy.
    try kernel.perform(.process(.boxNew(box: "db")))
    try kernel.perform(.namespace(.join(box: "db", kind: .mnt, target: "app")))
    try kernel.perform(.namespace(.unshare(box: "db", kinds: [.mnt])))
    try kernel.perform(.layer(.overlay(box: "db", names: ["busybox"], layers: ["busybox"])))
    #expect(try kernel.listDirectory(box: "db", path: "/etc").map(\.name) == ["group", "hostname", "passwd"])
    try kernel.perform(.mount(.chroot(box: "db")))

    try kernel.perform(.mount(.pivotRoot(box: "app")))
    #expect(try kernel.listDirectory(box: "app", path: "/etc").map(\.name).contains("motd"))

    // The helpers' roots and working directories are the box's, not boxwalk's directories.
    let facts = try kernel.facts()
    for box in ["app", "db"] {
      let pid = try #require(facts.box(box)?.process.hostPID)
      var info = stat()
      #expect(stat("/proc/\(pid)/root/etc/group", &info) == 0, "\(box)'s root is its root filesystem")
      var cwd = stat()
      var top = stat()
      #expect(stat("/proc/\(pid)/cwd", &cwd) == 0 && stat("/proc/\(pid)/root", &top) == 0)
      #expect(cwd.st_dev == top.st_dev && cwd.st_ino == top.st_ino, "\(box)'s working directory is its root")
    }
  }
}
