import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// `boxwalk lint --backend sim|real|rootless|all`: lessons proved on each backend asked for, and
/// a lesson that a backend cannot run (its `requires:` or `no-rootless:`) skipped with the
/// reason, never reported ok.
@Suite(.serialized, .hostUnchanged) struct LintBackendTests {
  static let lesson = """
    ---
    id: lintdemo
    title: t
    format: 1
    FRONT
    ---
    ## Box {#box}

    ```check
    web exists  ! no box web yet
    ```

    ```solution
    box new web
    ```

    """

  static func file(_ name: String, front: String) throws -> String {
    try CommandLineTests.temporaryFile(name, lesson.replacingOccurrences(of: "FRONT\n", with: front))
  }

  static func lint(_ args: [String]) throws -> CommandLineTests.Run {
    try LessonCommandLineTests.run(["lint"] + args, state: try LessonCommandLineTests.stateHome())
  }

  @Test func anUnknownBackendIsBadUsage() throws {
    let path = try Self.file("plain.md", front: "")
    let r = try Self.lint([path, "--backend", "kvm"])
    #expect(r.status == 2)
    #expect(r.lines.contains("error: --backend takes sim, real, rootless or all, not \"kvm\""))
  }

  @Test func aLessonTheBackendCannotRunIsSkippedWithTheReason() throws {
    // The simulator is never the rootless backend: a lesson that requires it is skipped there.
    let path = try Self.file("needs-rootless.md", front: "requires: rootless\n")
    let r = try Self.lint([path, "--backend", "sim"])
    #expect(r.status == 0, "\(r.out)")
    #expect(r.lines.contains("skip \(path): needs rootless"))
    #expect(r.lines.contains("1 file: 0 ok, 1 skipped, 0 failed"))
    #expect(!r.lines.contains { $0.hasPrefix("ok   \(path)") })
  }

  @Test func noRootlessSkipsOnlyTheRootlessBackend() throws {
    let path = try Self.file("no-rootless.md", front: "no-rootless: it maps host IDs only root owns\n")
    // Only rootless is asked for and the lesson is skipped there: no session starts at all.
    let rootless = try Self.lint([path, "--backend", "rootless"])
    #expect(
      rootless.lines.contains("skip \(path): not on rootless: it maps host IDs only root owns"), "\(rootless.out)")
    #expect(!rootless.lines.contains { $0.hasPrefix("ok   ") })
    #expect(rootless.lines.contains("1 file: 0 ok, 1 skipped, 0 failed"))
    let sim = try Self.lint([path, "--backend", "sim"])
    #expect(sim.status == 0)
    #expect(sim.lines.contains("ok   \(path): 1 steps, 1 check fail before their solution and pass after"))
  }

  @Test func allNamesEachBackend() throws {
    guard geteuid() == 0 else {
      print("SKIP lint --backend all: the real backend needs root")
      return
    }
    let path = try Self.file("all.md", front: "")
    let r = try Self.lint([path, "--backend", "all"])
    #expect(r.status == 0, "\(r.out)")
    for backend in ["sim", "real", "rootless"] {
      #expect(
        r.lines.contains("ok   \(path) on \(backend): 1 steps, 1 check fail before their solution and pass after"))
    }
  }
}
