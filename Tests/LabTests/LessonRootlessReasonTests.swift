import Kernel
@testable import Lab
import Simulator
import Testing

/// `no-rootless: REASON` in a lesson's front matter: the lesson says why it cannot run on the
/// rootless backend, and `lesson ID` there prints that reason instead of failing halfway.
@Suite struct LessonRootlessReasonTests {
  static let text = LessonRunnerTests.text.replacingAll(
    "format: 1\n", with: "format: 1\nno-rootless: it maps host IDs only root owns\n")

  @Test func theReasonIsParsed() throws {
    let lesson = try Lesson.parse(path: "lessons/demo.md", text: Self.text)
    #expect(lesson.rootlessReason == "it maps host IDs only root owns")
    #expect(try Lesson.parse(path: "lessons/demo.md", text: LessonRunnerTests.text).rootlessReason == nil)
  }

  @Test func anEmptyReasonIsRefused() throws {
    let text = LessonRunnerTests.text.replacingAll("format: 1\n", with: "format: 1\nno-rootless:\n")
    #expect(throws: LessonParseError.self) { try Lesson.parse(path: "lessons/demo.md", text: text) }
  }

  @Test func theRunnerRefusesTheLessonOnRootlessWithTheReason() throws {
    let lesson = try Lesson.parse(path: "lessons/demo.md", text: Self.text)
    let r = LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [lesson],
      makeSession: { try Session(kernel: SimulatedKernel()) }, features: ["rootless", "overlay", "busybox"])
    let out = r.execute("lesson demo")
    #expect(out.first == "error: lesson demo does not run on the rootless backend: it maps host IDs only root owns")
    #expect(r.position == nil)
    #expect(r.failures == 1)
  }

  @Test func theRunnerStartsTheLessonElsewhere() throws {
    let lesson = try Lesson.parse(path: "lessons/demo.md", text: Self.text)
    let r = LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [lesson],
      makeSession: { try Session(kernel: SimulatedKernel()) }, progress: MemoryLessonProgressStore(welcomed: true),
      features: ["sim", "overlay", "busybox"])
    #expect(r.execute("lesson demo").first == "lesson demo: A demo lesson (3 steps)")
    #expect(r.failures == 0)
  }
}
