import Foundation
import HostSnapshotSupport
import Testing

/// A symbolic link in an image never leads a mount outside the box: mount targets and bind
/// sources are opened beneath the box's root with openat2(2) RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS
/// and the mount is attached to that descriptor (docs/security.md, "Mounts inside a box"). Before
/// that, `mount bind /hostetc /usr` with `hostetc -> /etc` in the image bound the host's /etc, and
/// after pivot-root the box read the host's /etc/shadow.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct MountResolutionTests {
  /// An image directory holding `hostetc -> /etc` (absolute: the host's /etc, seen from the
  /// host's root), an empty /usr and /etc/marker.
  func linkedImage() throws -> String {
    let dir = TestScratch.path("linky")
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: dir + "/usr", withIntermediateDirectories: true)
    try "box\n".write(toFile: dir + "/etc/marker", atomically: false, encoding: .utf8)
    try fm.createSymbolicLink(atPath: dir + "/hostetc", withDestinationPath: "/etc")
    return dir
  }

  func session(_ backend: String, _ lines: [String]) throws -> [String] {
    let r = try CommandLineTests.boxwalk(["--backend", backend], input: lines.joined(separator: "\n") + "\n")
    // The first line names the backend; everything after it must read the same on each.
    return Array(r.lines.dropFirst())
  }

  @Test func aLinkInTheImageNeverReachesTheHostsFiles() throws {
    let image = try linkedImage()
    let out = try session(
      "real",
      [
        "box new web", "unshare mnt,pid,ipc", "image import linky \(image)", "overlay linky,busybox",
        "mount bind /hostetc /usr", "mount tmpfs /hostetc", "pivot-root", "run ls /usr /hostetc",
      ])
    let refusal =
      "error: openat2(<web root>, \"/hostetc\", O_PATH|O_DIRECTORY, RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS): ELOOP"
    #expect(out.filter { $0 == refusal }.count == 2, "\(out)")
    // The host's /etc has shadow and passwd; the box's /usr is the image's empty directory, and
    // /hostetc is still the link, which inside the box points at the box's own /etc.
    #expect(!out.contains("shadow"), "\(out)")
    #expect(!out.contains { $0.hasPrefix("mounted") }, "\(out)")
    #expect(out.contains("`ls /usr /hostetc` ran as PID 1 in pid:1: exit status 0"), "\(out)")
  }

  /// The simulator models the same rule: the same session prints the same text on both.
  @Test func simAndRealResolveMountPathsAlike() throws {
    let image = try linkedImage()
    let lines = [
      "box new web", "unshare mnt", "mount proc /proc", "unshare pid", "image import linky \(image)",
      "overlay linky,busybox", "mount bind /hostetc /usr", "mount tmpfs /hostetc", "mount bind /etc/marker /usr",
      "mount tmpfs /etc/marker", "mount bind /etc /usr", "mounts", "umount /usr", "mount bind /etc /usr", "pivot-root",
      "mount proc /proc", "mount tmpfs /usr/x", "mounts", "umount /usr", "mounts",
    ]
    let sim = try session("sim", lines)
    let real = try session("real", lines)
    #expect(sim == real)
    #expect(real.contains("  /usr   bind     /etc     private"), "\(real)")
  }
}
