import Kernel
import OCI
import Simulator
import Testing

@testable import Lab

/// The progress record a teacher reads: per step, when it was started and passed, how many hints
/// and solutions were shown and how many checks failed. It must keep what happened in a step after
/// the learner moved past it.
@Suite struct ProgressRecordTests {
  final class Clock {
    var now = 1_000
  }

  func runner(_ store: MemoryLessonProgressStore, clock: Clock = Clock()) throws -> LessonRunner {
    LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [LessonRunnerTests.lesson],
      makeSession: { try Session(kernel: SimulatedKernel()) }, progress: store,
      clock: {
        clock.now += 10
        return clock.now
      })
  }

  /// Regression: `advance` zeroed the hint count and saved, so the file said `hints 0` for a
  /// learner who had used both hints of the step they had just passed.
  @Test func hintsUsedInAPassedStepAreStillInTheSavedFile() throws {
    let store = MemoryLessonProgressStore(welcomed: true)
    let r = try runner(store)
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("hint")
    _ = r.execute("hint")
    _ = r.execute("unshare uts")
    _ = r.execute("next")
    let text = store.load(lesson: "demo")?.encoded ?? ""
    #expect(text.contains("hints 2"), "\(text)")
  }

  @Test func everyStepRecordsStartPassHintsSolutionsAndFailedChecks() throws {
    let store = MemoryLessonProgressStore(welcomed: true)
    let r = try runner(store)
    _ = r.execute("lesson demo")  // box started at 1010
    _ = r.execute("next")  // box passed at 1020, own started at 1030
    _ = r.execute("check")  // fails
    _ = r.execute("next")  // fails again: next checks an exercise
    _ = r.execute("hint")
    _ = r.execute("back")  // the hint count of the step starts again, the record keeps 1
    _ = r.execute("next")
    _ = r.execute("solution")
    _ = r.execute("next")
    let p = try #require(store.load(lesson: "demo"))
    #expect(p.record("box") == LessonStepRecord(step: "box", started: 1010, passed: 1020))
    let own = try #require(p.record("own"))
    #expect(own.started == 1030, "the first arrival, not the one after back")
    #expect(own.passed != nil && own.hints == 1 && own.solutions == 1 && own.checksFailed == 2)
    #expect(p.record("name")?.passed == nil && p.record("name")?.started != nil)
    // The file reads back the same.
    #expect(LessonProgress.decode(p.encoded) == p)
  }

  @Test func aFormatOneFileStillReadsAndCountsItsSteps() throws {
    let old = "format 1\nlesson demo\nstep name\nlab-done no\nhints 0\nfinished no\n"
    let p = try #require(LessonProgress.decode(old))
    #expect(p.records.isEmpty)
    let course = CourseProgress([LessonRunnerTests.lesson]) { _ in p }
    #expect(course.entries[0].stepsDone == 2 && course.entries[0].percent == 66)
    #expect(LessonProgress.decode("format 2\nlesson demo\nstep -\nhints 0\nrecord box hints x\n") == nil)
  }

  @Test func lessonsShowsDoneOverTotalAndAPercentPerLessonAndOverall() throws {
    let store = MemoryLessonProgressStore(welcomed: true)
    let r = try runner(store)
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    let lines = r.execute("lessons")
    #expect(lines.contains("  demo  A demo lesson  1/3 33%  at step 2 (own)"), "\(lines)")
    #expect(lines.contains("steps: 1/3 passed (33%)"), "\(lines)")
  }

  // MARK: - Reports

  /// A lesson's progress names the backends it was worked on, and a report says them: per lesson,
  /// and as the report's backend (the machine's own choice only when no lesson recorded one).
  @Test func theProgressAndTheReportNameTheBackendsTheLessonRanOn() throws {
    let store = MemoryLessonProgressStore(welcomed: true)
    let r = try runner(store)
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    let p = try #require(store.load(lesson: "demo"))
    #expect(p.backends == ["sim"])
    #expect(p.encoded.contains("\nbackends sim\n"))
    #expect(LessonProgress.decode(p.encoded) == p)
    // A second backend is added once, after the first; a name no backend has is dropped.
    var both = p
    both.backends.append("real")
    #expect(LessonProgress.decode(both.encoded)?.backends == ["sim", "real"])
    #expect(
      LessonProgress.decode(p.encoded.replacingOccurrences(of: "backends sim", with: "backends sim vm"))?.backends == [
        "sim"
      ])
    let lessons = [LessonRunnerTests.lesson]
    #expect(LearnerReport.backendNamed(lessons, progress: { _ in both }, fallback: "real") == "sim, real")
    #expect(LearnerReport.backendNamed(lessons, progress: { _ in nil }, fallback: "real") == "real")
    let content = LearnerReport.content(Self.origin, lessons) { store.load(lesson: $0) }
    #expect(String(decoding: content.encoded(), as: UTF8.self).contains("\"backends\":[\"sim\"]"))
  }

  static let origin = LearnerReport.Origin(name: "ada", host: "lab1", version: "0.1.0", backend: "sim", written: 77)

  func reportAfterOneStep() throws -> String {
    let store = MemoryLessonProgressStore(welcomed: true)
    let r = try runner(store)
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("hint")
    let content = LearnerReport.content(Self.origin, [LessonRunnerTests.lesson]) { store.load(lesson: $0) }
    return LearnerReport.document(content)
  }

  @Test func aReportReadsBackWithItsFiguresAndItsDigestHolds() throws {
    let text = try reportAfterOneStep()
    #expect(text.hasPrefix("{\"format\":\"boxwalk-report 1\",\"content\":{\"name\":\"ada\",\"host\":\"lab1\""))
    let c = try LearnerReport.read(Array(text.utf8), file: "ada.json")
    #expect(!c.altered)
    #expect(c.name == "ada" && c.lessonsDone == 0 && c.lessonsTotal == 1 && c.stepsDone == 1 && c.stepsTotal == 3)
    #expect(c.hints == 1 && c.lessons.map(\.id) == ["demo"] && c.lessons[0].percent == 33)
    let steps = text.split(separator: "\"steps\":[").last ?? ""
    #expect(steps.hasPrefix("{\"id\":\"box\",\"title\":\"Make a box\",\"started\":1010,\"passed\":1020,\"hints\":0"))
  }

  /// The digest goes through the project's SHA-256 wrapper (OCI's `SHA256`, on swift-crypto) over
  /// the content's exact bytes: checked against sha256sum(1)'s answer for the same bytes, and
  /// against the content as the file holds it.
  @Test func theDigestIsSHA256OfTheContentBytesAsWritten() throws {
    let content = try JSONValue.parse(Array("{\"a\":1}".utf8))
    #expect(
      LearnerReport.digest(content) == "sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862")
    #expect(LearnerReport.digest(content) == SHA256.digest(Array("{\"a\":1}".utf8)))
    let text = try reportAfterOneStep()
    let body = try #require(text.split(separator: "\"content\":").last?.split(separator: ",\"digest\":").first)
    #expect(text.contains("},\"digest\":\"" + SHA256.digest(Array(body.utf8)) + "\"}"), "\(text)")
  }

  @Test func anEditedReportIsReadAndMarkedAltered() throws {
    let text = try reportAfterOneStep().replacing("\"steps_done\":1,", with: "\"steps_done\":3,", maxReplacements: 1)
    let c = try LearnerReport.read(Array(text.utf8), file: "ada.json")
    #expect(c.altered && c.stepsDone == 3)
    #expect(ClassGradebook.table([c]).contains { $0.contains("ALTERED: ada.json does not match its digest") })
  }

  @Test func aFileThatIsNotAReportSaysWhyInOneLine() {
    for (bytes, reason) in [
      ("nope", "not JSON (byte 0)"), ("[1]", "not a boxwalk report: not a JSON object"),
      (
        "{\"format\":\"boxwalk-report 9\"}",
        "format \"boxwalk-report 9\" is not \"boxwalk-report 1\", which this boxwalk reads"
      ),
      ("{\"format\":\"boxwalk-report 1\",\"content\":{},\"digest\":\"x\"}", "\"content\" has no \"lessons\" list"),
    ] {
      #expect(throws: LearnerReport.Unreadable(reason)) { try LearnerReport.read(Array(bytes.utf8), file: "f") }
    }
  }

  @Test func theCSVQuotesFieldsAndDefusesFormulas() throws {
    var c = try LearnerReport.read(Array(try reportAfterOneStep().utf8), file: "r/a,b.json")
    c.name = "=HYPERLINK(\"x\")"
    let csv = ClassGradebook.csv([c])
    let lines = csv.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0].hasPrefix("name,host,backend,boxwalk,written,report,") && lines[0].hasSuffix(",file,demo"))
    #expect(lines[1].hasPrefix("\"'=HYPERLINK(\"\"x\"\")\",lab1,sim,0.1.0,77,ok,0,1,0,1,3,1,0,0,\"r/a,b.json\",33"))
    #expect(lines.count == 3 && lines[2].isEmpty, "CRLF after every row")
  }
}
