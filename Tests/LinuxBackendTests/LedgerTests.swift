import Testing

@testable import LinuxBackend

@Suite struct LedgerTests {
  let owner = Ledger.Owner(bootID: "03392221-a224-410b-a2c1-bea7a8bd9e97", pid: 4242, startTime: 987_654)

  @Test func textIsAHeaderThenOneLinePerObject() {
    let ledger = Ledger(
      owner: owner, records: [.helper(box: "web", pid: 100, startTime: 5), .helper(box: "db", pid: 101, startTime: 6)])
    #expect(
      ledger.text == """
        boxwalk-ledger 1 03392221-a224-410b-a2c1-bea7a8bd9e97 4242 987654
        helper web 100 5
        helper db 101 6

        """)
  }

  @Test func roundTripsAndKeepsUnknownRecords() throws {
    let ledger = Ledger(
      owner: owner,
      records: [
        .helper(box: "a b\n%c", pid: 7, startTime: 8), .unknown("cgroup /sys/fs/cgroup/boxwalk/x"),
        .helper(box: "é", pid: 9, startTime: 10), .posixMQ(name: "/jobs a\nb", inode: 1_260_332),
      ])
    #expect(try Ledger.parse(ledger.text) == ledger)
    #expect(ledger.text.split(separator: "\n").count == 5)  // an odd name never breaks a line
  }

  /// Records are appended one line each; a writer that died in the middle of a line left a last
  /// line without its newline, which names an object not made yet: it is skipped, not an error.
  @Test func appendedLinesParseAndATornLastLineIsSkipped() throws {
    var text = Ledger(owner: owner).text
    for record in [Ledger.Record.helper(box: "web", pid: 100, startTime: 5), .scratch(box: "web", path: "boxes/web")] {
      text += Ledger.line(record) + "\n"
    }
    let whole = try Ledger.parse(text)
    #expect(whole.records == [.helper(box: "web", pid: 100, startTime: 5), .scratch(box: "web", path: "boxes/web")])
    #expect(try Ledger.parse(text + "helper db 10") == whole)
    #expect(throws: Ledger.ParseError.self) { try Ledger.parse(text + "helper db 10\n") }
  }

  @Test func escapeIsPercentEncodingOutsideNameCharacters() {
    #expect(Ledger.escape("web-1.a_b") == "web-1.a_b")
    #expect(Ledger.escape("a b/%") == "a%20b%2F%25")
    #expect(Ledger.unescape("a%20b%2F%25") == "a b/%")
    #expect(Ledger.unescape("bad%2") == nil)
    #expect(Ledger.unescape("bad%zz") == nil)
  }

  @Test(arguments: [
    ("", 1), ("hello\n", 1), ("boxwalk-ledger 2 b 1 2\n", 1), ("boxwalk-ledger 1 b x 2\n", 1),
    ("boxwalk-ledger 1 b 1 2\nhelper web 1\n", 2), ("boxwalk-ledger 1 b 1 2\n\nhelper web x 3\n", 3),
  ])
  func parseErrorsNameTheLine(_ text: String, _ line: Int) {
    #expect(throws: Ledger.ParseError.self) { try Ledger.parse(text) }
    do {
      _ = try Ledger.parse(text)
    } catch {
      #expect(error.line == line, "\(error)")
    }
  }

  @Test func statLineParsingCountsFromTheLastParenthesis() throws {
    let line = "1234 (a) b) (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 5678 1000 100 \n"
    let identity = try #require(ProcessIdentity(statLine: line))
    #expect(identity == ProcessIdentity(comm: "a) b) (c", state: "S", startTime: 5678))
    #expect(ProcessIdentity(statLine: "1234 (short) S 1 2") == nil)
    #expect(ProcessIdentity(statLine: "garbage") == nil)
  }
}

@Suite struct CleanupVerdictTests {
  let owner = Ledger.Owner(bootID: "boot-a", pid: 10, startTime: 500)

  @Test func anOwnerIsAliveOnlyWithTheSameBootPidAndStartTime() {
    let running = ProcessIdentity(comm: "boxwalk", state: "S", startTime: 500)
    #expect(LedgerCleanup.ownerVerdict(owner, bootID: "boot-a", identity: running) == .alive)
    #expect(LedgerCleanup.ownerVerdict(owner, bootID: "boot-b", identity: running) != .alive)
    #expect(LedgerCleanup.ownerVerdict(owner, bootID: "boot-a", identity: nil) != .alive)
    #expect(
      LedgerCleanup.ownerVerdict(
        owner, bootID: "boot-a", identity: ProcessIdentity(comm: "boxwalk", state: "S", startTime: 501)) != .alive)
    #expect(
      LedgerCleanup.ownerVerdict(
        owner, bootID: "boot-a", identity: ProcessIdentity(comm: "boxwalk", state: "Z", startTime: 500)) != .alive)
  }

  @Test func onlyTheRecordedHelperIsEverKilled() {
    let helper = ProcessIdentity(comm: "boxwalk-helper", state: "S", startTime: 77)
    #expect(LedgerCleanup.helperVerdict(startTime: 77, sameBoot: true, identity: helper) == .kill)
    #expect(LedgerCleanup.helperVerdict(startTime: 77, sameBoot: false, identity: helper) == .otherBoot)
    #expect(LedgerCleanup.helperVerdict(startTime: 77, sameBoot: true, identity: nil) == .gone)
    #expect(LedgerCleanup.helperVerdict(startTime: 78, sameBoot: true, identity: helper) != .kill)  // recycled pid
    let sleeper = ProcessIdentity(comm: "sleep", state: "S", startTime: 77)
    #expect(LedgerCleanup.helperVerdict(startTime: 77, sameBoot: true, identity: sleeper) != .kill)
    let zombie = ProcessIdentity(comm: "boxwalk-helper", state: "Z", startTime: 77)
    #expect(LedgerCleanup.helperVerdict(startTime: 77, sameBoot: true, identity: zombie) == .gone)
  }

  @Test func directoryNamesImplyTheirOwner() {
    #expect(
      LedgerCleanup.ownerFromDirectoryName("12-345", bootID: "b") == Ledger.Owner(bootID: "b", pid: 12, startTime: 345))
    #expect(
      LedgerCleanup.ownerFromDirectoryName("12-345-2", bootID: "b")
        == Ledger.Owner(bootID: "b", pid: 12, startTime: 345))
    #expect(LedgerCleanup.ownerFromDirectoryName("web", bootID: "b") == nil)
    #expect(LedgerCleanup.ownerFromDirectoryName("12-345-x", bootID: "b") == nil)
  }
}
