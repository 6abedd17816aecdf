import Kernel
import Simulator
import Testing

@testable import Lab

/// `lint` catches each class of broken lesson, at the line of the block or assertion, and passes
/// a good one; every lesson in lessons/ lints clean and its solutions pass on the simulator.
@Suite struct LessonLintTests {
  static let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  func lint(_ lessons: [Lesson]) -> [LessonLinter.Report] {
    LessonLinter.lint(lessons) { try Session(kernel: SimulatedKernel()) }
  }

  func findings(_ text: String) throws -> [String] {
    let lesson = try Lesson.parse(path: "l.md", text: text)
    return lint([lesson])[0].findings.map(\.description)
  }

  static func lesson(id: String = "l", _ body: String) -> String {
    "---\nid: \(id)\ntitle: T\nformat: 1\n---\n" + body
  }

  @Test func aGoodLessonHasNoFindings() throws {
    let reports = lint([LessonRunnerTests.lesson])
    #expect(reports[0].findings == [])
    #expect(reports[0].checksProven == 1)
  }

  @Test(arguments: [
    // a lab block without a shell block (line 8 is the lab fence)
    (
      "## S {#s}\n\n```lab\nbox new web\n```\n",
      [
        "l.md:8:1: step s: the lab block has no shell block (the same commands on a real Linux machine)",
        "  fix: add a ```shell block after the lab block, with the shell commands that do the same on Linux",
      ]
    ),
    // a check block without a solution
    (
      "## S {#s}\n\n```check\nweb exists  ! make web\n```\n",
      [
        "l.md:8:1: step s: the check block has no solution block, so nothing proves it can pass",
        "  fix: add a ```solution block with the commands of one correct answer, for lint to run",
      ]
    ),
    // a solution without a check
    (
      "## S {#s}\n\n```solution\nbox new web\n```\n",
      [
        "l.md:8:1: step s: a solution block without a check block: nothing says what it solves",
        "  fix: add a ```check block with the state the solution must reach, or make the solution a ```lab block",
      ]
    ),
    // a shell block in a step without a lab block: the REPL never prints it
    (
      "## S {#s}\n\n```shell\ncurl x\n```\n",
      [
        "l.md:8:1: step s: a shell block without a lab block is never shown to the learner",
        "  fix: put the commands in the text as a block indented by four spaces, or add the lab block they go with",
      ]
    ),
    // a shell block above its lab block: it shows after the lab ran, not where it sits
    (
      "## S {#s}\n\n```shell\nx\n```\n\n```lab\nbox new web\n```\n",
      [
        "l.md:8:1: step s: the shell block comes before the lab block, but shows only after the lab has run",
        "  fix: move it after the lab block, or put the commands in the text as a block indented by four spaces",
      ]
    ),
    // an expect block without a lab block
    (
      "## S {#s}\n\n```expect\nhost exists\n```\n",
      [
        "l.md:8:1: step s: an expect block without a lab block: expect holds after the lab runs",
        "  fix: add the ```lab block whose result it describes, or turn the expect block into a ```check block",
      ]
    ),
    // hints with nothing to solve
    (
      "## S {#s}\n\n```hint\nthink\n```\n",
      [
        "l.md:8:1: step s: hints without a check block: there is nothing for the learner to solve",
        "  fix: add a ```check block (and a ```solution) to make the step an exercise, or remove the hints",
      ]
    ),
    // an expect that does not hold after its lab block
    (
      "## S {#s}\n\n```lab\nbox new web\n```\n\n```shell\nx\n```\n\n```expect\nweb.ns.uts == \"uts:1\"\n```\n",
      [
        "l.md:17:1: step s: expect does not hold after the lab block: web.ns.uts is \"uts:0\"",
        "  fix: make the assertion say what the lab block really leaves (show PATH in the REPL prints it), or change the lab block",
      ]
    ),
    // an expect on a path with a typo: the nearest path is named
    (
      "## S {#s}\n\n```lab\nbox new web\n```\n\n```shell\nx\n```\n\n```expect\nweb.ns.utz == \"uts:0\"\n```\n",
      [
        "l.md:17:1: step s: expect does not hold after the lab block: web.ns.utz does not exist (did you mean web.ns.uts?)",
        "  fix: make the assertion say what the lab block really leaves (show PATH in the REPL prints it), or change the lab block",
      ]
    ),
    // a misspelt lab command: the REPL's suggestion is named
    (
      "## S {#s}\n\n```lab\nbox nwe web\n```\n\n```shell\nx\n```\n",
      [
        "l.md:9:1: step s: this lab command fails: error: unknown command \"box nwe\" (did you mean box new?)",
        "  fix: run the step's commands in boxwalk repl --backend sim to see why; change the command, or an earlier step so that the lab is ready for it",
      ]
    ),
    // a check that already passes before its solution
    (
      "## S {#s}\n\n```check\nhost exists  ! x\n```\n\n```solution\nbox new web\n```\n",
      [
        "l.md:8:1: step s: the check block already passes before its solution, so it proves nothing",
        "  fix: make at least one assertion depend on the learner's work: a value the solution changes, compared with @start or @prev",
      ]
    ),
    // a check that still fails after its solution
    (
      "## S {#s}\n\n```check\nweb.hostname == \"x\"  ! name it\n```\n\n```solution\nbox new web\n```\n",
      [
        "l.md:9:1: step s: check still fails after the solution: web.hostname is \"sim-host\"",
        "  fix: make the assertion accept what the solution leaves (any correct route must pass), or fix the solution",
      ]
    ),
    // a lab command that fails
    (
      "## S {#s}\n\n```lab\nhostname x\n```\n\n```shell\nx\n```\n",
      [
        "l.md:9:1: step s: this lab command fails: error: hostname acts on the current box, and there is none",
        "  fix: run the step's commands in boxwalk repl --backend sim to see why; change the command, or an earlier step so that the lab is ready for it",
      ]
    ),
    // a solution command that fails
    (
      "## S {#s}\n\n```check\nweb exists  ! x\n```\n\n```solution\nuse web\n```\n",
      [
        "l.md:13:1: step s: this solution command fails: error: no box named \"web\"",
        "  fix: run the step's commands in boxwalk repl --backend sim to see why; change the command, or an earlier step so that the lab is ready for it",
      ]
    ),
  ])
  func eachClassOfBrokenLesson(_ body: String, _ expected: [String]) throws {
    let found = try findings(Self.lesson(body))
    #expect(found.contains(expected[0]), "\(found)")
    // Every finding points at FILE:LINE:COL and says, on the next line, how to fix it.
    let printed = lint([try Lesson.parse(path: "l.md", text: Self.lesson(body))])[0].findings.flatMap(\.lines)
    let at = try #require(printed.firstIndex(of: expected[0]), "\(printed)")
    #expect(printed.indices.contains(at + 1) && printed[at + 1] == expected[1], "\(printed)")
  }

  @Test func aSessionThatCannotStartIsAFindingWithAFix() throws {
    struct NoKernel: Error {}
    let lesson = try Lesson.parse(path: "l.md", text: Self.lesson("## S {#s}\n"))
    let walk = LessonWalkthrough.run(lesson) { throw NoKernel() }
    #expect(
      walk.findings.flatMap(\.lines) == [
        "l.md:1:1: could not start a session to run the lesson: NoKernel()",
        "  fix: boxwalk doctor says what this backend lacks here; --backend sim proves the lesson on the simulator",
      ])
  }

  @Test func lessonIDsAreUnique() throws {
    let a = try Lesson.parse(path: "a.md", text: Self.lesson(id: "same", "## S {#s}\n"))
    let b = try Lesson.parse(path: "b.md", text: Self.lesson(id: "same", "## S {#s}\n"))
    let reports = lint([a, b])
    #expect(reports[0].findings == [])
    #expect(
      reports[1].findings.flatMap(\.lines) == [
        "b.md:2:1: lesson id same is also the id of a.md; ids must be unique",
        "  fix: give one of the two lessons another id: in its front matter, id: followed by a new name",
      ])
  }

  @Test func everyLessonInTheRepositoryLintsClean() throws {
    let dir = Self.root + "/lessons"
    let names = try #require(LessonFilesForTests.list(dir))
    #expect(names.contains("01-uts.md"))
    var lessons: [Lesson] = []
    for name in names {
      let text = try #require(LessonFilesForTests.read(dir + "/" + name))
      lessons.append(try Lesson.parse(path: "lessons/" + name, text: text))
    }
    for report in lint(lessons) {
      #expect(report.findings.isEmpty, "\(report.findings.map(\.description).joined(separator: "\n"))")
      let exercises = report.lesson.steps.filter(\.isExercise).count
      #expect(report.checksProven == exercises, "\(report.lesson.path)")
      let walk = LessonWalkthrough.run(report.lesson) { try Session(kernel: SimulatedKernel()) }
      #expect(walk.completed)
    }
  }
}
