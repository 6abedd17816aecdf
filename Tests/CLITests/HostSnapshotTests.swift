import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import LinuxBackend
import Testing

/// The leak harness checks itself: a check that cannot fail proves nothing. Each test makes a
/// known leftover, sees the snapshot report it, removes it, and sees the host unchanged again.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the host snapshot reads root-only files"))
struct HostSnapshotTests {
  @Test func aSnapshotOfAnUntouchedHostIsStable() async throws {
    try await withHostUnchanged { before in
      let again = HostSnapshot.take()
      #expect(again.isUnchanged(from: before), "\(again.differences(from: before))")
      #expect(!before.section("mountinfo").isEmpty)
      #expect(!before.section("links").isEmpty)
      #expect(before.section("uts").contains("hostname " + HostSnapshot.readText("/proc/sys/kernel/hostname")))
    }
  }

  /// PID 1's table when it can be read; the test process's own otherwise, said in the first line.
  @Test func theMountTableIsPID1sWhenReadable() {
    let table = HostSnapshot.mountTable()
    if let pid1 = try? String(contentsOfFile: "/proc/1/mountinfo", encoding: .utf8), !pid1.isEmpty {
      #expect(table == HostSnapshot.lines(pid1))
    } else {
      #expect(table.first?.hasPrefix("(read from /proc/self/mountinfo") == true)
    }
  }

  /// A session directory left under /run/boxwalk by a dead owner is a leak; once removed, the host
  /// is as before.
  @Test func aLeftoverSessionDirectoryIsReported() async throws {
    try await withHostUnchanged { before in
      let leftover = "/run/boxwalk/99999993-1"
      let createdRoot = mkdir("/run/boxwalk", 0o700) == 0
      #expect(mkdir(leftover, 0o700) == 0)
      let after = HostSnapshot.take()
      #expect(!after.isUnchanged(from: before))
      #expect(after.differences(from: before).contains("+ state: 99999993-1/ (owner gone)"))
      rmdir(leftover)
      if createdRoot { rmdir("/run/boxwalk") }
    }
  }

  /// A helper is reported with its parent (this process), and gone after teardown.
  @Test func aRunningHelperIsReported() async throws {
    try await withHostUnchanged { before in
      let root = "/tmp/boxwalk-snapshot-test-\(getpid())"
      let kernel = try LinuxKernel(stateRoot: root, helperPath: CommandLineTests.binDir + "/boxwalk-helper")
      _ = try kernel.perform(.process(.boxNew(box: "probe")))
      let pid = try #require(kernel.facts().box("probe")).process.hostPID
      let during = HostSnapshot.take().differences(from: before)
      #expect(
        during.contains { $0.hasPrefix("+ helpers: boxwalk-helper pid \(pid) ") && $0.contains("parent \(getpid())") },
        "\(during)")
      kernel.teardown()
      rmdir(root)
    }
  }

  /// Whose is a session? This process's (counted), another live process's (left out: a learner's
  /// REPL or another test run), a dead owner's (counted, tagged), or not a session name.
  @Test func sessionsAreAttributedToTheirOwner() throws {
    let mine = try #require(HostSnapshot.statFields(String(getpid())))[19]
    #expect(HostSnapshot.owner(ofSession: "\(getpid())-\(mine)") == "")
    #expect(HostSnapshot.owner(ofSession: "\(getpid())-\(mine)-2") == "")
    let init1 = try #require(HostSnapshot.statFields("1"))[19]
    #expect(HostSnapshot.owner(ofSession: "1-\(init1)") == nil)
    #expect(HostSnapshot.owner(ofSession: "1-\(init1)1") == " (owner gone)")
    #expect(HostSnapshot.owner(ofSession: "photos") == "")
  }
}
