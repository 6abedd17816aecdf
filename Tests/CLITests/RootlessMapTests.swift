import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// On the rootless backend a box's user namespace is made inside the session's, and the kernel
/// lets only a process in that namespace or its parent write its maps (user_namespaces(7)). So
/// `map uid 0 0 1` (the box's root is the learner's own ID) works for an unprivileged user: the
/// write is made from inside the session's user namespace. Made from the machine's, two levels
/// up, it was EPERM, and a rootless learner could not make a box root in a user namespace of
/// its own, nor mount an overlay there.
@Suite(
  .serialized, .hostUnchanged,
  .enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "needs root and setpriv(1) to become nobody"))
struct RootlessMapTests {
  @Test func aBoxMapsItsRootToTheLearnersOwnID() throws {
    let sandbox = try RootlessBackendTests.Sandbox()
    defer { sandbox.remove() }
    let r = try sandbox.boxwalk(
      ["--backend", "rootless"],
      input: "box new web\nunshare user\nmap uid 0 0 1\nmap gid 0 0 1\nid\nunshare mnt\noverlay busybox\n")
    #expect(r.lines.first?.hasPrefix("backend: rootless") == true, Comment(rawValue: r.out))
    #expect(!r.out.contains("error:"), Comment(rawValue: r.out))
    #expect(r.lines.contains("web's uid_map is now 0 0 1: uid 0 inside is 0 on the host"), Comment(rawValue: r.out))
    #expect(r.lines.contains("in web (user:1): uid=0 gid=0 (root)"), Comment(rawValue: r.out))
    #expect(r.out.contains("web's root filesystem is an overlay of busybox"), Comment(rawValue: r.out))
    // Only the session's one ID is there to map: a range needs newuidmap(1) and /etc/subuid.
    let range = try sandbox.boxwalk(
      ["--backend", "rootless"], input: "box new web\nunshare user\nmap uid 0 100000 65536\n")
    #expect(
      range.out.contains("error: write(\"/proc/<web>/uid_map\", \"0 100000 65536\"): EPERM"),
      Comment(rawValue: range.out))
  }
}
