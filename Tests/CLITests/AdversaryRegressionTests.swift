import Foundation
import Glibc
import Testing

/// What a second adversarial pass against the real backend found, each session run on the
/// kernel and, where the simulator models it, compared with the simulator's text.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct AdversaryRegressionTests {
  static let nobody: uid_t = 65534

  func session(_ backend: String, _ lines: [String], env: [String: String] = [:]) throws -> [String] {
    try CommandLineTests.boxwalk(["--backend", backend], input: lines.joined(separator: "\n") + "\n", env: env).lines
  }

  /// setns(2) into a mount namespace sets the caller's root to that namespace's root. A container
  /// (b) that joined a box still on the host's root (a) ran `touch` on the host's /tmp as root.
  @Test func aContainerCannotJoinItsWayBackToTheHostsFiles() throws {
    let proof = TestScratch.path("join-mnt-proof")
    let lines = [
      "box new a", "unshare mnt", "box new b", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root",
      "join mnt a", "run touch \(proof)", "show b.root",
    ]
    let real = try session("real", lines)
    #expect(!FileManager.default.fileExists(atPath: proof), "a box program wrote the host's \(proof): \(real)")
    try? FileManager.default.removeItem(atPath: proof)
    #expect(
      real.contains("error: refused: joining a mount namespace moves a box to that namespace's root directory"),
      "\(real)")
    #expect(real.contains("b.root = \"overlay of busybox (pivot_root)\""), "\(real)")
    // The simulator runs no touch; without the run, both print the same (the first line names
    // the backend).
    let same = lines.filter { !$0.hasPrefix("run ") }
    #expect(try session("real", same).dropFirst() == session("sim", same).dropFirst())
  }
}
