import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// The rootless kernel in this process (as root, which may create user namespaces too; the
/// unprivileged case is RootlessBackendTests in CLITests, through setpriv). Checks what the
/// transcripts cannot see: the session's user namespace and the anchor that holds it.
@Suite(.requiresRoot, .hostUnchanged) struct RootlessKernelTests {
  func withKernel(_ body: (LinuxKernel) throws -> Void) throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true, rootless: true)
    defer {
      kernel.teardown()
      #expect(root.entries("/state") == [])
    }
    try body(kernel)
  }

  @Test func aNewBoxSharesEveryNamespaceWithTheAnchorNotWithBoxwalk() throws {
    try withKernel { kernel in
      #expect(kernel.backend == .rootless)
      try kernel.perform(.process(.boxNew(box: "web")))
      let facts = try kernel.facts()
      let web = try #require(facts.box("web")).process
      #expect(web.namespaces == facts.host.namespaces)
      let own = try ProcFS(root: "/proc").namespaceInode(pid: "self", shown: "self", kind: .user)
      #expect(facts.host.namespaces[.user] != own, "the host of the session is the anchor's user namespace")
      // Root inside: the helper's IDs map to 0 through a one-line map of boxwalk's own IDs.
      #expect(web.user.uid == 0)
      #expect(web.user.uidMap.map(\.description) == ["0 \(geteuid()) 1"])
      // Every namespace the box shares is shown owned by the session's user namespace.
      #expect(Set(web.owners.values) == [facts.host.namespaces[.user]])
    }
  }

  @Test func stepsThatNeedTheMachineAreRefusedBeforeAnySystemCall() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "web")))
      for step in [
        Step.cgroup(.cgroupNew(box: "web")), .net(.netBridge(name: "br0")),
        .net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0")),
      ] {
        do throws(KernelError) {
          _ = try kernel.perform(step)
          Issue.record("\(step) was not refused")
        } catch {
          #expect(error.errno == .EPERM)
          #expect(error.refusal?.hasSuffix("use --backend real (as root)") == true, "\(step)")
        }
      }
      // Nothing was made: no cgroup, no host side.
      #expect(kernel.hostNetwork == nil)
      #expect(try kernel.facts().box("web")?.process.cgroup == nil)
    }
  }

  @Test func teardownKillsTheAnchorAndTheNextBoxMakesANewOne() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "web")))
      let first = try #require(kernel.anchor)
      kernel.teardown()
      #expect(kernel.anchor == nil)
      #expect(ProcFS(root: "/proc").identity(String(first.pid))?.startTime != first.startTime)
      try kernel.perform(.process(.boxNew(box: "db")))
      let second = try #require(kernel.anchor)
      #expect(second.pid != first.pid)
    }
  }
}
