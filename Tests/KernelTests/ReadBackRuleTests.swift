import Kernel
import Testing

/// The rule of what a step can change (Step.readBack), on facts made by hand: the namespace a
/// step changes decides which boxes share the change.
@Suite struct ReadBackRuleTests {
  static let hostNS: [NamespaceKind: UInt64] = [.uts: 1, .ipc: 2, .mnt: 3, .pid: 4, .net: 5, .user: 6]

  static func box(_ name: String, _ own: [NamespaceKind: UInt64] = [:], net: NetFacts? = nil) -> BoxFacts {
    BoxFacts(
      name: name,
      process: ProcessFacts(
        hostPID: 1, namespaces: hostNS.merging(own) { $1 }, hostname: "h", domainname: "(none)", net: net))
  }

  static let facts = KernelFacts(
    host: ProcessFacts(hostPID: 1, namespaces: hostNS, hostname: "h", domainname: "(none)"),
    boxes: [
      box("a", [.uts: 10, .ipc: 11]), box("b", [.uts: 10]), box("c", [.uts: 20, .ipc: 21]), box("d"),
      box("e", [.mnt: 30]),
    ])

  @Test func aHostnameReachesTheBoxesInItsUTSNamespace() {
    #expect(Step.namespace(.setHostname(box: "a", name: "x")).readBack(in: Self.facts) == ReadBack(boxes: ["a", "b"]))
    #expect(Step.namespace(.setHostname(box: "c", name: "x")).readBack(in: Self.facts) == ReadBack(boxes: ["c"]))
  }

  @Test func aStepInTheHostsNamespaceReachesTheHostAndEveryBoxInIt() {
    // d is still in the host's UTS namespace, and so are e and the host.
    #expect(
      Step.namespace(.setHostname(box: "d", name: "x")).readBack(in: Self.facts)
        == ReadBack(boxes: ["d", "e"], host: true))
    #expect(
      Step.namespace(.ipcNew(box: "b", kind: .mq, key: 1)).readBack(in: Self.facts)
        == ReadBack(boxes: ["b", "d", "e"], host: true))
  }

  @Test func aProgramReachesItsUTSAndIPCNamespacesButNotTheHostsPidNamespace() {
    #expect(
      Step.process(.run(box: "a", argv: ["true"], background: false)).readBack(in: Self.facts)
        == ReadBack(boxes: ["a", "b"]))
    // A program in its own mount namespace may mount, and mounts propagate.
    #expect(Step.process(.run(box: "e", argv: ["true"], background: false)).readBack(in: Self.facts) == .all)
  }

  @Test func mountsAndNetworkStepsReadEverything() {
    #expect(Step.mount(.umount(box: "a", path: "/x")).readBack(in: Self.facts) == .all)
    #expect(Step.net(.netBridge(name: "br0")).readBack(in: Self.facts) == .all)
    #expect(Step.namespace(.unshare(box: "a", kinds: [.mnt])).readBack(in: Self.facts) == .all)
    #expect(Step.namespace(.join(box: "a", kind: .net, target: "c")).readBack(in: Self.facts) == .all)
  }

  @Test func aNewBoxAndAnImageStepReachOnlyThemselves() {
    #expect(Step.process(.boxNew(box: "f")).readBack(in: Self.facts) == ReadBack(boxes: ["f"], host: true))
    #expect(Step.layer(.imagePrune).readBack(in: Self.facts) == ReadBack(host: true, images: true))
    #expect(
      Step.namespace(.unshare(box: "d", kinds: [.uts, .ipc, .net])).readBack(in: Self.facts)
        == ReadBack(boxes: ["d"], host: true))
  }

  /// A box that leaves a network namespace takes its helper's listening sockets with it: the
  /// boxes still in that namespace see the port close (LabTests.PublishSessionTests).
  @Test func leavingANetworkNamespaceReachesTheBoxesStillInIt() {
    let facts = KernelFacts(
      host: Self.facts.host, boxes: [Self.box("web", [.net: 40]), Self.box("db", [.net: 40]), Self.box("x")])
    #expect(
      Step.namespace(.unshare(box: "web", kinds: [.net])).readBack(in: facts)
        == ReadBack(boxes: ["web", "db"], host: true))
    #expect(
      Step.namespace(.unshare(box: "web", kinds: [.uts])).readBack(in: facts) == ReadBack(boxes: ["web"], host: true))
  }

  @Test func mergeKeepsTheBoxesNotReadAndTheKernelsOrder() throws {
    var fresh = Self.box("c", [.uts: 20, .ipc: 21])
    fresh.process.hostname = "new"
    let merged = try #require(
      ReadBack.merge(
        previous: Self.facts, order: ["a", "b", "c", "e", "f"], fresh: [fresh, Self.box("f")], host: nil, images: nil))
    #expect(merged.boxes.map(\.name) == ["a", "b", "c", "e", "f"])
    #expect(merged.box("c")?.process.hostname == "new")
    #expect(merged.box("a") == Self.facts.box("a"))
    // A box the kernel has that was neither read nor known before: no merge.
    #expect(ReadBack.merge(previous: Self.facts, order: ["a", "g"], fresh: [], host: nil, images: nil) == nil)
  }
}
