import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// SIGKILL, then restart (README.md, "Never harm the host"): `kill -9` of the REPL at each stage of
/// a session, then recovery. SIGKILL cannot be caught, so nothing of boxwalk's own teardown runs:
/// the kernel alone must remove the box processes (each helper has PR_SET_PDEATHSIG = SIGKILL,
/// prctl(2), re-armed after every credential change), and the ledger under /run/boxwalk must let
/// `boxwalk cleanup` or the next start remove the rest. bubblewrap tests the same promise as "die
/// with parent" (tests/test-run.sh), podman as "podman rm after killed conmon"
/// (test/system/055-rm.bats).
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct CrashRecoveryTests {
  /// One stage of a session: the commands that build it, in the order a learner would type them.
  struct Stage: Sendable, CustomTestStringConvertible {
    let name: String
    let commands: [String]
    var testDescription: String { name }
  }

  /// The stages of a session today, cumulative: stage k runs stages 1...k.
  ///
  /// New capabilities plug in here, in the order a session builds them, so that a crash right
  /// after each is tested too: `run -d sleep 100` after the namespaces (box processes must die with
  /// the pid namespace's init), `mount tmpfs /mnt` after `unshare mnt`, `cgroup new` and
  /// `cgroup set pids.max 10` (the cgroup directory must be in the ledger before mkdir),
  /// `net veth` / `net bridge` (the host side lives in boxwalk's own netns), `ipc shm new 1`.
  static let stages: [Stage] = [
    Stage(name: "boxes created", commands: ["box new a", "box new b", "box new c"]),
    Stage(
      name: "every namespace kind unshared",
      commands: ["use a", "unshare cgroup,ipc,mnt,net,pid,time,uts", "use b", "unshare user"]),
    Stage(name: "hostnames set", commands: ["use a", "hostname crash-a", "domainname crash.example"]),
    Stage(
      name: "joins", commands: ["use c", "join uts a", "join ipc a", "join net a", "join mnt a", "join cgroup a"]),
  ]

  /// The first `count` stages, as one list of commands.
  static func commands(through count: Int) -> [String] { stages.prefix(count).flatMap(\.commands) }

  enum Recovery: String, CaseIterable, Sendable {
    /// `boxwalk cleanup`, run twice (the second run must find nothing to do).
    case cleanupCommand
    /// The next `boxwalk` REPL, which cleans up at start and says so (README.md, "Command line").
    case nextStart
  }

  /// Starts a real REPL, builds stages 1...`stage`, SIGKILLs it and checks what is left: no box
  /// process, and on the host nothing but the dead session's directory under /run/boxwalk.
  /// Returns the crashed REPL's PID.
  func crash(atStage stage: Int, before: HostSnapshot) throws -> pid_t {
    let repl = try SafetyRepl.start(["--backend", "real"])
    let printed = try repl.run(Self.commands(through: stage))
    #expect(!printed.contains { $0.hasPrefix("error:") }, "building the session failed:\n\(repl.output)")
    let helpers = repl.helpers()
    #expect(helpers.count == 3, "\(helpers)")

    repl.signal(SIGKILL)
    #expect(repl.wait() == .signalled(SIGKILL))
    // The kernel alone removed every box process: nobody ran boxwalk's teardown.
    #expect(SafetyRepl.allGone(helpers), "a helper outlived its SIGKILLed parent: \(helpers)")

    let left = HostSnapshot.take()
    let onlyTheLedgerDiffers = left.excluding(["state"]).isUnchanged(from: before.excluding(["state"]))
    #expect(
      onlyTheLedgerDiffers,
      "a SIGKILLed session changed more than its ledger:\n\(left.differences(from: before).joined(separator: "\n"))")
    // The ledger is what cleanup works from: it must be there, or this test would prove nothing.
    #expect(left.section("state").contains { $0.hasPrefix("\(repl.pid)-") && $0.contains("/ledger") })
    return repl.pid
  }

  @Test(arguments: 1...stages.count, Recovery.allCases)
  func aSIGKILLedSessionIsCleanedUp(stage: Int, recovery: Recovery) async throws {
    try await withHostUnchanged { before in
      let dead = try crash(atStage: stage, before: before)
      switch recovery {
      case .cleanupCommand:
        let first = try CommandLineTests.boxwalk(["cleanup"])
        #expect(first.status == 0)
        #expect(first.out.contains("session \(dead)-"), "\(first.out)")
        #expect(first.out.contains("its owner, pid \(dead), has exited"), "\(first.out)")
        #expect(first.out.contains("removed /run/boxwalk/\(dead)-"), "\(first.out)")
        // PR_SET_PDEATHSIG got there first: cleanup finds every helper gone and kills nothing.
        #expect(!first.out.contains("killed"), "\(first.out)")
        let second = try CommandLineTests.boxwalk(["cleanup"])
        #expect(second.status == 0)
        #expect(!second.out.contains("removed") && !second.out.contains("killed"), "\(second.out)")
      case .nextStart:
        let next = try CommandLineTests.boxwalk(["--backend", "real"], input: "box ls\n")
        #expect(next.status == 0)
        #expect(next.lines.first == "cleaned up after a crashed session:", "\(next.out)")
        #expect(next.lines.contains { $0.hasPrefix("  session \(dead)-") && $0.contains("has exited") }, "\(next.out)")
        #expect(next.lines.contains { $0.hasPrefix("    removed /run/boxwalk/\(dead)-") }, "\(next.out)")
        #expect(
          next.lines.contains(
            "backend: real (real kernel namespaces as root; the host's own settings are never changed)"))
      }
      let state = HostSnapshot.take().section("state")
      #expect(!state.contains { $0.hasPrefix("\(dead)-") }, "\(state)")
    }
  }

  /// A crash while a second session is running: cleanup removes the dead one's directory and
  /// leaves the live one (and its helper) alone (two REPLs at once).
  @Test func cleanupLeavesALiveSessionAlone() async throws {
    try await withHostUnchanged { _ in
      let live = try SafetyRepl.start(["--backend", "real"])
      try live.run(["box new keep"])
      let liveHelpers = live.helpers()
      #expect(liveHelpers.count == 1)

      let dead = try SafetyRepl.start(["--backend", "real"])
      try dead.run(["box new gone"])
      dead.signal(SIGKILL)
      dead.wait()

      let cleanup = try CommandLineTests.boxwalk(["cleanup"])
      #expect(cleanup.out.contains("session \(dead.pid)-"), "\(cleanup.out)")
      #expect(!cleanup.out.contains("removed /run/boxwalk/\(live.pid)-"), "\(cleanup.out)")
      #expect(
        HostSnapshot.listTree("/run/boxwalk").contains { $0.hasPrefix("\(live.pid)-") && $0.hasSuffix("/ledger") })
      #expect(live.helpers().map(\.pid) == liveHelpers.map(\.pid), "the live session's helper was touched")
      #expect(try live.run(["box ls"]).contains { $0.contains("keep") })

      live.closeInput()
      #expect(live.wait() == .exited(0))
      #expect(SafetyRepl.allGone(liveHelpers))
    }
  }
}
