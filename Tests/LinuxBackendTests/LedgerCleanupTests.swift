import Glibc
import Testing

@testable import LinuxBackend

/// LedgerCleanup on real state directories. None of these can signal anything: the ledgers are
/// from another boot, or name processes that are not helpers.
@Suite struct LedgerCleanupTests {
  let bootID = (try? ProcFS(root: "/proc").bootID()) ?? ""

  @Test func aLedgerFromAnotherBootIsRemovedWithoutSignallingItsPids() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    try TestChild.withSleeper { sleeper, start in
      // Everything about this record matches a live process, but the boot does not.
      let ledger = Ledger(
        owner: .init(bootID: "00000000-0000-0000-0000-000000000000", pid: sleeper.pid, startTime: start),
        records: [.helper(box: "web", pid: sleeper.pid, startTime: start)])
      try root.write("\(sleeper.pid)-\(start)/ledger", ledger.text)

      let lines = LedgerCleanup.run(stateRoot: root.path)
      #expect(lines.contains { $0.contains("earlier boot") })
      #expect(sleeper.isRunning)
      #expect(root.entries() == [])
    }
  }

  /// A dead session with an overlay's upper layer (a whiteout in it) and a throwaway image store:
  /// both scratch records go, and so does the session directory.
  @Test(.requiresRoot) func overlayScratchAndAThrowawayStoreAreRemoved() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let session = root.path + "/99999997-1"
    let ledger = Ledger(
      owner: .init(bootID: bootID, pid: 99_999_997, startTime: 1),
      records: [
        .scratch(box: "images", path: session + "/images"), .scratch(box: "web", path: session + "/boxes/web-overlay"),
      ])
    try root.write("99999997-1/ledger", ledger.text)
    try root.write("99999997-1/images/oci/index.json", "{}")
    try root.write("99999997-1/boxes/web-overlay/upper/etc/motd", "hi")
    #expect(mknod(session + "/boxes/web-overlay/upper/etc/group", S_IFCHR, 0) == 0)
    let lines = LedgerCleanup.run(stateRoot: root.path)
    #expect(lines.contains { $0.contains("removed \(session)") })
    #expect(root.entries() == [])
  }

  @Test func aLiveOwnersSessionIsLeftAlone() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    try TestChild.withSleeper { owner, start in
      let ledger = Ledger(owner: .init(bootID: bootID, pid: owner.pid, startTime: start))
      try root.write("\(owner.pid)-\(start)/ledger", ledger.text)

      #expect(
        LedgerCleanup.run(stateRoot: root.path) == [
          "session \(owner.pid)-\(start): pid \(owner.pid) is running, left alone"
        ])
      #expect(root.entries() == ["\(owner.pid)-\(start)"])
    }
  }

  @Test func halfMadeSessionsAndUnknownRecordsAreHandledAndASecondRunIsANoOp() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    // A session directory whose ledger was never written, owned by a pid that cannot exist
    // (pid_max is at most 2^22).
    try root.write("99999999-1/ledger.tmp", "boxwalk-ledger 1")
    // A dead session with a record kind this build does not know: kept for a newer boxwalk.
    let dead = Ledger(owner: .init(bootID: bootID, pid: 99_999_998, startTime: 1), records: [.unknown("veth veth-web")])
    try root.write("99999998-1/ledger", dead.text)
    // Not ours at all.
    try root.write("photos/cat.jpg", "")

    let first = LedgerCleanup.run(stateRoot: root.path)
    #expect(first.contains { $0.contains("removed \(root.path)/99999999-1") })
    #expect(first.contains { $0.contains("unknown ledger record") })
    #expect(first.contains { $0.contains("photos: not a boxwalk session directory") })
    #expect(root.entries() == ["99999998-1", "photos"])

    let second = LedgerCleanup.run(stateRoot: root.path)
    #expect(!second.contains { $0.contains("removed") })
    #expect(root.entries() == ["99999998-1", "photos"])
  }

  /// A dead session whose ledger is gone (an older boxwalk deleted it on SIGTERM) but whose box
  /// scratch is still there: the scratch lives only under the session's boxes/, so cleanup
  /// removes it and the session directory. It refused with ENOTEMPTY before.
  @Test func aDeadSessionWithoutItsLedgerLosesItsBoxScratch() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    try root.write("99999996-1/boxes/web-overlay/upper/etc/motd", "hi")
    try root.write("99999996-1/boxes/web-overlay/work/work/.keep", "")
    // Something else in a dead session's directory is not boxwalk's: it stays, and so does the
    // directory holding it.
    try root.write("99999995-1/boxes/web-overlay/upper/x", "")
    try root.write("99999995-1/notes.txt", "mine")
    let lines = LedgerCleanup.run(stateRoot: root.path)
    #expect(lines.contains { $0.contains("removed \(root.path)/99999996-1") }, "\(lines)")
    #expect(root.entries() == ["99999995-1"])
    #expect(root.entries("/99999995-1") == ["notes.txt"])
  }

  /// A box can name a file with bytes that are not UTF-8. Removing its scratch must still remove
  /// everything (a walk by String paths turned "a\xffb" into "a\u{FFFD}b" and left it, and so
  /// the whole session directory, behind).
  @Test func fileTreeRemovesNamesThatAreNotUTF8() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    try root.write("tree/upper/etc/motd", "hi")
    let odd: [CChar] = Array("\(root.path)/tree/upper/".utf8CString.dropLast()) + [97, -1, 98, 0]  // "a\xffb"
    let fd = open(odd, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    #expect(fd >= 0)
    close(fd)
    #expect(mkdir(Array(odd.dropLast()) + [47, 100, 0], 0o755) == -1)  // a file, not a directory
    let oddDir: [CChar] = Array("\(root.path)/tree/upper/".utf8CString.dropLast()) + [-2, 0]
    #expect(mkdir(oddDir, 0o755) == 0)
    let inner = Array(oddDir.dropLast()) + [47, 120, 0]  // "\xfe/x"
    let fd2 = open(inner, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    #expect(fd2 >= 0)
    close(fd2)
    FileTree.remove(root.path + "/tree")
    #expect(root.entries() == [])
  }

  @Test func aMissingStateRootIsNothingToDo() {
    #expect(LedgerCleanup.run(stateRoot: "/tmp/boxwalk-test-does-not-exist-\(getpid())") == [])
  }
}
