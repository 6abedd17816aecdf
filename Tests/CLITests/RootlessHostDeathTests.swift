import Foundation
import Glibc
import HostSnapshotSupport
import Testing

extension HelperDeathTests {
  /// The rootless backend's host is a helper too (the anchor: it holds the session's user
  /// namespace, and the host's namespaces are read from it). Killed from outside, it is reported
  /// once, its boxes go with it, and the session goes on with a new one. Seen failing before the
  /// fix: every later command, `box new` included, said `could not read the kernel state` with
  /// stat("/proc/PID/ns/cgroup"): ENOENT of the dead anchor, and nothing recovered it.
  @Test func theRootlessSessionsHostDyingIsReportedAndTheSessionGoesOn() async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", "rootless"])
      defer {
        repl.closeInput()
        repl.wait()
      }
      let shown = try repl.run(["box new web", "show web.host_pid"])
      let boxHelper = try #require(shown.last.map { String($0.split(separator: " ").last ?? "") })
      let anchor = try #require(repl.helpers().first { $0.pid != boxHelper }, "\(shown)")
      let web = try #require(repl.helpers().first { $0.pid == boxHelper }, "\(shown)")
      #expect(Glibc.kill(pid_t(anchor.pid) ?? 0, SIGKILL) == 0)
      #expect(SafetyRepl.allGone([anchor]))
      let first = try repl.run(["box ls"])
      let note =
        "note: the session's host is gone: its helper (the process holding the session's user namespace) was "
        + "killed by SIGKILL, and the boxes made in that user namespace went with it (web); the next command "
        + "starts a new one, box new NAME makes a box in it"
      #expect(first.contains(note), "\(first)")
      #expect(first.filter { $0.hasPrefix("note:") }.count == 1, "\(first)")
      #expect(!first.contains { $0.hasPrefix("error:") }, "\(first)")
      #expect(SafetyRepl.allGone([web]), "web's helper outlived its host")
      let again = try repl.run(["box new web", "unshare uts", "hostname again", "show web.hostname", "box ls"])
      #expect(!again.contains { $0.hasPrefix("error:") || $0.hasPrefix("note:") }, "\(again)")
      #expect(again.contains("web.hostname = \"again\""), "\(again)")
    }
  }
}
