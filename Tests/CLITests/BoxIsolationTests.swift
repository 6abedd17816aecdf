import Foundation
import Testing

/// Nothing of the host reaches a box process (reliability.md T11, T12; CVE-2024-21626 and
/// CVE-2019-5736 patterns): it holds only fds 0, 1 and 2, starts in "/", runs with no_new_privs,
/// and in a box with its own pid namespace and proc nothing of boxwalk is visible.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct BoxIsolationTests {
  func run(_ lines: [String]) throws -> [String] {
    let r = try CommandLineTests.boxwalk(["--backend", "real"], input: lines.joined(separator: "\n") + "\n")
    return r.lines
  }

  /// CVE-2024-21626: runc leaked a host directory fd into the container (WORKDIR /proc/self/fd/7).
  @Test func aBoxProcessHoldsOnlyItsThreeStandardFds() throws {
    let out = try run(["box new web", "run sh -c 'ls /proc/self/fd | tr \"\\n\" \" \"'"])
    // ls opens one more fd itself (3, the directory it lists): nothing else is open.
    #expect(out.contains("0 1 2 3 "), "\(out)")
  }

  @Test func aBoxProcessStartsInTheRootDirectoryWithNoNewPrivileges() throws {
    let out = try run(["box new web", "run pwd", "run sh -c 'grep NoNewPrivs /proc/self/status | tr -d \"\\t\"'"])
    #expect(out.contains("/"), "\(out)")
    #expect(out.contains("NoNewPrivs:1"), "\(out)")
  }

  /// CVE-2019-5736: the container reached the runtime's own binary through /proc/PID/exe. A box
  /// with its own pid namespace and proc sees its own processes only, never boxwalk or its helper.
  @Test func boxwalkIsNotReachableThroughTheBoxsProc() throws {
    let out = try run([
      "box new web", "unshare pid,mnt", "mount proc /proc", "run sh -c 'for p in /proc/[0-9]*; do readlink $p/exe; done'",
    ])
    let programs = out.filter { $0.hasPrefix("/") }
    #expect(!programs.isEmpty, "\(out)")
    #expect(!programs.contains { $0.contains("boxwalk") }, "\(programs)")
  }
}
