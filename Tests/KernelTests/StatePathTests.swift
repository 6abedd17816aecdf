import Testing

@testable import Kernel

@Suite struct StatePathTests {
  @Test(arguments: [
    "web.hostname", "web.ns.uts", "web.mounts[\"/proc\"].fstype", "web.pid.ps[0]", "host", "[\"a.b\"].hostname",
  ])
  func roundTrips(_ text: String) throws {
    #expect(try StatePath.parse(text).description == text)
  }

  @Test func bracketKeysAreKeys() throws {
    let p = try StatePath.parse("web.net.links[\"eth0\"].state")
    #expect(p.components == [.key("web"), .key("net"), .key("links"), .key("eth0"), .key("state")])
  }

  @Test(arguments: [
    ("", 1), ("web.", 5), ("web..x", 5), ("web[\"x", 7), ("web[]", 5), ("web[0", 6), ("we b", 3),
  ])
  func syntaxErrorsGiveTheColumn(_ text: String, _ column: Int) {
    #expect(throws: PathSyntaxError.self) { try StatePath.parse(text) }
    do {
      _ = try StatePath.parse(text)
    } catch {
      #expect(error.column == column, "\(text): \(error.reason)")
    }
  }

  @Test func bracketKeysMayComeWithoutQuotesAsAShellLeavesThem() throws {
    #expect(try StatePath.parse("web.mounts[/proc].fstype") == StatePath(keys: "web", "mounts", "/proc", "fstype"))
    #expect(try StatePath.parse("web.pid.ps[0]").components.last == .index(0))
  }

  @Test func keysThatAreNotBareAreQuoted() {
    #expect(StatePath(keys: "web", "files", "/etc/motd").description == "web.files[\"/etc/motd\"]")
  }

  @Test func valueLookupWalksMapsAndLists() {
    let tree = StateValue.map(StateMap([("a", .list([.int(1), .map(StateMap([("b", .string("x"))]))]))]))
    #expect(tree.value(at: StatePath([.key("a"), .index(1), .key("b")])) == .string("x"))
    #expect(tree.value(at: StatePath([.key("a"), .index(2)])) == nil)
    #expect(tree.value(at: StatePath(keys: "a", "b")) == nil)
  }
}

@Suite struct JSONTests {
  @Test func quotesLikeRFC8259() {
    #expect(JSON.quote("lab-box") == "\"lab-box\"")
    #expect(JSON.quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
    #expect(JSON.quote("\u{1B}[31m") == "\"\\u001b[31m\"")
  }

  @Test func encodesInTreeOrderWithVolatileValues() {
    let v = StateValue.map(
      StateMap([("z", .int(1)), ("a", .volatile(.int(42))), ("l", .list([.bool(true), .string("s")]))]))
    #expect(JSON.encode(v) == "{\"z\":1,\"a\":42,\"l\":[true,\"s\"]}")
  }
}

@Suite struct DiffTests {
  func box(_ hostname: String, pid: Int) -> StateValue {
    .map(StateMap([("hostname", .string(hostname)), ("host_pid", .volatile(.int(pid)))]))
  }

  @Test func leafChangesAreReportedAndVolatileOnesAreNot() {
    let a = StateValue.map(StateMap([("web", box("a", pid: 1))]))
    let b = StateValue.map(StateMap([("web", box("b", pid: 2))]))
    #expect(
      StateDiff.between(a, b) == [
        StateChange(path: StatePath(keys: "web", "hostname"), old: .string("a"), new: .string("b"))
      ])
  }

  @Test func aNewBoxIsOneChangeWithoutVolatileParts() {
    let a = StateValue.map(StateMap())
    let b = StateValue.map(StateMap([("web", box("a", pid: 1))]))
    let changes = StateDiff.between(a, b)
    #expect(changes.count == 1)
    #expect(changes.first?.path == StatePath(keys: "web"))
    #expect(changes.first?.new == .map(StateMap([("hostname", .string("a"))])))
  }

  @Test func identicalTreesHaveNoDiff() {
    let a = StateValue.map(StateMap([("web", box("a", pid: 1))]))
    #expect(StateDiff.between(a, a).isEmpty)
  }

  @Test func aValueTurningVolatileIsGoneAndKeysMayMove() {
    // Changes come in the old tree's key order, then keys only the new tree has, wherever the
    // keys stand in each map.
    let a = StateValue.map(StateMap([("x", .int(1)), ("y", .int(2)), ("z", .volatile(.int(3)))]))
    let b = StateValue.map(StateMap([("z", .int(3)), ("y", .int(20)), ("x", .volatile(.int(1)))]))
    #expect(
      StateDiff.between(a, b) == [
        StateChange(path: StatePath(keys: "x"), old: .int(1), new: nil),
        StateChange(path: StatePath(keys: "y"), old: .int(2), new: .int(20)),
        StateChange(path: StatePath(keys: "z"), old: nil, new: .int(3)),
      ])
  }

  @Test func listsCompareWithoutTheirVolatileItems() {
    let a = StateValue.list([.int(1), .volatile(.int(7))])
    let b = StateValue.list([.int(1), .volatile(.int(8))])
    #expect(StateDiff.between(a, b).isEmpty)
    #expect(
      StateDiff.between(a, .list([.int(2)])) == [
        StateChange(path: StatePath([]), old: .list([.int(1)]), new: .list([.int(2)]))
      ])
  }
}

@Suite struct LabelerTests {
  @Test func labelsInOrderOfFirstAppearanceAndNeverReused() {
    var l = Labeler()
    #expect(l.label(.uts, 100) == "uts:0")
    #expect(l.label(.uts, 200) == "uts:1")
    #expect(l.label(.uts, 100) == "uts:0")
    #expect(l.label(.ipc, 300) == "ipc:0")
    // uts 200 dies; the kernel may hand its inode to a new namespace, which must get a new label.
    l.forget(.uts, 200)
    #expect(l.label(.uts, 200) == "uts:2")
  }

  @Test func builderGivesTheHostLabelZero() {
    var b = StateTreeBuilder()
    let ns: [NamespaceKind: UInt64] = Dictionary(
      uniqueKeysWithValues: NamespaceKind.allCases.enumerated().map { ($1, UInt64(10 + $0)) })
    var boxNS = ns
    boxNS[.uts] = 99
    let facts = KernelFacts(
      host: ProcessFacts(hostPID: 1, namespaces: ns, hostname: "h", domainname: "(none)"),
      boxes: [
        BoxFacts(name: "web", process: ProcessFacts(hostPID: 2, namespaces: boxNS, hostname: "w", domainname: "(none)"))
      ])
    let tree = b.build(facts)
    #expect(tree.value(at: StatePath(keys: "host", "ns", "uts")) == .string("uts:0"))
    #expect(tree.value(at: StatePath(keys: "web", "ns", "uts")) == .string("uts:1"))
    #expect(tree.value(at: StatePath(keys: "web", "ns", "ipc")) == .string("ipc:0"))
    #expect(tree.value(at: StatePath(keys: "web", "host_pid")) == .volatile(.int(2)))
  }

  /// The builder reuses the subtree of a box whose facts did not change since the last build.
  /// What it returns must be what building everything afresh would give: labels included, and a
  /// box made again under an old name (its namespace's inode reused, as nsfs does) is new.
  @Test func reusedSubtreesAreTheTreeAFreshBuildGives() {
    let hostNS: [NamespaceKind: UInt64] = Dictionary(
      uniqueKeysWithValues: NamespaceKind.allCases.enumerated().map { ($1, UInt64(10 + $0)) })
    let host = ProcessFacts(hostPID: 1, namespaces: hostNS, hostname: "h", domainname: "(none)")
    func box(_ name: String, uts: UInt64, hostname: String) -> BoxFacts {
      var ns = hostNS
      ns[.uts] = uts
      return BoxFacts(
        name: name, process: ProcessFacts(hostPID: 2, namespaces: ns, hostname: hostname, domainname: "(none)"))
    }
    var b = StateTreeBuilder()
    let t1 = b.build(
      KernelFacts(host: host, boxes: [box("web", uts: 98, hostname: "w"), box("db", uts: 99, hostname: "d")]))
    #expect(t1.value(at: StatePath(keys: "db", "ns", "uts")) == .string("uts:2"))
    // db renamed: only db's subtree is new, and the diff says so.
    let t2 = b.build(
      KernelFacts(host: host, boxes: [box("web", uts: 98, hostname: "w"), box("db", uts: 99, hostname: "x")]))
    #expect(
      StateDiff.between(t1, t2) == [
        StateChange(path: StatePath(keys: "db", "hostname"), old: .string("d"), new: .string("x"))
      ])
    // db removed, then a box named db again whose namespace has the dead one's inode: a new label.
    let t3 = b.build(KernelFacts(host: host, boxes: [box("web", uts: 98, hostname: "w")]))
    let t4 = b.build(
      KernelFacts(host: host, boxes: [box("web", uts: 98, hostname: "w"), box("db", uts: 99, hostname: "x")]))
    #expect(t3.value(at: StatePath(keys: "db")) == nil)
    #expect(t4.value(at: StatePath(keys: "db", "ns", "uts")) == .string("uts:3"))
    #expect(t4.value(at: StatePath(keys: "web", "ns", "uts")) == .string("uts:1"))
    #expect(StateDiff.between(t3, t4).map(\.path) == [StatePath(keys: "db")])
    // web leaves uts 98 for a new one, and db then gets a namespace with the number 98: new labels.
    let t5 = b.build(
      KernelFacts(host: host, boxes: [box("web", uts: 97, hostname: "w"), box("db", uts: 99, hostname: "x")]))
    let t6 = b.build(
      KernelFacts(host: host, boxes: [box("web", uts: 97, hostname: "w"), box("db", uts: 98, hostname: "x")]))
    #expect(t5.value(at: StatePath(keys: "web", "ns", "uts")) == .string("uts:4"))
    #expect(t6.value(at: StatePath(keys: "db", "ns", "uts")) == .string("uts:5"))
    #expect(t6.value(at: StatePath(keys: "web", "ns", "uts")) == .string("uts:4"))
  }
}

@Suite struct NamesTests {
  @Test func rules() {
    #expect(Names.checkBoxName("web") == nil)
    #expect(Names.checkBoxName("web-1.a_b") == nil)
    #expect(Names.checkBoxName("host") == .reserved)
    #expect(Names.checkBoxName("all") == .reserved)
    #expect(Names.checkBoxName("") == .empty)
    #expect(Names.checkBoxName("-web") == .badFirstCharacter("-"))
    #expect(Names.checkBoxName("we/b") == .badCharacter("/", column: 3))
    #expect(Names.checkBoxName(String(repeating: "a", count: 16)) == .tooLong(bytes: 16, limit: 15))
  }

  @Test func nearest() {
    #expect(Nearest.match("hostnme", in: ["hostname", "domainname", "help"]) == "hostname")
    #expect(Nearest.match("xyzzy", in: ["hostname", "help"]) == nil)
  }

  @Test func errnoNamesAndUnknownOnes() {
    #expect(Errno.EPERM.name == "EPERM")
    #expect(Errno(rawValue: 200).name == "errno 200")
  }
}
