import Foundation
import Glibc
import Testing

@testable import LinuxBackend

/// `boxwalk cleanup` finds every state root a session of this user may have used.
@Suite(.serialized) struct CleanupStateRootTests {
  /// Root's `boxwalk cleanup` also cleans rootless sessions root ran, under /tmp/boxwalk-0 when
  /// there is no XDG_RUNTIME_DIR. Seen failing before the fix: only /run/boxwalk was looked at.
  @Test(.enabled(if: geteuid() == 0, "root's cleanup")) func rootsCleanupLooksInTmpBoxwalk0() throws {
    let root = "/tmp/boxwalk-0"
    if mkdir(root, 0o700) != 0 { #expect(errno == EEXIST) }
    var st = stat()
    try #require(lstat(root, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_uid == 0 && st.st_mode & 0o022 == 0)
    let bootID = try ProcFS(root: "/proc").bootID()
    let session = root + "/99999995-1"
    try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: session) }
    let ledger = Ledger(owner: .init(bootID: bootID, pid: 99_999_995, startTime: 1))
    try ledger.text.write(toFile: session + "/ledger", atomically: false, encoding: .utf8)
    let run = try CommandLineTests.boxwalk(["cleanup"], env: ["XDG_RUNTIME_DIR": "", "HOME": "/nonexistent"])
    #expect(run.status == 0)
    #expect(run.out.contains("removed \(session)"))
    #expect(access(session, F_OK) != 0)
  }
}
