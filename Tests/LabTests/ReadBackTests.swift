import Kernel
import Simulator
import Testing

@testable import Lab

/// The read-back after a step: only what the step can reach is read again (Step.readBack), and
/// the consistency check catches a read-back that missed a change.
@Suite struct ReadBackTests {
  /// The simulator, counting reads: which scopes a step read, and how many full reads.
  final class Counting: Kernel {
    let inner = SimulatedKernel()
    var scopes: [ReadBack] = []
    var fullReads = 0
    /// Answer a partial read with the facts before the step: a read-back that misses every change.
    var stale = false
    var backend: Backend { .sim }
    func perform(_ step: Step) throws(KernelError) -> StepResult { try inner.perform(step) }
    func facts() throws(KernelError) -> KernelFacts {
      fullReads += 1
      return try inner.facts()
    }
    func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts {
      scopes.append(scope)
      return stale ? previous : try inner.facts(scope, previous: previous)
    }
    func teardown() { inner.teardown() }
  }

  func session(_ kernel: Counting, boxes: Int) throws -> Session {
    let s = try Session(kernel: kernel)
    s.checkReadBack = true
    for i in 1...boxes {
      for line in ["box new b\(i)", "unshare uts"] {
        let out = s.execute(line)
        #expect(!out.contains { $0.hasPrefix("error") }, Comment(rawValue: out.joined(separator: "\n")))
      }
    }
    return s
  }

  @Test func aHostnameInTheLastOfTenBoxesReadsThatBoxOnly() throws {
    let kernel = Counting()
    let s = try session(kernel, boxes: 10)
    s.checkReadBack = false
    kernel.scopes = []
    let full = kernel.fullReads
    let out = s.execute("hostname lab-box")
    #expect(out.contains { $0.hasPrefix("  hostname") && $0.hasSuffix("-> \"lab-box\"") })
    #expect(s.tree.value(at: StatePath(keys: "b10", "hostname")) == .string("lab-box"))
    #expect(kernel.scopes == [ReadBack(boxes: ["b10"])])
    #expect(kernel.fullReads == full)
  }

  @Test func aHostnameReadsEveryBoxInTheSameUTSNamespace() throws {
    let kernel = Counting()
    let s = try session(kernel, boxes: 3)
    for line in ["box new b4", "join uts b2", "use b2"] { _ = s.execute(line) }
    kernel.scopes = []
    let out = s.execute("hostname shared")
    #expect(kernel.scopes.map(\.boxes) == [["b2", "b4"]])
    // Both boxes show the new name, as a full read does (the check passed: no error).
    #expect(s.tree.value(at: StatePath(keys: "b4", "hostname")) == .string("shared"))
    #expect(!out.contains { $0.hasPrefix("error") }, Comment(rawValue: out.joined(separator: "\n")))
  }

  @Test func theCheckFailsLoudlyWhenTheReadBackMissedAChange() throws {
    let kernel = Counting()
    let s = try session(kernel, boxes: 2)
    kernel.stale = true
    let out = s.execute("hostname lab-box")
    #expect(out.first == "error: internal: the state read back after this sethostname step differs from a full read")
    #expect(out.contains { $0.contains("differs:") && $0.contains("b2.hostname") })
    // The session carries on from the full read.
    #expect(s.tree.value(at: StatePath(keys: "b2", "hostname")) == .string("lab-box"))
    #expect(s.failures == 1)
  }

  @Test func withoutTheCheckAStaleReadBackGoesUnseen() throws {
    // What the check guards against: the same stale kernel, and the step shows no change.
    let kernel = Counting()
    let s = try session(kernel, boxes: 2)
    s.checkReadBack = false
    kernel.stale = true
    let out = s.execute("hostname lab-box")
    #expect(!out.contains { $0.hasPrefix("  hostname") })
    #expect(s.failures == 0)
  }
}
