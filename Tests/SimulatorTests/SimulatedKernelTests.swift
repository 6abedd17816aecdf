import Kernel
import Testing

@testable import Simulator

/// The simulator must fail with the errno Linux gives for the same mistake. Each case
/// here was checked against the real kernel with a small C program.
@Suite struct SimulatedKernelTests {
  func kernel(_ steps: Step...) throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for s in steps { try k.perform(s) }
    return k
  }

  @Test func aNewBoxSharesEveryHostNamespace() throws {
    let f = try kernel(.process(.boxNew(box: "web"))).facts()
    #expect(f.box("web")?.process.namespaces == f.host.namespaces)
    #expect(f.box("web")?.process.hostname == f.host.hostname)
  }

  @Test func unshareUTSCopiesTheNameAndIsolatesIt() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.uts])))
    #expect(try k.facts().box("web")?.process.hostname == "sim-host")
    try k.perform(.namespace(.setHostname(box: "web", name: "lab")))
    let f = try k.facts()
    #expect(f.box("web")?.process.hostname == "lab")
    #expect(f.host.hostname == "sim-host")
  }

  @Test func everyKindCanBeUnsharedAndGetsANewNamespace() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: NamespaceKind.allCases)))
    let f = try k.facts()
    for kind in NamespaceKind.allCases {
      #expect(f.box("web")?.process.namespaces[kind] != f.host.namespaces[kind], "\(kind)")
    }
  }

  @Test func aSecondPidUnshareIsEINVAL() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.pid])))
    #expect(errno(k, .namespace(.unshare(box: "web", kinds: [.pid]))) == .EINVAL)
    // time has no such rule
    try k.perform(.namespace(.unshare(box: "web", kinds: [.time])))
    try k.perform(.namespace(.unshare(box: "web", kinds: [.time])))
  }

  @Test func hostnameInAUTSNamespaceOwnedByAParentUserNamespaceIsEPERM() throws {
    let k = try kernel(
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.uts])),
      .namespace(.unshare(box: "web", kinds: [.user])))
    #expect(errno(k, .namespace(.setHostname(box: "web", name: "x"))) == .EPERM)
    try k.perform(.namespace(.unshare(box: "web", kinds: [.uts])))
    try k.perform(.namespace(.setHostname(box: "web", name: "x")))
  }

  @Test func joiningYourOwnUserNamespaceIsEINVAL() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .process(.boxNew(box: "b")))
    #expect(errno(k, .namespace(.join(box: "a", kind: .user, target: "b"))) == .EINVAL)
  }

  @Test func fromAChildUserNamespaceTheHostsNamespacesAreOutOfReach() throws {
    let k = try kernel(
      .process(.boxNew(box: "a")), .process(.boxNew(box: "b")), .namespace(.unshare(box: "a", kinds: [.user])))
    // A box that joins a's user namespace loses its capabilities over the host-owned ones,
    // even its own UTS namespace (checked on Linux 6.18: EPERM).
    try k.perform(.process(.boxNew(box: "c")))
    try k.perform(.namespace(.join(box: "c", kind: .user, target: "a")))
    #expect(errno(k, .namespace(.join(box: "c", kind: .uts, target: "c"))) == .EPERM)
    // ... and the host-side box can enter a's user namespace.
    try k.perform(.namespace(.join(box: "b", kind: .user, target: "a")))
  }

  @Test func aBoxInItsOwnUserNamespaceCannotOpenAnotherBoxsNamespaceFiles() throws {
    // Checked on Linux 6.18: open("/proc/PID/ns/uts") fails with EACCES before setns(2) runs.
    let k = try kernel(
      .process(.boxNew(box: "a")), .process(.boxNew(box: "b")), .namespace(.unshare(box: "a", kinds: [.user])))
    for kind in NamespaceKind.allCases {
      #expect(errno(k, .namespace(.join(box: "a", kind: kind, target: "b"))) == .EACCES, "\(kind)")
    }
  }

  @Test func joiningAPidNamespaceNoProcessHasEnteredIsENOENT() throws {
    let k = try kernel(
      .process(.boxNew(box: "a")), .process(.boxNew(box: "b")), .namespace(.unshare(box: "a", kinds: [.pid])))
    #expect(errno(k, .namespace(.join(box: "b", kind: .pid, target: "a"))) == .ENOENT)
  }

  @Test func joinSharesTheNamespace() throws {
    let k = try kernel(
      .process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.uts])),
      .namespace(.setHostname(box: "a", name: "x")), .process(.boxNew(box: "b")))
    try k.perform(.namespace(.join(box: "b", kind: .uts, target: "a")))
    let f = try k.facts()
    #expect(f.box("b")?.process.namespaces[.uts] == f.box("a")?.process.namespaces[.uts])
    #expect(f.box("b")?.process.hostname == "x")
  }

  @Test func faultsFailTheNextStepOfThatKindAndChangeNothing() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.uts])))
    k.inject(.init(stepKind: "sethostname", errno: .EIO))
    let before = try k.facts()
    #expect(errno(k, .namespace(.setHostname(box: "web", name: "x"))) == .EIO)
    #expect(try k.facts() == before)
    try k.perform(.namespace(.setHostname(box: "web", name: "x")))
  }

  @Test func removingABoxFreesItsNamespacesAndTeardownRemovesAll() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .process(.boxNew(box: "b")))
    try k.perform(.process(.boxRemove(box: "a")))
    #expect(try k.facts().boxes.map(\.name) == ["b"])
    k.teardown()
    #expect(try k.facts().boxes.isEmpty)
  }
}

/// User namespaces: maps are written once, from outside, and decide who the box is.
@Suite struct SimulatedUserNamespaceTests {
  func kernel() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    _ = try k.perform(.process(.boxNew(box: "web")))
    _ = try k.perform(.namespace(.unshare(box: "web", kinds: [.user])))
    return k
  }

  @Test func beforeAnyMapTheBoxIsNobody() throws {
    let u = try kernel().facts().box("web")?.process.user
    #expect(u?.uid == 65534)
    #expect(u?.hostUID == 0)
    #expect(u?.uidMap == [])
  }

  @Test func aMapOfZeroMakesTheBoxRootInsideAndItsOwnIDOutside() throws {
    let k = try kernel()
    _ = try k.perform(
      .namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 100000, count: 65536))))
    let u = try k.facts().box("web")?.process.user
    #expect(u?.uid == 0)
    #expect(u?.hostUID == 100000)
  }

  @Test func aMapIsWrittenOnceAndNeverForTheHost() throws {
    let k = try kernel()
    let range = IDMapRange(inside: 0, outside: 100000, count: 65536)
    _ = try k.perform(.namespace(.map(box: "web", kind: .uid, range: range)))
    #expect(throws: KernelError.self) { _ = try k.perform(.namespace(.map(box: "web", kind: .uid, range: range))) }
    _ = try k.perform(.process(.boxNew(box: "db")))
    #expect(throws: KernelError.self) { _ = try k.perform(.namespace(.map(box: "db", kind: .uid, range: range))) }
  }

  @Test func aNestedMapMustUseIDsTheParentMaps() throws {
    let k = try kernel()
    _ = try k.perform(
      .namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 100000, count: 1000))))
    // Both IDs mapped: a process whose uid or gid has no mapping may not make a user namespace.
    _ = try k.perform(
      .namespace(.map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 100000, count: 1000))))
    _ = try k.perform(.namespace(.unshare(box: "web", kinds: [.user])))
    #expect(throws: KernelError.self) {
      _ = try k.perform(.namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 5000, count: 1))))
    }
    _ = try k.perform(.namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 10, count: 1))))
    #expect(try k.facts().box("web")?.process.user.hostUID == 100010)
  }

  @Test func namespacesMadeAfterTheUserNamespaceBelongToIt() throws {
    let k = try kernel()
    _ = try k.perform(.namespace(.unshare(box: "web", kinds: [.uts])))
    let p = try #require(try k.facts().box("web")?.process)
    #expect(p.owners[.uts] == p.namespaces[.user])
    #expect(p.owners[.ipc] != p.namespaces[.user])
  }
}
