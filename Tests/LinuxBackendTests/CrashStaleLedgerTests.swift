import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// Never adopt or delete what the lab did not make (docs/security.md), beyond LedgerCleanupTests
/// and LedgerCleanupRootTests (which cover a ledger from another boot, a live owner, a dead owner's
/// live helper, and a recorded PID that is now a `sleep`): the cases where a stale ledger points at
/// something alive that is *almost* ours. Cleanup must kill nothing and delete nothing it did not
/// create. The anchors are podman's "recovers from stale pause.pid with recycled PID"
/// (test/system/550-pause-process.bats) and runtime-tools' delete_only_create_resources ("resources
/// ... not created by this container MUST NOT be deleted").
@Suite(.requiresRoot, .hostUnchanged) struct CrashStaleLedgerTests {
  let bootID = (try? ProcFS(root: "/proc").bootID()) ?? ""

  /// A live box in its own session, for a helper that is really a boxwalk-helper.
  func withLiveHelper(_ body: (pid_t, UInt64) throws -> Void) throws {
    let live = try TemporaryDirectory()
    defer { live.remove() }
    let kernel = try LinuxKernel(stateRoot: live.path)
    defer { kernel.teardown() }
    _ = try kernel.perform(.process(.boxNew(box: "live")))
    let pid = pid_t(try #require(kernel.facts().box("live")).process.hostPID)
    let start = try #require(startTime(of: pid))
    try body(pid, start)
    // Still ours, still answering: the kernel can read it and make it do a step.
    _ = try kernel.perform(.namespace(.unshare(box: "live", kinds: [.uts])))
    #expect(startTime(of: pid) == start)
  }

  /// The PID in a dead session's ledger was recycled, and by bad luck the new process is another
  /// session's boxwalk-helper: the name matches, the start time does not. Killing it would take
  /// down a learner's running box.
  @Test func aRecycledPidNowHeldByAnotherSessionsHelperIsNeverTouched() throws {
    try withLiveHelper { pid, start in
      let stale = try TemporaryDirectory()
      defer { stale.remove() }
      let ledger = Ledger(
        owner: .init(bootID: bootID, pid: 99_999_997, startTime: 1),
        records: [.helper(box: "web", pid: pid, startTime: start - 1)])
      try stale.write("99999997-1/ledger", ledger.text)

      let lines = LedgerCleanup.run(stateRoot: stale.path)
      #expect(lines.contains { $0.contains("(pid \(pid)): the pid is another process now") }, "\(lines)")
      #expect(!lines.contains { $0.contains("killed") }, "\(lines)")
      #expect(startTime(of: pid) == start)
      #expect(stale.entries() == [])
    }
  }

  /// A ledger from an earlier boot whose record matches a live helper exactly (PID, start time and
  /// name): PIDs from another boot name nothing of ours, so it is not even looked at.
  @Test func aLedgerFromAnotherBootNeverSignalsEvenAPerfectMatch() throws {
    try withLiveHelper { pid, start in
      let stale = try TemporaryDirectory()
      defer { stale.remove() }
      let ledger = Ledger(
        owner: .init(bootID: "00000000-0000-0000-0000-000000000000", pid: 99_999_996, startTime: 1),
        records: [.helper(box: "web", pid: pid, startTime: start)])
      try stale.write("99999996-1/ledger", ledger.text)

      let lines = LedgerCleanup.run(stateRoot: stale.path)
      #expect(lines.contains("  helper of box web (pid \(pid)): from an earlier boot, not signalled"), "\(lines)")
      #expect(startTime(of: pid) == start)
      #expect(stale.entries() == [])
    }
  }

  /// The crashed session's *owner* PID was recycled by a live process: the session counts as dead
  /// (start times differ), and that live process, which the ledger names twice, is never signalled.
  @Test func anOwnerPidRecycledByALiveProcessIsNeverSignalled() throws {
    let stale = try TemporaryDirectory()
    defer { stale.remove() }
    try TestChild.withSleeper { sleeper, start in
      let ledger = Ledger(
        owner: .init(bootID: bootID, pid: sleeper.pid, startTime: start + 1),
        records: [.helper(box: "web", pid: sleeper.pid, startTime: start)])
      try stale.write("\(sleeper.pid)-\(start + 1)/ledger", ledger.text)

      let lines = LedgerCleanup.run(stateRoot: stale.path)
      #expect(lines.first?.contains("the pid now belongs to another process") == true, "\(lines)")
      #expect(
        lines.contains { $0.contains("it is sleep, not boxwalk-helper") && $0.contains("not touched") }, "\(lines)")
      #expect(sleeper.isRunning)
      #expect(stale.entries() == [])
    }
  }

  /// A session directory that is a symlink to somewhere else (planted, or made by a confused
  /// script) is not a session: cleanup uses lstat(2) and never follows it, so the files it points
  /// at survive (the "victim directory" check of traversal tests and moby/go-archive's breakout
  /// tests).
  @Test func aSymlinkedSessionDirectoryIsNotFollowed() throws {
    let stale = try TemporaryDirectory()
    let victim = try TemporaryDirectory()
    defer {
      stale.remove()
      victim.remove()
    }
    let dead = Ledger(owner: .init(bootID: bootID, pid: 99_999_995, startTime: 1))
    try victim.write("ledger", dead.text)
    try victim.write("precious.txt", "keep me")
    #expect(symlink(victim.path, stale.path + "/99999995-1") == 0)

    let lines = LedgerCleanup.run(stateRoot: stale.path)
    #expect(!lines.contains { $0.contains("removed") }, "\(lines)")
    #expect(victim.entries() == ["ledger", "precious.txt"])
    // And a state root that is itself a symlink is not a state root: left alone, and said.
    let linkedRoot = stale.path + "/linked-root"
    #expect(symlink(victim.path, linkedRoot) == 0)
    #expect(
      LedgerCleanup.run(stateRoot: linkedRoot) == [
        "\(linkedRoot): left alone: it is a symbolic link, not a state directory boxwalk made"
      ])
    #expect(victim.entries() == ["ledger", "precious.txt"])
  }

  /// A dead session's directory holding files boxwalk did not write: the ledger goes, the rest stays,
  /// and cleanup says why it could not remove the directory (rmdir(2), never a recursive delete).
  @Test func aSessionDirectoryWithForeignFilesKeepsThem() throws {
    let stale = try TemporaryDirectory()
    defer { stale.remove() }
    let dead = Ledger(owner: .init(bootID: bootID, pid: 99_999_994, startTime: 1))
    try stale.write("99999994-1/ledger", dead.text)
    try stale.write("99999994-1/notes.txt", "mine, not boxwalk's")

    let lines = LedgerCleanup.run(stateRoot: stale.path)
    #expect(lines.contains { $0.contains("could not remove") && $0.contains("ENOTEMPTY") }, "\(lines)")
    #expect(stale.entries("/99999994-1") == ["notes.txt"])
    // Running it again changes nothing more and still fails nothing: cleanup is idempotent.
    let again = LedgerCleanup.run(stateRoot: stale.path)
    #expect(stale.entries("/99999994-1") == ["notes.txt"], "\(again)")
  }
}
