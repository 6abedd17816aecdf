import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk record FILE` writes a transcript that `boxwalk test` passes on the same backend.
@Suite(.serialized, .hostUnchanged) struct LessonRecordCommandLineTests {
  static let session = """
    box new web
    hostname
    hostname lab-box
    unshare uts
    hostname lab-box
    box new db
    join uts web
    nosuch
    ns
    box ls
    record

    """

  func roundTrip(_ backend: String) throws {
    let path = TestScratch.path("recording") + ".transcript"
    let state = try LessonCommandLineTests.stateHome()
    let r = try LessonCommandLineTests.run(["record", path, "--backend", backend], input: Self.session, state: state)
    #expect(r.status == 1, "a piped session with a failing command (nosuch) exits 1")
    #expect(r.out.contains("recording to \(path) (10 commands so far)"))
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("  boxwalk[db]> join uts web\n"))
    let test = try LessonCommandLineTests.run(["test", path, "--backend", backend], state: state)
    #expect(test.status == 0, "\(test.out)\n\(text)")
    #expect(test.lines.contains("1 passed, 0 failed, 0 skipped"))
    // record never overwrites.
    let again = try LessonCommandLineTests.run(["record", path, "--backend", backend], state: state)
    #expect(again.status == 2)
    #expect(again.out.contains("error: \(path) already exists"))
  }

  @Test func aRecordingPassesOnTheSimulator() throws { try roundTrip("sim") }

  /// Pictures are recorded as the terminal drew them: in ASCII under NO_COLOR, or box drawing at
  /// 60 columns. The recording names that style in its first line (`#pictures ascii 100`), and
  /// `boxwalk test` draws in it, so the recording passes; without that line it would not.
  @Test(arguments: [
    (["NO_COLOR": "1", "COLUMNS": "100"], "#pictures ascii 100"),
    (["NO_COLOR": "", "LC_ALL": "C.UTF-8", "COLUMNS": "60"], "#pictures unicode 60"),
  ])
  func picturesRecordedInATerminalsStyleReplay(env: [String: String], directive: String) throws {
    let path = TestScratch.path("pictures") + ".transcript"
    let state = try LessonCommandLineTests.stateHome()
    let input = "box new web\nunshare uts\ndraw ns\npictures on\nhostname lab-box\nunshare net\ndraw all --changed\n"
    var environment = ["XDG_STATE_HOME": state]
    for (k, v) in env { environment[k] = v }
    let r = try CommandLineTests.boxwalk(["record", path, "--backend", "sim"], input: input, env: environment)
    #expect(r.status == 0, "\(r.out)")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasPrefix(directive + "\n"), "\(text)")
    #expect(!text.contains("\u{1B}"))
    // A picture's branch, in the recorded charset.
    let branch = directive.contains("ascii") ? "`-- " : "└── "
    #expect(text.contains(branch), "no picture in the recording: \(text)")
    // The replay runs in the plain environment tests use; the file's line decides the style.
    let test = try LessonCommandLineTests.run(["test", path, "--backend", "sim"], state: state)
    #expect(test.status == 0, "\(test.out)\n\(text)")
    let bare = TestScratch.path("pictures-bare") + ".transcript"
    try String(text.dropFirst(directive.count + 1)).write(toFile: bare, atomically: true, encoding: .utf8)
    let without = try LessonCommandLineTests.run(["test", bare, "--backend", "sim"], state: state)
    #expect(without.status == 1, "the pictures differ in the plain style: \(without.out)")
  }

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func aRecordingPassesOnTheRealKernel() throws { try roundTrip("real") }
}
