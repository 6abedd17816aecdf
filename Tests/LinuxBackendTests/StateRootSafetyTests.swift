import Foundation
import Glibc
import Testing

@testable import LinuxBackend

/// State roots and ledgers other users may have touched: a squatted /tmp/boxwalk-UID, a state
/// root someone else owns, a ledger record that climbs out with "..".
@Suite struct StateRootSafetyTests {
  let bootID = (try? ProcFS(root: "/proc").bootID()) ?? ""

  /// Seen failing before the fix: the record's path starts with the session's directory, so the
  /// prefix check let cleanup remove ../../victim.
  @Test func aScratchRecordThatClimbsOutWithDotDotIsLeftAlone() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let session = root.path + "/state/99999996-1"
    try root.write("victim/passwd", "root:x:0:0")
    try root.write("state/99999996-1/boxes/web-overlay/upper/x", "")
    chmod(root.path + "/state", 0o700)
    let ledger = Ledger(
      owner: .init(bootID: bootID, pid: 99_999_996, startTime: 1),
      records: [
        .scratch(box: "web", path: session + "/boxes/../../../victim"),
        .scratch(box: "db", path: session + "/boxes/web-overlay"),
      ])
    try root.write("state/99999996-1/ledger", ledger.text)
    let lines = LedgerCleanup.run(stateRoot: root.path + "/state")
    #expect(lines.contains { $0.contains("boxes/../../../victim is outside") })
    #expect(root.entries("/victim") == ["passwd"])
    #expect(root.entries("/state") == [])
  }

  @Test func onlyTheSessionsOwnScratchPlacesCount() {
    let s = "/run/boxwalk/1-2"
    #expect(LedgerCleanup.isScratchPath(s + "/images", of: s))
    #expect(LedgerCleanup.isScratchPath(s + "/boxes/web-overlay", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "/boxes/..", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "/boxes/./x", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "/boxes//x", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "/boxes/a/../../..", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "/ledger", of: s))
    #expect(!LedgerCleanup.isScratchPath(s + "-3/images", of: s))
  }

  /// A state root another user owns (one who made /tmp/boxwalk-0 first, say) holds ledgers we
  /// did not write: cleanup acts on none of them. Seen failing before the fix: the planted
  /// session directory was removed (and its ledger's records acted on).
  @Test(.requiresRoot) func aStateRootSomeoneElseOwnsIsLeftAlone() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let ledger = Ledger(owner: .init(bootID: bootID, pid: 99_999_994, startTime: 1))
    try root.write("99999994-1/ledger", ledger.text)
    #expect(chown(root.path, 65534, 65534) == 0)
    let lines = LedgerCleanup.run(stateRoot: root.path)
    #expect(lines.count == 1)
    #expect(lines.first?.contains("belongs to uid 65534") == true)
    #expect(root.entries() == ["99999994-1"])
  }

  /// A state root that is a symbolic link (a /tmp/boxwalk-0 pointing at /etc, say) is never
  /// followed, and cleanup says it left it alone rather than passing over it in silence.
  @Test func aStateRootThatIsALinkIsLeftAloneAndSaidSo() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try dir.write("target/99999993-1/ledger", "not followed")
    #expect(symlink(dir.path + "/target", dir.path + "/link") == 0)
    let lines = LedgerCleanup.run(stateRoot: dir.path + "/link")
    #expect(lines == ["\(dir.path)/link: left alone: it is a symbolic link, not a state directory boxwalk made"])
    #expect(dir.entries("/target/99999993-1") == ["ledger"])
  }

  /// A squatted /tmp/boxwalk-UID (a link, or a directory another user made) is not used;
  /// SessionDirectory refuses such a state root with the reason.
  @Test(.requiresRoot) func aSquattedSharedStateRootIsRefusedWithTheReason() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(LinuxKernel.sharedStateRootIsOurs(dir.path + "/missing"))
    #expect(LinuxKernel.sharedStateRootIsOurs(dir.path))
    #expect(symlink(dir.path, dir.path + "/link") == 0)
    #expect(!LinuxKernel.sharedStateRootIsOurs(dir.path + "/link"))
    #expect(mkdir(dir.path + "/theirs", 0o700) == 0 && chown(dir.path + "/theirs", 65534, 65534) == 0)
    #expect(!LinuxKernel.sharedStateRootIsOurs(dir.path + "/theirs"))

    let procfs = ProcFS(root: "/proc")
    for (path, words) in [(dir.path + "/link", "symbolic link"), (dir.path + "/theirs", "belongs to uid 65534")] {
      do throws(SystemCallError) {
        _ = try SessionDirectory.create(stateRoot: path, procfs: procfs)
        Issue.record("\(path) was accepted")
      } catch {
        #expect(error.call.contains(words))
      }
    }
    #expect(dir.entries("/theirs") == [])
  }

  /// With /tmp/boxwalk-UID squatted (a link, another user's directory), the rootless backend
  /// takes the next place, under the user's home, instead of failing.
  @Test(.requiresRoot) func aSquattedSharedStateRootFallsBackToTheHome() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fallback = dir.path + "/home/.local/state/boxwalk/sessions"
    #expect(symlink("/etc", dir.path + "/link") == 0)
    #expect(LinuxKernel.chooseStateRoot([dir.path + "/link", fallback]) == fallback)
    #expect(mkdir(dir.path + "/theirs", 0o700) == 0 && chown(dir.path + "/theirs", 65534, 65534) == 0)
    #expect(LinuxKernel.chooseStateRoot([dir.path + "/theirs", fallback]) == fallback)
    #expect(LinuxKernel.chooseStateRoot([dir.path + "/mine", fallback]) == dir.path + "/mine")
    // The fallback is a state root like any other.
    let session = try SessionDirectory.create(stateRoot: fallback, procfs: ProcFS(root: "/proc"))
    session.remove()
    #expect(dir.entries("/home/.local/state/boxwalk/sessions") == [])
  }
}
