import Kernel
import Simulator
import Testing

@testable import Lab

/// A step in a lab of many boxes costs what the step reaches: the facts are merged where they
/// are, the tree is built again and diffed for the boxes the step reached only, and what the
/// learner sees is what a whole read, build and diff give (the check compares them after every
/// step here).
@Suite struct ScaleTests {
  static func lab(_ n: Int) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    s.checkReadBack = true
    for i in 1...n {
      for line in ["box new b\(i)", "unshare uts,ipc,net"] {
        let out = s.execute(line)
        #expect(!out.contains { $0.hasPrefix("error") }, Comment(rawValue: out.joined(separator: "\n")))
      }
    }
    return s
  }

  /// The index KernelFacts keeps (places by name, boxes by namespace) is the one a scan of the
  /// boxes gives, after every kind of change: a box appended, read again with new namespaces,
  /// and the list replaced after a box left.
  @Test func theFactsIndexAgreesWithAScan() throws {
    let s = try Self.lab(6)
    _ = s.execute("use b2")
    _ = s.execute("join uts b5")
    _ = s.execute("box rm b3")
    _ = s.execute("box new b7")
    _ = s.execute("box rm b1")
    let facts = s.facts
    for (i, box) in facts.boxes.enumerated() {
      #expect(facts.position(of: box.name) == i)
      for (kind, inode) in box.process.namespaces {
        let scanned = facts.boxes.filter { $0.process.namespaces[kind] == inode }.map(\.name)
        #expect(facts.boxes(in: kind, inode) == scanned, "\(box.name) \(kind)")
      }
    }
    #expect(facts.position(of: "b3") == nil)
    let uts = try #require(facts.box("b5")?.process.namespaces[.uts])
    #expect(facts.boxes(in: .uts, uts) == ["b2", "b5"])
  }

  /// `box rm` in a large lab is built and diffed for what it reached: the box that left is a
  /// removed key of the diff, in its place, and the changes are those a whole diff of the trees
  /// before and after gives (the session's check compares the trees themselves).
  @Test func aBoxLeavingIsDiffedWhereItWas() throws {
    let s = try Self.lab(40)
    for name in ["b2", "b1", "b40", "b20"] {
      let before = s.tree
      let out = s.execute("box rm " + name)
      #expect(!out.contains { $0.hasPrefix("error") }, Comment(rawValue: out.joined(separator: "\n")))
      let keys = try #require(s.builder.changedKeys)
      #expect(keys.contains { $0.key == name && $0.removed })
      #expect(s.last?.changes == StateDiff.between(before, s.tree))
    }
    #expect(s.facts.boxes.count == 36 && s.facts.position(of: "b39") == 35)
  }

  /// A kernel's stamp spares the merge its comparison of every name, and only while no box has
  /// left the kernel's list: after `box rm` the facts read before carry another stamp.
  @Test func aBoxLeavingChangesTheKernelsStamp() throws {
    let s = try Self.lab(3)
    let before = s.facts.boxListStamp
    #expect(before != 0)
    _ = s.execute("box new b4")
    #expect(s.facts.boxListStamp == before)
    _ = s.execute("box rm b2")
    #expect(s.facts.boxListStamp != before)
    #expect(s.facts.boxes.map(\.name) == ["b1", "b3", "b4"])
  }

  /// A step that reaches one box changes the tree's root where it is: the root of a lab of a
  /// thousand boxes is not copied for each step (StateTreeBuilder.replaced). The address is
  /// taken without keeping the tree: a copy would be made while the old root still lived, so it
  /// could not land at the same address.
  @Test func aStepChangesTheRootWhereItIs() throws {
    let s = try Self.lab(40)
    func rootAddress() -> Int? {
      guard case .map(let root) = s.tree else { return nil }
      return root.entries.withUnsafeBufferPointer { $0.baseAddress.map { Int(bitPattern: $0) } }
    }
    s.checkReadBack = false
    let before = try #require(rootAddress())
    let out = s.execute("hostname far")
    #expect(out.contains { $0.hasPrefix("  hostname") && $0.hasSuffix("-> \"far\"") })
    #expect(rootAddress() == before)
    #expect(s.builder.changedKeys == [StateDiff.TopLevelKey(key: "b40", index: 40)])
    // The control: a tree someone still holds is copied, never changed under them.
    let kept = s.tree
    _ = s.execute("hostname near")
    #expect(rootAddress() != before)
    #expect(kept.value(at: StatePath(keys: "b40", "hostname")) == .string("far"))
    #expect(s.tree.value(at: StatePath(keys: "b40", "hostname")) == .string("near"))
  }

  @Test func aHostnameBuildsAndDiffsItsBoxOnly() throws {
    let s = try Self.lab(40)
    let out = s.execute("hostname far")
    #expect(!out.contains { $0.hasPrefix("error") }, Comment(rawValue: out.joined(separator: "\n")))
    // The host is entry 0, b1 entry 1, ...: b40 is entry 40.
    #expect(s.builder.changedKeys == [StateDiff.TopLevelKey(key: "b40", index: 40)])
    // The diff's table: b40's hostname changed (the host's column keeps "vm").
    #expect(out.contains { $0.hasPrefix("  hostname") && $0.hasSuffix("-> \"far\"") })
  }

  @Test func aNewBoxBuildsItselfOnly() throws {
    let s = try Self.lab(30)
    _ = s.execute("box new late")
    #expect(s.builder.changedKeys?.map(\.key) == ["late"])
    _ = s.execute("unshare uts")
    #expect(s.builder.changedKeys?.map(\.key) == ["late"])
    #expect(s.tree.value(at: StatePath(keys: "late", "ns", "uts")) == .string("uts:31"))
  }

  @Test func theFactsAreMergedWhereTheyAre() throws {
    let s = try Self.lab(20)
    s.checkReadBack = false
    let before = s.facts.boxes.withUnsafeBufferPointer { $0.baseAddress }
    _ = s.execute("hostname here")
    // The same array, changed in place: the 19 boxes the step did not reach were not copied.
    #expect(s.facts.boxes.withUnsafeBufferPointer { $0.baseAddress } == before)
    #expect(s.facts.box("b20")?.process.hostname == "here")
  }

  @Test func theDiffOfTheChangedKeysIsTheWholeDiff() throws {
    let s = try Self.lab(5)
    var whole = StateTreeBuilder()
    var scoped = StateTreeBuilder()
    let old = whole.build(s.facts)
    _ = scoped.build(s.facts)
    var facts = s.facts
    var third = facts.boxes[2].process
    third.hostname = "changed"
    facts.setProcess(third, at: 2)
    var fifth = facts.boxes[4].process
    fifth.domainname = "lab"
    facts.setProcess(fifth, at: 4)
    let new = whole.build(facts)
    let tree = scoped.build(facts, scope: ReadBack(boxes: ["b5", "b3"]))
    #expect(tree == new)
    let keys = try #require(scoped.changedKeys)
    #expect(keys.map(\.key) == ["b3", "b5"])
    #expect(StateDiff.between(old, tree, only: keys) == StateDiff.between(old, new))
    #expect(StateDiff.between(old, new).count == 2)
  }

  @Test func stepsOfEveryReachBuildTheWholeTree() throws {
    // The check (on in `lab`) compares the tree built for a step's reach with the whole tree
    // from the same builder, and the read-back with a full read, after each of these.
    let s = try Self.lab(6)
    for line in [
      "use b2", "ipc mq new 0x1", "run -d /bin/sleep 100", "join uts b3", "hostname shared", "use b4",
      "unshare user", "map uid 0 100000 1", "box rm b1", "box new b7", "unshare pid", "run -d /bin/sleep 5",
      "kill 1", "use b3", "hostname again", "box rm b4",
    ] {
      let out = s.execute(line)
      #expect(!out.contains { $0.contains("internal") }, Comment(rawValue: line + "\n" + out.joined(separator: "\n")))
    }
  }
}
