import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// Another local user cannot stop this user's rootless sessions by creating /tmp/boxwalk-UID
/// first: boxwalk falls back to a directory under the user's home and says so.
@Suite(
  .serialized, .hostUnchanged,
  .enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "needs root and setpriv(1) to become nobody"))
struct RootlessStateRootTests {
  /// Before the fix nobody's session failed to start (exit 3): /tmp/boxwalk-65534 was a link.
  @Test func aSquattedTmpBoxwalkUIDFallsBackToTheHome() throws {
    let squat = "/tmp/boxwalk-\(RootlessBackendTests.nobody)"
    var st = stat()
    // Someone (another test) uses it for real: leave it alone, there is nothing to squat.
    guard lstat(squat, &st) != 0 else { return }
    #expect(symlink("/etc", squat) == 0)
    defer { unlink(squat) }
    let sandbox = try RootlessBackendTests.Sandbox()
    defer { sandbox.remove() }

    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", sandbox.path + "/bin/boxwalk"]
    // No XDG_RUNTIME_DIR: /tmp/boxwalk-UID is the first choice.
    p.environment = [
      "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": sandbox.path, "NO_COLOR": "1",
    ]
    p.currentDirectoryURL = URL(fileURLWithPath: sandbox.path)
    let r = try CommandLineTests.run(p, input: "box new web\nbox ls\n")
    #expect(r.status == 0, Comment(rawValue: r.out))
    #expect(r.out.contains("note: \(squat) is not this user's own directory"), Comment(rawValue: r.out))
    #expect(r.out.contains("sessions live in \(sandbox.path)/.local/state/boxwalk/sessions instead"))
    #expect(r.out.contains("created box web"), Comment(rawValue: r.out))
    #expect(SmallLink.target(squat) == "/etc")
    // Teardown removed the session: only the state root is left.
    #expect(
      ((try? FileManager.default.contentsOfDirectory(atPath: sandbox.path + "/.local/state/boxwalk/sessions")) ?? [])
        .isEmpty)
  }
}

enum SmallLink {
  static func target(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }
}
