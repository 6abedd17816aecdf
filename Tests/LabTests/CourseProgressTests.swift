import Kernel
import Testing

@testable import Lab

/// `lessons` and `lessons --json`: the course as a whole, done out of total, a percentage, and
/// which lesson comes next, from the saved progress of each lesson.
@Suite struct CourseProgressTests {
  static func lesson(_ id: String, steps: [String]) -> Lesson {
    var text = "---\nid: \(id)\ntitle: Lesson \(id)\nformat: 1\n---\n"
    for step in steps {
      text += "\n## Step \(step) {#\(step)}\n\n```lab\nbox new \(step)\n```\n\n```shell\nsleep infinity &\n```\n"
      text += "\n```expect\n\(step) exists\n```\n"
    }
    do {
      return try Lesson.parse(path: "lessons/\(id).md", text: text)
    } catch {
      fatalError("test lesson: \(error)")
    }
  }

  static let lessons = [
    lesson("one", steps: ["a", "b"]), lesson("two", steps: ["c", "d", "e"]), lesson("three", steps: ["f"]),
  ]

  @Test func nothingStartedPointsAtTheFirstLesson() {
    let course = CourseProgress(Self.lessons) { _ in nil }
    #expect(course.done == 0 && course.total == 3 && course.percent == 0)
    #expect(course.next?.id == "one")
    #expect(
      course.summary == [
        "progress: 0/3 lessons done (0%)", "steps: 0/6 passed (0%)", "next: lesson one (Lesson one)",
      ])
  }

  @Test func theNextLessonIsTheFirstNotDoneAndAHalfWalkedOneSaysWhereToResume() {
    let saved = [
      "one": LessonProgress(lesson: "one", step: nil, finished: true),
      "two": LessonProgress(lesson: "two", step: "d"),
    ]
    let course = CourseProgress(Self.lessons) { saved[$0] }
    #expect(course.done == 1 && course.percent == 33)
    #expect(course.next?.id == "two")
    #expect(course.entries.map(\.state) == [.done, .inProgress, .notStarted])
    #expect(course.summary[2] == "next: lesson two (Lesson two), resuming at step 2 (d)")
    #expect(course.summary[1] == "steps: 3/6 passed (50%)", "one's 2 and two's 1, before its current step")
  }

  @Test func aDoneLessonWalkedAgainStillCountsAsDoneAndALaterGapIsNext() {
    let saved = [
      "one": LessonProgress(lesson: "one", step: "b", finished: true),
      "three": LessonProgress(lesson: "three", step: nil, finished: true),
    ]
    let course = CourseProgress(Self.lessons) { saved[$0] }
    #expect(course.done == 2 && course.percent == 66, "rounded down: 100 only when all are done")
    #expect(course.next?.id == "two")
    #expect(course.entries[0].stepNumber == 2)
  }

  @Test func everyLessonDoneIsOneHundredPercentAndNothingNext() {
    let course = CourseProgress(Self.lessons) { LessonProgress(lesson: $0, step: nil, finished: true) }
    #expect(course.percent == 100 && course.next == nil)
    #expect(course.summary[2].hasPrefix("next: nothing left"))
    #expect(
      course.json(problems: []).hasPrefix(
        "{\"done\":3,\"total\":3,\"percent\":100,\"steps_done\":6,\"steps_total\":6,\"next\":null,"))
  }

  @Test func theListingEndsWithTheCourseSummary() {
    let lines = LessonText.catalog(Self.lessons, progress: { _ in nil }, problems: [])
    #expect(lines.contains("progress: 0/3 lessons done (0%)"))
    #expect(lines.contains("next: lesson one (Lesson one)"))
  }

  @Test func jsonHasEveryLessonInOrderWithItsStateAndEveryStepsRecord() {
    let records = [
      LessonStepRecord(step: "c", started: 10, passed: 20, hints: 1, solutions: 0, checksFailed: 2),
      LessonStepRecord(step: "d", started: 30, passed: 40, hints: 0, solutions: 1, checksFailed: 0),
      LessonStepRecord(step: "e", started: 50),
    ]
    let saved = ["two": LessonProgress(lesson: "two", step: "e", records: records)]
    let json = CourseProgress(Self.lessons) { saved[$0] }.json(problems: ["lessons/x.md:1:1: bad \"front\""])
    let never = { (id: String) in
      "{\"id\":\"\(id)\",\"title\":\"Step \(id)\",\"started\":null,\"passed\":null,\"hints\":0,\"solutions\":0,\"checks_failed\":0}"
    }
    #expect(
      json == """
        {"done":0,"total":3,"percent":0,"steps_done":2,"steps_total":6,"next":"one","lessons":[\
        {"id":"one","title":"Lesson one","steps":2,"state":"not-started","step":null,"step_number":null,\
        "steps_done":0,"percent":0,"hints":0,"solutions":0,"checks_failed":0,"step_records":[\(never("a")),\(never("b"))]},\
        {"id":"two","title":"Lesson two","steps":3,"state":"in-progress","step":"e","step_number":3,\
        "steps_done":2,"percent":66,"hints":1,"solutions":1,"checks_failed":2,"step_records":[\
        {"id":"c","title":"Step c","started":10,"passed":20,"hints":1,"solutions":0,"checks_failed":2},\
        {"id":"d","title":"Step d","started":30,"passed":40,"hints":0,"solutions":1,"checks_failed":0},\
        {"id":"e","title":"Step e","started":50,"passed":null,"hints":0,"solutions":0,"checks_failed":0}]},\
        {"id":"three","title":"Lesson three","steps":1,"state":"not-started","step":null,"step_number":null,\
        "steps_done":0,"percent":0,"hints":0,"solutions":0,"checks_failed":0,"step_records":[\(never("f"))]}\
        ],"problems":["lessons/x.md:1:1: bad \\"front\\""]}
        """)
  }
}
