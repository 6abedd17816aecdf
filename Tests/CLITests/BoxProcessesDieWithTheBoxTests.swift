import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// Every process a box started dies with the box, however boxwalk ends: `quit`, SIGTERM (as
/// timeout(1) sends), SIGKILL, and whether the process is one `run` started or one that a box
/// program left behind (a grandchild, re-parented inside the box). The chain the kernel follows:
/// boxwalk's death kills the helper (PR_SET_PDEATHSIG), the helper's death kills the box's PID 1
/// (the same), and PID 1's death kills every other process of its pid namespace
/// (pid_namespaces(7)). `run` refuses to start a program in a box without a pid namespace of its
/// own, so no box process is ever outside that chain.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct BoxProcessesDieWithTheBoxTests {
  enum Ending: String, CaseIterable, Sendable {
    case quit, sigterm, sighup, sigint, sigkill
  }

  /// Every descendant of `pid`, as (pid, start time), from /proc/PID/task/PID/children.
  static func descendants(of pid: String) -> [(pid: String, start: String)] {
    var out: [(pid: String, start: String)] = []
    var queue = [pid]
    while let next = queue.first {
      queue.removeFirst()
      let children = HostSnapshot.readText("/proc/\(next)/task/\(next)/children")
        .split(separator: " ").map(String.init)
      for child in children {
        if let fields = HostSnapshot.statFields(child) { out.append((child, fields[19])) }
        queue.append(child)
      }
    }
    return out
  }

  @Test(arguments: Ending.allCases)
  func boxProcessesDieWithBoxwalk(_ ending: Ending) async throws {
    try await withHostUnchanged { _ in
      let repl = try SafetyRepl.start(["--backend", "real"])
      let printed = try repl.run([
        "box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root", "run -d sleep 1000",
        // sh is the helper's child; the sleep it starts is sh's, not the helper's.
        "run -d sh -c 'sleep 2000; true'",
        // What else a session leaves on the host, each in the ledger or found by name: a cgroup,
        // and a System V object in the host's IPC namespace (a box that shares it).
        "cgroup new", "cgroup set pids.max 20", "box new db", "ipc shm new 4242",
      ])
      #expect(!printed.contains { $0.hasPrefix("error:") }, "\(repl.output)")
      let helpers = repl.helpers()
      #expect(helpers.count == 2)
      // `run -d` returns once sh has called execve(2); the fork(2) of sleep 2000 is sh's own
      // business and may come a moment later, so wait for it (ten seconds at most) before
      // counting. A count that never reaches three still fails below.
      var boxProcesses = helpers.flatMap { Self.descendants(of: $0.pid) }
      for _ in 0..<100 where boxProcesses.count < 3 {
        usleep(100_000)
        boxProcesses = helpers.flatMap { Self.descendants(of: $0.pid) }
      }
      let sessions = HostSnapshot.take().section("state")
      #expect(boxProcesses.count == 3, "sleep 1000, sh, sleep 2000: \(boxProcesses)")
      switch ending {
      case .quit:
        repl.closeInput()
        #expect(repl.wait() == .exited(0))
      case .sigterm:
        repl.signal(SIGTERM)
        #expect(repl.wait() == .exited(128 + SIGTERM))
      case .sighup:
        repl.signal(SIGHUP)
        #expect(repl.wait() == .exited(128 + SIGHUP))
      case .sigint:
        // Input is a pipe, so Ctrl-C ends the session as SIGTERM does.
        repl.signal(SIGINT)
        #expect(repl.wait() == .exited(128 + SIGINT))
      case .sigkill:
        repl.signal(SIGKILL)
        #expect(repl.wait() == .signalled(SIGKILL))
      }
      #expect(SafetyRepl.allGone(helpers + boxProcesses), "a box process outlived boxwalk (\(ending))")
      #expect(!sessions.isEmpty, "the session had no state directory to check")
      if ending == .sigkill {
        // Nothing of boxwalk ran: the ledger is left for cleanup, which must then leave nothing.
        let cleanup = try CommandLineTests.boxwalk(["cleanup"])
        #expect(cleanup.out.contains("removed /run/boxwalk/\(repl.pid)-"), "\(cleanup.out)")
      }
      // withHostUnchanged checks the rest: no scratch directory, cgroup or IPC object is left.
    }
  }
}
