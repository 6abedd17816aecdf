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
    facts.boxes[2].process.hostname = "changed"
    facts.boxes[4].process.domainname = "lab"
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
