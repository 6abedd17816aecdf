import Kernel
import Simulator
import Testing

@testable import Lab

/// `record FILE`: the session becomes a transcript that `boxwalk test` passes on the same backend,
/// including lab commands run by `next` and labs rebuilt by `back`.
@Suite struct LessonRecordingTests {
  final class MemoryFiles: LessonFileWriter {
    var files: [String: String] = [:]
    var failWrites = false
    func exists(_ path: String) -> Bool { files[path] != nil }
    func write(_ path: String, _ text: String) throws(LabError) {
      if failWrites { throw LabError("disk full") }
      files[path] = text
    }
  }

  struct SimFactory: TranscriptSessionFactory {
    func features(for backend: Backend) -> Set<String> { ["sim", "overlay", "busybox"] }
    func unavailableReason(for backend: Backend) -> String? { backend == .sim ? nil : "sim only" }
    func makeSession(backend: Backend) throws -> any TranscriptSession { try Session(kernel: SimulatedKernel()) }
  }

  func runner(_ files: MemoryFiles) throws -> LessonRunner {
    LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [LessonRunnerTests.lesson],
      makeSession: { try Session(kernel: SimulatedKernel()) }, progress: MemoryLessonProgressStore(welcomed: true),
      files: files)
  }

  func passes(_ text: String) throws {
    let file = try TranscriptFile.parse(path: "rec.transcript", text: text)
    let result = TranscriptRunner(factory: SimFactory()).run(file: file, backend: .sim)
    #expect(result.outcome == .pass, "\(TranscriptReport.lines(for: result).joined(separator: "\n"))\n\(text)")
    #expect(!result.steps.isEmpty)
  }

  @Test func aPlainSessionRoundTrips() throws {
    let files = MemoryFiles()
    let r = try runner(files)
    _ = r.execute("box new web")  // before recording: still part of the session, so recorded
    #expect(r.execute("record rec.transcript").first?.hasPrefix("recording to rec.transcript") == true)
    for line in [
      "hostname", "hostname x", "unshare uts", "hostname '{{odd}} name'", "hostname", "ns", "nosuch", "diff",
      "show web", "help box", "box ls",
    ] {
      _ = r.execute(line)
    }
    let text = try #require(files.files["rec.transcript"])
    #expect(text.hasPrefix("# Recorded by boxwalk record on the sim backend"))
    #expect(text.contains("  boxwalk> box new web\n  created box web"))
    #expect(text.contains("  boxwalk[web]> hostname x\n  error: refused"))
    try passes(text)
    #expect(r.execute("record").first?.hasPrefix("recording to rec.transcript (12 commands so far)") == true)
    #expect(r.execute("record stop").first?.hasPrefix("stopped recording") == true)
    _ = r.execute("box ls")
    #expect(files.files["rec.transcript"] == text, "nothing is written after record stop")
  }

  @Test func aLessonSessionWithBackRoundTrips() throws {
    let files = MemoryFiles()
    let r = try runner(files)
    _ = r.execute("record lesson.transcript")
    for line in ["lesson demo", "next", "unshare uts", "check", "next", "back", "solution", "next", "next"] {
      _ = r.execute(line)
    }
    let text = try #require(files.files["lesson.transcript"])
    #expect(text.contains("# step demo/box: Make a box"))
    #expect(!text.contains("boxwalk[web demo/"), "the lesson prompt is not recorded: only lab commands are")
    try passes(text)
  }

  @Test func recordRefusesToOverwriteAndStopsOnWriteErrors() throws {
    let files = MemoryFiles()
    files.files["taken"] = "hand-written"
    let r = try runner(files)
    #expect(r.execute("record taken").first == "error: taken already exists")
    #expect(files.files["taken"] == "hand-written")
    _ = r.execute("record new")
    #expect(r.execute("record other").first == "error: already recording to new")
    files.failWrites = true
    #expect(r.execute("box new web").contains("error: could not write the recording, so recording stopped"))
    #expect(r.execute("record").first == "not recording: record FILE starts")
    #expect(r.failures == 2)
  }

  @Test func outputThatLooksLikeTranscriptSyntaxIsWrittenLiterally() throws {
    for line in ["{{*}}", "...", "  ...", "a (?)", "boxwalk> x", "boxwalk[a]> b", "plain"] {
      let text = "  boxwalk> c\n  " + TranscriptWriter.literal(line) + "\n"
      let file = try TranscriptFile.parse(path: "t", text: text)
      let step = try #require(file.allSteps.first)
      #expect(step.expected.count == 1, "\(line)")
      let matched = TranscriptMatcher().matchStep(
        step.expected, [TranscriptNormalizer.line(line)], TranscriptBindings())
      #expect(matched != nil, "\(line) -> \(TranscriptWriter.literal(line))")
    }
  }
}
