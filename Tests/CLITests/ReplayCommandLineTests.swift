import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk replay` with a piped standard input: it never waits, types instantly at pace 0, shows
/// captions and real output, marks divergences and goes on (lessons/README.md, "A lesson as a
/// demo").
@Suite(.serialized, .hostUnchanged) struct LessonReplayCommandLineTests {
  static let transcript = LessonCommandLineTests.root + "/transcripts/01-uts.transcript"

  static func run(_ args: [String]) throws -> CommandLineTests.Run {
    try LessonCommandLineTests.run(args, input: "q\nq\n", state: try LessonCommandLineTests.stateHome())
  }

  @Test func aWholeTranscriptAtPaceZero() throws {
    let r = try Self.run(["replay", Self.transcript, "--pace", "0", "--pause", "--backend", "sim"])
    #expect(r.status == 0)
    #expect(r.lines.contains("UTS namespace: a hostname of your own"), "narrative lines are captions")
    #expect(r.lines.contains("web is in uts:0, the host's UTS namespace"), "#pause captions are shown")
    #expect(r.lines.contains("boxwalk[web]> unshare uts"))
    #expect(r.lines.contains("web has new namespaces: uts:1"))
    #expect(r.lines.last { !$0.isEmpty } == "replay: 20 commands run, all as in the file")
    #expect(!r.out.contains("\u{1B}"))
  }

  @Test func aRangeRunsEarlierCommandsQuietly() throws {
    let r = try Self.run(["replay", Self.transcript, "--pace", "0", "--from", "8", "--to", "9", "--backend", "sim"])
    #expect(r.status == 0)
    #expect(!r.out.contains("boxwalk> box new web"))
    #expect(r.lines.contains("boxwalk[web]> show web.hostname"))
    #expect(r.lines.contains("web.hostname = \"lab-box\""))
    #expect(r.lines.contains("The host kept its name: the two values live in two different namespaces."))
    #expect(!r.out.contains("box new db"))
    #expect(r.lines.last { !$0.isEmpty } == "replay: 9 commands run, all as in the file")
  }

  @Test func aDivergenceIsMarkedAndTheDemoGoesOn() throws {
    let text = try String(contentsOfFile: Self.transcript, encoding: .utf8)
      .replacingOccurrences(of: "  web.hostname = \"lab-box\"", with: "  web.hostname = \"other\"")
    let path = try CommandLineTests.temporaryFile("diverges.transcript", text)
    let r = try Self.run(["replay", path, "--pace", "0", "--backend", "sim"])
    #expect(r.status == 0, "a demo never fails")
    let mark = try #require(r.lines.firstIndex { $0.hasPrefix("! differs from the file at \(path):") })
    #expect(r.lines[(mark + 1)...].contains("  -  web.hostname = \"other\""))
    #expect(r.lines[(mark + 1)...].contains("  +  web.hostname = \"lab-box\""))
    #expect(r.lines.last { !$0.isEmpty } == "replay: 20 commands run, 1 differed from the file")
  }

  @Test func badInputAndMissingFeatures() throws {
    #expect(try Self.run(["replay", Self.transcript, "--from", "40", "--backend", "sim"]).status == 2)
    #expect(try Self.run(["replay", Self.transcript, "--pace", "-1", "--backend", "sim"]).status == 2)
    let bad = try CommandLineTests.temporaryFile("bad-replay.transcript", "#frob\n  boxwalk> box ls\n")
    let b = try Self.run(["replay", bad, "--backend", "sim"])
    #expect(b.status == 2)
    #expect(b.out.contains("\(bad):1:2: unknown directive #frob"))
    let root = try CommandLineTests.temporaryFile("root-only.transcript", "#require root\n  boxwalk> box ls\n")
    let r = try Self.run(["replay", root, "--backend", "sim"])
    if geteuid() != 0 {
      #expect(r.status == 3)
      #expect(r.out.contains("#require root"))
    }
  }
}
