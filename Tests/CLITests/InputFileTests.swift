import Foundation
import Glibc
import Testing

/// Files boxwalk is told to read (transcripts for test, replay and lint, lesson files) are
/// regular files of at most 4 MiB. `boxwalk test /dev/zero` once read until memory ran out and
/// `boxwalk test FIFO` waited forever for a writer; each is now a one-line error, exit status 2.
/// Every run here goes through timeout(1) and prlimit(1) (1 GiB of data), so a regression fails
/// the test instead of hanging it or eating the machine's memory.
extension CommandLineTests {
  /// boxwalk with `args`, killed if it runs longer than `seconds` or allocates past 1 GiB.
  static func boxwalkBounded(_ args: [String], seconds: Int = 10, env: [String: String] = [:]) throws -> (
    run: Run, seconds: Double
  ) {
    let start = Date()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
    p.arguments =
      ["--data=\(1 << 30)", "--", "/usr/bin/timeout", "-s", "KILL", String(seconds), binDir + "/boxwalk"] + args
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment["BOXWALK_HOME"] = TestScratch.path("home")
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let run = try run(p, input: "")
    return (run, Date().timeIntervalSince(start))
  }

  @Test func aCharacterDeviceIsNotATranscript() throws {
    let (run, took) = try Self.boxwalkBounded(["test", "--backend", "sim", "/dev/zero"])
    #expect(run.status == 2, "\(run.out)")
    #expect(run.lines.contains("error: cannot read /dev/zero: not a regular file (a character device)"), "\(run.out)")
    #expect(took < 8)
  }

  @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
    let fifo = TestScratch.path("pipe") + ".transcript"
    #expect(mkfifo(fifo, 0o600) == 0)
    for args in [["test", "--backend", "sim", fifo], ["replay", fifo], ["lint", fifo]] {
      let (run, took) = try Self.boxwalkBounded(args)
      #expect(run.status == 2, "\(args[0]): \(run.out)")
      #expect(run.out.contains("cannot read \(fifo): not a regular file (a FIFO)"), "\(args[0]): \(run.out)")
      #expect(took < 8, "\(args[0]) took \(took) s")
    }
  }

  @Test func aDirectoryNamedLikeATranscriptIsRefused() throws {
    let dir = TestScratch.path("suite")
    try FileManager.default.createDirectory(atPath: dir + "/odd.transcript", withIntermediateDirectories: true)
    let (tested, _) = try Self.boxwalkBounded(["test", "--backend", "sim", dir])
    #expect(tested.status == 2, "\(tested.out)")
    #expect(tested.lines.contains("error: cannot read \(dir)/odd.transcript: not a regular file (a directory)"))
    let (replayed, _) = try Self.boxwalkBounded(["replay", dir])
    #expect(replayed.status == 2, "\(replayed.out)")
    #expect(replayed.lines.contains("error: cannot read \(dir): not a regular file (a directory)"), "\(replayed.out)")
  }

  @Test func aTranscriptOverTheLimitIsRefusedAndOneAtTheLimitIsRead() throws {
    let comment = "# a comment line of a transcript that is far too long to be a real one\n"
    let big = TestScratch.path("big") + ".transcript"
    let text = String(repeating: comment, count: (4 << 20) / comment.utf8.count + 1)
    try text.write(toFile: big, atomically: false, encoding: .utf8)
    let (run, _) = try Self.boxwalkBounded(["test", "--backend", "sim", big])
    #expect(run.status == 2, "\(run.out)")
    #expect(
      run.lines.contains(
        "error: cannot read \(big): \(text.utf8.count) bytes, more than the 4 MiB an input file may hold"),
      "\(run.out)")
    // Just under the limit: read, and refused only for what it is (no steps).
    let fits = TestScratch.path("fits") + ".transcript"
    try String(text.utf8.prefix(4 << 20))!.write(toFile: fits, atomically: false, encoding: .utf8)
    let (fine, _) = try Self.boxwalkBounded(["test", "--backend", "sim", fits])
    #expect(fine.status == 2)
    #expect(fine.out.contains("no steps"), "\(fine.out)")
  }

  @Test func aFIFOAmongTheLessonsIsReportedNotWaitedFor() throws {
    let dir = TestScratch.path("lessons")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    #expect(mkfifo(dir + "/stuck.md", 0o600) == 0)
    let (run, took) = try Self.boxwalkBounded(
      ["lessons"], env: ["BOXWALK_LESSONS": dir, "XDG_STATE_HOME": TestScratch.path("state")])
    #expect(run.out.contains("not a regular file (a FIFO)"), "\(run.out)")
    #expect(took < 8)
  }

  /// One unreadable file among several: it is reported, the others still run, and the run fails
  /// with status 2 (it once stopped at the first unreadable file and ran nothing).
  @Test func anUnreadableTranscriptAmongOthersIsReportedAndTheOthersRun() throws {
    let dir = TestScratch.path("mixed")
    try FileManager.default.createDirectory(atPath: dir + "/b.transcript", withIntermediateDirectories: true)
    #expect(mkfifo(dir + "/c.transcript", 0o600) == 0)
    let good = try String(
      contentsOfFile: ClassroomCommandLineTests.root + "/transcripts/01-uts.transcript", encoding: .utf8)
    try good.write(toFile: dir + "/a.transcript", atomically: false, encoding: .utf8)
    try good.write(toFile: dir + "/d.transcript", atomically: false, encoding: .utf8)
    // A FIFO waited for would hang the run until the bound kills it, and the status says so.
    let (run, _) = try Self.boxwalkBounded(["test", "--backend", "sim", dir], seconds: 120)
    #expect(run.status == 2, "\(run.out)")
    #expect(
      run.lines.contains("error: cannot read \(dir)/b.transcript: not a regular file (a directory)"), "\(run.out)")
    #expect(run.lines.contains("error: cannot read \(dir)/c.transcript: not a regular file (a FIFO)"), "\(run.out)")
    #expect(run.lines.contains { $0.hasPrefix("PASS") && $0.contains("a.transcript") }, "\(run.out)")
    #expect(run.lines.contains { $0.hasPrefix("PASS") && $0.contains("d.transcript") }, "\(run.out)")
    #expect(run.lines.last { !$0.isEmpty } == "2 passed, 2 failed, 0 skipped", "\(run.out)")
  }
}
