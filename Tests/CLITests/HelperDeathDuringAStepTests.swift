import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// A helper killed while a step waits for its answer: the step's error is the one report of the
/// death, with how it died and the command that recovers, and the next command does not say it
/// again. Seen failing before the fix: the error said "the helper for web is gone", the next
/// command then printed a `note:` saying the same, and `box ls` in between still listed the dead box.
///
/// The helper is stopped (SIGSTOP) before the step, so the step is sure to be waiting on it when
/// SIGKILL arrives (a stopped process still dies of SIGKILL, signal(7)).
extension HelperDeathTests {
  /// Sends `step` while `pid` is stopped and kills it one second later; returns the step's output.
  private func killDuring(_ repl: SafetyRepl, pid: pid_t, _ step: String) throws -> [String] {
    #expect(Glibc.kill(pid, SIGSTOP) == 0)
    let killer = Thread {
      Thread.sleep(forTimeInterval: 1)
      _ = Glibc.kill(pid, SIGKILL)
    }
    killer.start()
    return try repl.run([step])
  }

  @Test(arguments: ["real", "rootless"])
  func aBoxHelperKilledDuringAStepIsReportedOnce(backend: String) async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", backend])
      defer {
        repl.closeInput()
        repl.wait()
      }
      let shown = try repl.run(["box new web", "unshare uts", "show web.host_pid"])
      let pid = try #require(shown.last.flatMap { Int32($0.split(separator: " ").last ?? "") })
      let during = try killDuring(repl, pid: pid, "hostname inner")
      let recovery = { (lines: [String]) in lines.filter { $0.contains("box new web") }.count }
      #expect(recovery(during) == 1, "\(during)")
      #expect(during.contains { $0.contains("was killed by SIGKILL") }, "\(during)")
      #expect(during.contains { $0.contains("box web gone") }, "the state line hides the loss: \(during)")
      let after = try repl.run(["box ls"])
      #expect(recovery(after) == 0, "said twice: \(after)")
      #expect(!after.contains { $0.hasPrefix("note:") }, "said twice: \(after)")
      #expect(!after.contains { $0.contains("web") }, "the dead box is still listed: \(after)")
      let again = try repl.run(["box new web", "unshare uts", "hostname again"])
      #expect(!again.contains { $0.hasPrefix("error:") || $0.hasPrefix("note:") }, "\(again)")
    }
  }

  @Test func theLabHostSideKilledDuringAStepIsReportedOnce() async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", "real"])
      defer {
        repl.closeInput()
        repl.wait()
      }
      let shown = try repl.run(["box new web", "net bridge br0", "show web.host_pid"])
      let boxHelper = try #require(shown.last.map { String($0.split(separator: " ").last ?? "") })
      let hostSide = try #require(repl.helpers().first { $0.pid != boxHelper })
      let during = try killDuring(repl, pid: pid_t(hostSide.pid) ?? 0, "net bridge br1")
      let recovery = { (lines: [String]) in lines.filter { $0.contains("the next net command makes a new host side") } }
      #expect(recovery(during).count == 1, "\(during)")
      #expect(during.contains { $0.contains("was killed by SIGKILL") }, "\(during)")
      let after = try repl.run(["links"])
      #expect(!after.contains { $0.hasPrefix("note:") }, "said twice: \(after)")
      let again = try repl.run(["net bridge br0", "links"])
      #expect(!again.contains { $0.hasPrefix("error:") || $0.hasPrefix("note:") }, "\(again)")
      #expect(again.contains { $0.contains("br0") }, "\(again)")
    }
  }
}
