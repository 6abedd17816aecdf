import Foundation
import Glibc
import Testing

@testable import LinuxBackend

/// A box can nest directories as deep as it likes (mkdir(2) limits each path, not the depth), and
/// its scratch directory must still go away at cleanup.
@Suite(.serialized) struct DeepTreeCleanupTests {
  /// A crashed session's scratch tree 3000 directories deep, cleaned by `boxwalk cleanup` run with
  /// only 64 descriptors (ulimit -n). Seen failing before the fix: the removal held one descriptor
  /// per level, hit EMFILE about 60 levels down and left the whole session directory behind.
  @Test func cleanupRemovesATreeDeeperThanItsDescriptorLimit() throws {
    let runtime = NSTemporaryDirectory() + "boxwalk-deep-" + UUID().uuidString
    try #require(mkdir(runtime, 0o700) == 0 && mkdir(runtime + "/boxwalk", 0o700) == 0)
    defer { Self.removeWithRM(runtime) }
    let session = runtime + "/boxwalk/99999993-1"
    try #require(mkdir(session, 0o700) == 0 && mkdir(session + "/boxes", 0o700) == 0)
    var fd = open(session + "/boxes", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try #require(fd >= 0)
    for level in 0..<3000 {
      let name = level == 0 ? "deep" : "d"
      guard mkdirat(fd, name, 0o755) == 0 else { break }
      let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      close(fd)
      fd = next
      guard fd >= 0 else { break }
    }
    try #require(fd >= 0)
    let file = openat(fd, "bottom", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
    try #require(file >= 0)
    close(file)
    close(fd)
    let bootID = try ProcFS(root: "/proc").bootID()
    let ledger = Ledger(
      owner: .init(bootID: bootID, pid: 99_999_993, startTime: 1),
      records: [.scratch(box: "web", path: session + "/boxes/deep")])
    try ledger.text.write(toFile: session + "/ledger", atomically: false, encoding: .utf8)

    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "ulimit -n 64 && exec \"$0\" cleanup", CommandLineTests.binDir + "/boxwalk"]
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment["XDG_RUNTIME_DIR"] = runtime
    p.environment = environment
    let run = try CommandLineTests.run(p, input: "")
    #expect(run.status == 0, "\(run.out)")
    #expect(access(session, F_OK) != 0, "\(run.out)")
  }

  /// rm -r by the coreutils tool, which walks any depth (fts(3) with one descriptor).
  static func removeWithRM(_ path: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/rm")
    p.arguments = ["-rf", "--one-file-system", path]
    try? p.run()
    p.waitUntilExit()
  }
}
