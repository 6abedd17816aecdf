import Testing

@testable import Lab

/// `lint --course`: the course's bar, rule by rule, on a lesson that meets it and on one that
/// misses each part; every lesson in lessons/ meets it.
@Suite struct LessonCourseBarTests {
  /// One exercise step: a check, `hints` hints and a solution.
  static func exercise(_ id: String, hints: Int = 2) -> String {
    "## E \(id) {#\(id)}\n\n```check\nweb exists  ! make web\n```\n\n"
      + String(repeating: "```hint\nthink\n```\n\n", count: hints) + "```solution\nbox new web\n```\n\n"
  }

  static let predict =
    "## P {#p}\n\nPredict before you type `next`: what fails?\n\n```lab\nbox new web\n```\n\n"
    + "```shell\nx\n```\n\nIt is refused: EPERM.\n\n"
  static let readNext = "## Read next {#next}\n\nMan pages: unshare(2). docker run does this.\n"

  static func bar(_ body: String) throws -> [String] {
    let lesson = try Lesson.parse(path: "l.md", text: LessonLintTests.lesson(body))
    return LessonLinter.courseBar(lesson).map(\.description)
  }

  @Test func aLessonThatMeetsTheBarHasNoFindings() throws {
    let body = Self.predict + Self.exercise("a") + Self.exercise("b") + Self.exercise("c") + Self.readNext
    #expect(try Self.bar(body) == [])
  }

  @Test func eachPartOfTheBarIsReported() throws {
    // Two exercises, one with a single hint, no prediction, no mistake, no man page, no docker.
    let body = "## T {#t}\n\nText.\n\n" + Self.exercise("a", hints: 1) + Self.exercise("b") + "## End {#end}\n\nDone.\n"
    let found = try Self.bar(body)
    let expected = [
      "l.md:2:1: the lesson has 2 exercises; a course lesson has at least three (steps with a check block)",
      "l.md:2:1: the lesson never says which docker or runc behaviour it explains",
      "l.md:6:1: no step asks the learner to predict before observing (\"Predict before you type `next`: ...\")",
      "l.md:6:1: no step stages a classic mistake: name the refusal, error or errno (EPERM, EINVAL, ...) the "
        + "learner meets, then the fix",
      "l.md:12:1: step a: the exercise has 1 hint; give at least two, the gentle one first and the explicit one last",
      "l.md:42:1: step end: the last step names no man page to read next (a name and section: unshare(2))",
    ]
    for line in expected { #expect(found.contains(line), "\(found)") }
    #expect(found.count == expected.count, "\(found)")
  }

  @Test func everyLessonInTheRepositoryMeetsTheBar() throws {
    let dir = LessonLintTests.root + "/lessons"
    let names = try #require(LessonFilesForTests.list(dir))
    #expect(names.count >= 17)
    for name in names {
      let text = try #require(LessonFilesForTests.read(dir + "/" + name))
      let lesson = try Lesson.parse(path: "lessons/" + name, text: text)
      let found = LessonLinter.courseBar(lesson).map(\.description)
      #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }
  }
}
