import Glibc
import HelperWire
import Kernel
import Testing

@testable import LinuxBackend

/// A helper making a `calls` request on the real kernel: entry by entry, stopping at the first
/// that fails and naming it by its position, and a fork entry whose child makes the entries
/// after it (boxwalk-helper's Calls.swift and ForkCalls.swift).
@Suite(.requiresRoot, .hostUnchanged) struct HelperCallsTests {
  func withHelper(_ body: (LinuxKernel, HelperProcess) throws -> Void) throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path, ephemeralImages: true)
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "web")))
    // An IPC namespace of its own: the objects made here die with it, never the host's.
    try kernel.perform(.namespace(.unshare(box: "web", kinds: [.ipc])))
    let helper = try #require(kernel.helper(named: "web"))
    try body(kernel, helper)
  }

  /// The second entry fails (the key is taken by the first): the error names call#1, and the
  /// first entry's object stays made.
  @Test func anEntryThatFailsMidRequestIsNamedByItsPosition() throws {
    try withHelper { kernel, helper in
      let get = HelperCall.namespace(.sysvGet(kind: .sem, key: 4242))
      let reply = try kernel.exchange(helper, .calls([get, get]), step: nil)
      #expect(reply == .err(errno: EEXIST, call: .planEntry(1), note: nil))
      #expect(try kernel.facts().box("web")?.process.ipc.contains(IPCObjectFacts(kind: .sem, key: 4242)) == true)
    }
  }

  /// A fork entry: the child makes the rest, and the answer is how it ended; an entry the child
  /// cannot make is named by its position in the whole request.
  @Test func theChildMakesTheEntriesAfterAForkAndNamesTheOneThatFails() throws {
    try withHelper { kernel, helper in
      let ran = try kernel.exchange(
        helper, .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.forkTimes(3))]), step: nil)
      let answers = try #require(ran.answer(as: CallAnswers.self))
      let outcome = try #require(answers.answer(0, as: StressOutcome.self))
      #expect(outcome.status == 0)
      #expect(outcome.started == 3 && outcome.refused == 0)
      #expect(answers.answers.count == 3)
      // A second fork entry among the child's is no entry a child can make (EINVAL): call#2.
      let failed = try kernel.exchange(
        helper, .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.fork)]), step: nil)
      guard case .err(let errno, .planEntry(2), _) = failed else {
        Issue.record("\(failed)")
        return
      }
      #expect(errno == EINVAL)
    }
  }
}
