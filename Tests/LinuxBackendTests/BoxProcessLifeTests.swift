import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// The life and death of box processes on the real kernel, where a learner found the REPL hanging
/// or failing at the climax of the container lesson (kill 1, run -d after pivot-root, a shell
/// that leaves a child in the background). Each test that could hang arms a watchdog: past its
/// deadline it SIGKILLs the box's helper, so the step fails with an error instead of hanging the
/// test run.
@Suite(.requiresRoot, .hostUnchanged, .serialized) struct BoxProcessLifeTests {
  func withKernel(_ body: (LinuxKernel) throws -> Void) throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    try body(kernel)
  }

  /// Kills `helper` after `seconds` unless `disarm()` ran first.
  final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var armed = true
    private(set) var fired = false
    init(helper: Int, seconds: Double) {
      Thread.detachNewThread { [self] in
        Thread.sleep(forTimeInterval: seconds)
        lock.lock()
        defer { lock.unlock() }
        if armed {
          fired = true
          Glibc.kill(pid_t(helper), SIGKILL)
        }
      }
    }
    func disarm() {
      lock.lock()
      armed = false
      lock.unlock()
    }
  }

  func helperPID(_ kernel: LinuxKernel, _ box: String) throws -> Int {
    try #require(try kernel.facts().box(box)).process.hostPID
  }

  /// pid_namespaces(7): when PID 1 dies, the kernel kills the rest of the namespace, and PID 1's
  /// exit completes only when those are reaped. They are the helper's children, so the helper must
  /// keep reaping while it waits (it waited for PID 1 alone, forever).
  @Test func killingPID1WithOtherProcessesEndsTheNamespace() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.pid, .mnt])))
      try kernel.perform(.process(.run(box: "a", argv: ["sleep", "100"], background: true)))
      try kernel.perform(.process(.run(box: "a", argv: ["sleep", "100"], background: true)))
      let before = try #require(try kernel.facts().box("a")).process.processes
      #expect(before.map(\.pid) == [1, 2])
      let dog = Watchdog(helper: try helperPID(kernel, "a"), seconds: 15)
      let outcome = Result { () throws(KernelError) in try kernel.perform(.process(.kill(box: "a", pid: 1))) }
      dog.disarm()
      #expect(!dog.fired, "kill 1 hung until the watchdog killed the helper")
      if case .failure(let error) = outcome { Issue.record("kill 1 failed: \(error)") }
      let after = try #require(try kernel.facts().box("a")).process
      #expect(after.processes.isEmpty)
      #expect(!after.pidNamespaceAlive)
      for p in before {
        #expect(Glibc.kill(pid_t(p.hostPID), 0) != 0, "host PID \(p.hostPID) outlived its pid namespace")
      }
    }
  }

  /// busybox's layer has no /dev: the helper must not need to open /dev/null after pivot_root(2).
  /// It did, and a background program then failed with EBADF (and, as PID 1, took its namespace).
  @Test func backgroundRunAfterPivotRoot() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.pid, .mnt])))
      try kernel.perform(.layer(.overlay(box: "a", names: ["busybox"], layers: ["busybox"])))
      try kernel.perform(.mount(.pivotRoot(box: "a")))
      let started = try kernel.perform(.process(.run(box: "a", argv: ["sleep", "50"], background: true)))
      #expect(started.boxPID == 1)
      let box = try #require(try kernel.facts().box("a")).process
      #expect(box.processes.map(\.command) == ["sleep 50"])
      #expect(box.pidNamespaceAlive)
      // A foreground program after it has a stdin too.
      let cat = try kernel.perform(.process(.run(box: "a", argv: ["cat"], background: false)))
      #expect(cat.exit == .exited(0))
    }
  }

  /// A foreground `run` ends when its program exits, not when every process that inherited its
  /// output pipe has closed it: `sh -c 'sleep 30 & echo x'` returns at once, with x.
  @Test func foregroundRunDoesNotWaitForItsBackgroundChildren() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.pid, .mnt, .ipc])))
      try kernel.perform(.process(.run(box: "a", argv: ["sleep", "100"], background: true)))
      let dog = Watchdog(helper: try helperPID(kernel, "a"), seconds: 15)
      let ran = Result { () throws(KernelError) in
        try kernel.perform(.process(.run(box: "a", argv: ["sh", "-c", "sleep 30 & echo x"], background: false)))
      }
      dog.disarm()
      #expect(!dog.fired, "run waited for the background sleep")
      let result = try ran.get()
      #expect(result.output == ["x"])
      #expect(result.exit == .exited(0))
      // The background child lives on in the box, as it would under docker exec.
      let box = try #require(try kernel.facts().box("a")).process
      #expect(box.processes.map(\.command) == ["sleep 100", "sleep 30"])
    }
  }

  /// `run -d true` reads back the same state every time: the program has exited before the step
  /// returns (and as PID 1, its namespace with it), whatever the scheduler did.
  @Test func aBackgroundProgramThatExitsAtOnceIsSeenExited() throws {
    try withKernel { kernel in
      for round in 0..<10 {
        let box = "t\(round)"
        try kernel.perform(.process(.boxNew(box: box)))
        try kernel.perform(.namespace(.unshare(box: box, kinds: [.pid])))
        try kernel.perform(.process(.run(box: box, argv: ["true"], background: true)))
        let facts = try #require(try kernel.facts().box(box)).process
        #expect(facts.processes.isEmpty, "round \(round)")
        #expect(!facts.pidNamespaceAlive, "round \(round)")
        try kernel.perform(.process(.boxRemove(box: box)))
      }
    }
  }

  /// The OOM killer chooses among the processes of the box's cgroup, and the helper is one of
  /// them: under a small memory.max it killed the helper instead of the hog (the box was then
  /// gone, and stress said "exit 0" or ECONNRESET). The hog must be the one that dies.
  /// The helper stays out of the box's cgroup, so however small the memory limit, and whether
  /// or not root may lower oom_score_adj (CAP_SYS_RESOURCE, missing in some VMs), the cgroup's
  /// OOM killer can only choose among the box's programs. Before, the helper sat in the cgroup
  /// and a 2 MiB limit killed it instead of the hog.
  @Test func aTinyMemoryLimitNeverKillsTheHelper() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.cgroup(.cgroupNew(box: "a")))
      let helper = try #require(try kernel.facts().box("a")).process.hostPID
      // Not counted: pids.current is the box's programs, and there are none yet.
      #expect(try kernel.facts().box("a")?.process.cgroup?.pids.current == 0)
      let membership = try #require(try? SmallFiles.readText("/proc/\(helper)/cgroup"))
      #expect(!membership.contains("/boxwalk/"), "the helper is in the box's cgroup: \(membership)")
      try kernel.perform(
        .cgroup(.cgroupSet(box: "a", setting: try CgroupSetting.parse(key: "memory.max", value: "2M"))))
      let result = try kernel.perform(.cgroup(.stress(box: "a", kind: .memory(bytes: 64 << 20))))
      #expect(result.exit == .signaled(SIGKILL))
      let after = try #require(try kernel.facts().box("a"))
      #expect(after.process.hostPID == helper)
      #expect(after.process.cgroup?.memory.oomKills == 1)
      #expect(kernel.takeNotices().isEmpty)
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.uts])))
      try kernel.perform(.namespace(.setHostname(box: "a", name: "after-oom")))
      #expect(try #require(try kernel.facts().box("a")).process.hostname == "after-oom")
    }
  }

  /// With the helper outside the box's cgroup, its fork happens in the helper's cgroup and the
  /// move in is never refused; the child then lets the kernel refuse a fork in the box's cgroup,
  /// so pids.max still stops `run` with EAGAIN and pids.events counts it. pids.max 1 holds one
  /// program: the helper used to take that place itself.
  @Test func pidsMaxCountsTheBoxsProgramsAndRefusesThePastOne() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.pid, .mnt, .ipc])))
      try kernel.perform(.cgroup(.cgroupNew(box: "a")))
      try kernel.perform(.cgroup(.cgroupSet(box: "a", setting: try CgroupSetting.parse(key: "pids.max", value: "1"))))
      try kernel.perform(.process(.run(box: "a", argv: ["sleep", "100"], background: true)))
      #expect(try kernel.facts().box("a")?.process.cgroup?.pids.current == 1)
      do {
        try kernel.perform(.process(.run(box: "a", argv: ["true"], background: false)))
        Issue.record("a second program ran past pids.max 1")
      } catch let error as KernelError {
        #expect(error.errno == .EAGAIN)
        #expect(error.call.hasPrefix("fork"))
      }
      let pids = try #require(try kernel.facts().box("a")?.process.cgroup?.pids)
      #expect(pids.current == 1)
      #expect(pids.maxEvents == 1)
    }
  }

  @Test func theOOMKillerTakesTheHogNotTheHelper() throws {
    try withKernel { kernel in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.cgroup(.cgroupNew(box: "a")))
      try kernel.perform(
        .cgroup(.cgroupSet(box: "a", setting: try CgroupSetting.parse(key: "memory.max", value: "4M"))))
      let result = try kernel.perform(.cgroup(.stress(box: "a", kind: .memory(bytes: 64 << 20))))
      #expect(result.exit == .signaled(SIGKILL))
      // The helper is still there, and answers.
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.uts])))
      try kernel.perform(.namespace(.setHostname(box: "a", name: "after-oom")))
      #expect(try #require(try kernel.facts().box("a")).process.hostname == "after-oom")
    }
  }
}
