import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// A helper killed from outside (kill(1), the OOM killer) is reported once, with the command that
/// recovers, and the session goes on. Before, every later command failed with a raw ENOENT or
/// ECONNRESET, or told the learner to `box rm host`, a box that does not exist.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct HelperDeathTests {
  @Test func aBoxWhoseHelperWasKilledIsReportedOnceAndCanBeMadeAgain() async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", "real"])
      defer {
        repl.closeInput()
        repl.wait()
      }
      let shown = try repl.run(["box new web", "unshare mnt,net", "net veth", "show web.host_pid"])
      let pid = try #require(shown.last.flatMap { Int32($0.split(separator: " ").last ?? "") })
      let helper = try #require(repl.helpers().first { $0.pid == String(pid) })
      #expect(Glibc.kill(pid, SIGKILL) == 0)
      #expect(SafetyRepl.allGone([helper]))  // dead (a zombie), as a learner would find it later
      let first = try repl.run(["hostname"])
      let note =
        "note: box web is gone: its helper (the process holding its namespaces) was killed by SIGKILL, and its "
        + "namespaces, processes and mounts died with it; box new web starts it again"
      // The note comes with the next line the REPL reads (SafetyRepl's own marker comment counts).
      #expect(first.contains(note), "\(first)")
      #expect(first.filter { $0.hasPrefix("note:") }.count == 1, "\(first)")
      #expect(
        first.contains("error: hostname acts on the current box, and there is none"),
        "web is no longer current: \(first)")
      let second = try repl.run(["box ls", "links"])
      #expect(!second.contains { $0.hasPrefix("note:") }, "said twice: \(second)")
      #expect(!second.contains { $0.contains("veth-web") }, "its veth outlived it: \(second)")
      let again = try repl.run(["box new web", "unshare uts", "hostname again"])
      #expect(!again.contains { $0.hasPrefix("error:") }, "\(again)")
    }
  }

  @Test func theLabHostSideDyingIsReportedAndANewOneIsMade() async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", "real"])
      defer {
        repl.closeInput()
        repl.wait()
      }
      let shown = try repl.run(["box new web", "net bridge br0", "show web.host_pid"])
      let boxHelper = try #require(shown.last.map { String($0.split(separator: " ").last ?? "") })
      let hostSide = try #require(repl.helpers().first { $0.pid != boxHelper })
      #expect(Glibc.kill(pid_t(hostSide.pid) ?? 0, SIGKILL) == 0)
      #expect(SafetyRepl.allGone([hostSide]))
      let first = try repl.run(["links"])
      #expect(
        first.contains {
          $0.hasPrefix("note: the lab network's host side is gone: its helper was killed by SIGKILL")
        }, "\(first)")
      #expect(!first.contains { $0.contains("box rm host") }, "\(first)")
      let again = try repl.run(["net bridge br0", "links"])
      #expect(!again.contains { $0.hasPrefix("error:") || $0.hasPrefix("note:") }, "\(again)")
      #expect(again.contains { $0.contains("br0") })
    }
  }
}
