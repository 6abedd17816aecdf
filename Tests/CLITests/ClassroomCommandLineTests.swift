import Foundation
import HostSnapshotSupport
import Testing

/// The classroom commands as a learner and a teacher run them: `boxwalk report`, `boxwalk class
/// collect`, `boxwalk reset --all` and `boxwalk lesson new` (docs/lessons.md).
@Suite(.serialized, .hostUnchanged) struct ClassroomCommandLineTests {
  static let root = LessonCommandLineTests.root

  static func scratch(_ name: String) throws -> String {
    let dir = TestScratch.path(name)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  static func run(_ args: [String], input: String = "", state: String, cwd: String? = nil) throws
    -> CommandLineTests.Run
  {
    try CommandLineTests.boxwalk(
      args, input: input,
      env: ["XDG_STATE_HOME": state, "XDG_RUNTIME_DIR": state + "/run", "BOXWALK_LESSONS": root + "/lessons"])
  }

  /// A learner who walked two steps of uts and used a hint.
  static func learner() throws -> String {
    let state = try scratch("state")
    let walked = try run(["lesson", "uts", "--backend", "sim"], input: "next\nhint\nsolution\nnext\n", state: state)
    #expect(walked.status == 0, "\(walked.out)")
    return state
  }

  @Test func reportWritesOneJSONFileWithTheFiguresAndCollectReadsIt() throws {
    let state = try Self.learner()
    let dir = try Self.scratch("reports")
    let report = try Self.run(["report", "--name", "ada", "--out", dir + "/ada.json"], state: state)
    #expect(report.status == 0, "\(report.out)")
    #expect(report.lines.first?.hasPrefix("wrote \(dir)/ada.json: ada, 0/") == true, "\(report.out)")
    let text = try String(contentsOfFile: dir + "/ada.json", encoding: .utf8)
    #expect(text.contains("\"name\":\"ada\""))
    #expect(
      text.contains(
        "{\"id\":\"uts\",\"title\":\"UTS namespace: a hostname of your own\",\"state\":\"in-progress\",\"steps_done\":2"
      ))
    #expect(text.contains("\"hints\":1,\"solutions\":1,\"checks_failed\":0"))

    // A second learner, whose report was edited by hand, and a file that is not a report.
    let edited = text.replacing("\"name\":\"ada\"", with: "\"name\":\"bob\"").replacing(
      "\"steps_done\":2", with: "\"steps_done\":7")
    try edited.write(toFile: dir + "/bob.json", atomically: true, encoding: .utf8)
    try "not json".write(toFile: dir + "/junk.json", atomically: true, encoding: .utf8)
    let csv = dir + "/class.csv"
    let collected = try Self.run(["class", "collect", dir, "--csv", csv], state: state)
    #expect(collected.status == 1, "a bad file makes the exit status 1: \(collected.out)")
    #expect(collected.lines.contains { $0.hasPrefix("  ada ") && $0.hasSuffix(" ok") }, "\(collected.out)")
    #expect(collected.lines.contains { $0.hasPrefix("  bob ") && $0.contains("ALTERED") }, "\(collected.out)")
    #expect(collected.lines.contains("error: \(dir)/junk.json: not JSON (byte 0); left out"), "\(collected.out)")
    let table = try String(contentsOfFile: csv, encoding: .utf8)
    let rows = table.components(separatedBy: "\r\n")
    #expect(rows.count == 4 && rows[0].hasPrefix("name,host,backend,boxwalk,written,report,"))
    #expect(
      rows[1].hasPrefix("ada,") && rows[1].contains(",ok,") && rows[2].hasPrefix("bob,")
        && rows[2].contains(",altered,"))
  }

  @Test func reportRefusesANameThatIsNotAPlainName() throws {
    let state = try Self.scratch("state")
    let out = try Self.run(["report", "--name", "../etc/x"], state: state)
    #expect(out.status == 2)
    #expect(out.lines.first == "error: \"../etc/x\" is not a name for a report", "\(out.out)")
  }

  @Test func resetAllAsksAndRefusesWithoutATerminalThenRemovesProgressWithYes() throws {
    let state = try Self.learner()
    let progress = state + "/boxwalk/progress/uts.progress"
    #expect(FileManager.default.fileExists(atPath: progress))
    let refused = try Self.run(["reset", "--all"], state: state)
    #expect(refused.status == 2, "\(refused.out)")
    #expect(
      refused.out.contains("error: reset --all asks before it removes anything, and there is no terminal to ask on"))
    #expect(FileManager.default.fileExists(atPath: progress), "nothing removed without an answer")
    let done = try Self.run(["reset", "--all", "--yes"], state: state)
    #expect(done.status == 0, "\(done.out)")
    #expect(done.lines.contains("removed \(state)/boxwalk/progress"), "\(done.out)")
    #expect(!FileManager.default.fileExists(atPath: progress))
    let listed = try Self.run(["lessons"], state: state)
    #expect(listed.lines.contains { $0.contains("uts") && $0.hasSuffix("not started") })
    let bare = try Self.run(["reset"], state: state)
    #expect(bare.status == 2 && bare.lines.first == "error: reset needs --all")
  }

  @Test func lessonNewDraftsALessonFromATranscriptThatLintParsesAndProves() throws {
    let state = try Self.scratch("state")
    let dir = try Self.scratch("draft")
    let lessons = dir + "/lessons"
    try FileManager.default.createDirectory(atPath: lessons, withIntermediateDirectories: true)
    let drafted = try CommandLineTests.boxwalk(
      ["lesson", "new", "my-uts", "--from", Self.root + "/transcripts/01-uts.transcript", "--dir", lessons],
      env: ["XDG_STATE_HOME": state])
    #expect(drafted.status == 0, "\(drafted.out)")
    let file = lessons + "/01-my-uts.md"
    let text = try String(contentsOfFile: file, encoding: .utf8)
    #expect(text.hasPrefix("---\nid: my-uts\n"))
    #expect(text.contains("```lab\nbox new web\n```\n\n```shell\nsleep infinity &"), "\(text)")
    #expect(text.contains("```expect\nweb exists\n```"), "\(text)")
    #expect(text.contains("web.hostname == \"lab-box\""), "\(text)")
    let lint = try CommandLineTests.boxwalk(["lint", file], env: ["XDG_STATE_HOME": state])
    #expect(lint.status == 0, "\(lint.out)")
    // It never overwrites: the same id again is refused.
    let again = try CommandLineTests.boxwalk(
      ["lesson", "new", "my-uts", "--from", Self.root + "/transcripts/01-uts.transcript", "--dir", lessons],
      env: ["XDG_STATE_HOME": state])
    #expect(again.status == 2, "\(again.out)")
  }
}
