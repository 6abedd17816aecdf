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

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func aRecordingPassesOnTheRealKernel() throws { try roundTrip("real") }
}
