import Kernel
import Testing

@testable import Simulator

/// Which namespaces die after a box leaves some, and how much is looked at to find out: a box
/// leaving only the host's namespaces (as every new box does) looks at no other box.
@Suite struct SimulatedGarbageTests {
  static func lab(_ n: Int) throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for i in 1...n {
      _ = try k.perform(.process(.boxNew(box: "b\(i)")))
      _ = try k.perform(.namespace(.unshare(box: "b\(i)", kinds: [.uts, .ipc, .net])))
    }
    return k
  }

  @Test func leavingTheHostsNamespacesLooksAtNothingElse() throws {
    let k = try Self.lab(50)
    let before = k.fullCollections
    let count = k.namespaces.count
    _ = try k.perform(.process(.boxNew(box: "late")))
    _ = try k.perform(.namespace(.unshare(box: "late", kinds: [.uts, .ipc, .net])))
    #expect(k.fullCollections == before)
    // Its three new namespaces, and the host's it left all live on.
    #expect(k.namespaces.count == count + 3)
  }

  @Test func aNamespaceOnlyTheBoxHeldStillDies() throws {
    let k = try Self.lab(3)
    let uts = try #require(k.boxes[1].process.ns[.uts])
    _ = try k.perform(.namespace(.unshare(box: "b2", kinds: [.uts])))
    #expect(k.namespaces[uts] == nil)
    // One that another box still holds lives on.
    _ = try k.perform(.namespace(.join(box: "b3", kind: .uts, target: "b2")))
    let shared = try #require(k.boxes[2].process.ns[.uts])
    _ = try k.perform(.namespace(.unshare(box: "b2", kinds: [.uts])))
    #expect(k.namespaces[shared] != nil)
    _ = try k.perform(.process(.boxRemove(box: "b3")))
    #expect(k.namespaces[shared] == nil)
  }
}
