import Foundation
import Glibc
import HostSnapshotSupport
import Testing

@testable import CLI

/// What a session finds in the image store when it starts: a broken index or a killed writer's
/// leftovers are dealt with and said, and the session starts.
@Suite(.serialized, .hostUnchanged) struct ImageStoreStartupTests {
  /// Before the fix the real backend refused to start (exit 3) on an index.json that is not JSON.
  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func theRealBackendStartsOnABrokenStoreAndSaysWhatItRepaired() throws {
    let home = TestScratch.root + "/startup-store-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: home) }
    let sha = home + "/oci/blobs/sha256"
    try FileManager.default.createDirectory(atPath: sha, withIntermediateDirectories: true)
    for dir in [home, home + "/oci", home + "/oci/blobs", sha] { chmod(dir, 0o755) }
    try "{\"imageLayoutVersion\":\"1.0.0\"}".write(toFile: home + "/oci/oci-layout", atomically: false, encoding: .utf8)
    try "{\"manifests\": [".write(toFile: home + "/oci/index.json", atomically: false, encoding: .utf8)
    let leftover = sha + "/" + String(repeating: "ef", count: 32) + ".tmp-99999999-1"
    try "half".write(toFile: leftover, atomically: false, encoding: .utf8)

    let r = try CommandLineTests.boxwalk(["--backend", "real"], input: "image ls\n", env: ["BOXWALK_HOME": home])
    #expect(r.status == 0)
    #expect(r.out.contains("image store:"))
    #expect(r.out.contains("moved it to \(home)/oci/index.json.corrupt-"))
    #expect(r.out.contains("removed \(leftover), left by a killed pull or commit"))
    #expect(access(leftover, F_OK) != 0)
  }

  /// REPL history is written through SafeFiles: a link planted where the history file goes is
  /// replaced, and its target is untouched (write_history(3) would have followed it).
  @Test func historyNeverWritesThroughALink() throws {
    let dir = TestScratch.root + "/history-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "precious\n".write(toFile: dir + "/victim", atomically: false, encoding: .utf8)
    #expect(symlink(dir + "/victim", dir + "/history") == 0)
    let reader = ReadlineLineReader(historyFile: dir + "/history", completer: { _, _ in [] })
    reader.remember("box new web")
    reader.finish()
    #expect(try String(contentsOfFile: dir + "/victim", encoding: .utf8) == "precious\n")
    #expect(try String(contentsOfFile: dir + "/history", encoding: .utf8).hasSuffix("box new web\n"))
  }
}
