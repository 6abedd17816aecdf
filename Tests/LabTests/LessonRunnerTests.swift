import Kernel
import Simulator
import Testing

@testable import Lab

/// The lesson engine on the simulator: next, back, hint, check, solution, reset, the prompt,
/// progress saved and resumed, and the errors for commands used outside a lesson.
@Suite struct LessonRunnerTests {
  static let text = """
    ---
    id: demo
    title: A demo lesson
    format: 1
    ---
    Intro.

    ## Make a box {#box}

    Before.

    ```lab
    box new web
    ```

    ```shell
    sleep infinity &
    ```

    ```expect
    web.ns.uts == "uts:0"
    ```

    After.

    ## Unshare {#own}

    Give web its own UTS namespace.

    ```check
    web.ns.uts != @start(host.ns.uts)  ! web still shares the host's UTS namespace
    ```

    ```hint
    first hint
    ```

    ```hint
    second hint
    ```

    ```solution
    unshare uts
    ```

    ## Name it {#name}

    ```lab
    hostname lab-box
    ```

    ```shell
    hostname lab-box
    ```

    ```expect
    web.hostname == "lab-box"
    web.ns.uts == @prev
    ```

    """

  static let lesson: Lesson = {
    do {
      return try Lesson.parse(path: "lessons/demo.md", text: text)
    } catch {
      fatalError("test lesson: \(error)")
    }
  }()

  final class Counter {
    var sessions = 0
  }

  func runner(
    store: LessonProgressStore? = MemoryLessonProgressStore(welcomed: true), counter: Counter = Counter(),
    files: LessonFileWriter? = nil
  ) throws -> LessonRunner {
    LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [Self.lesson],
      makeSession: {
        counter.sessions += 1
        return try Session(kernel: SimulatedKernel())
      }, progress: store, files: files)
  }

  /// The position in saved progress, without the step records and backends (ProgressRecordTests
  /// has those).
  func place(_ p: LessonProgress?) -> LessonProgress? {
    p.map {
      var q = $0
      q.records = []
      q.backends = []
      return q
    }
  }

  func value(_ r: LessonRunner, _ path: String) -> StateValue? {
    (try? StatePath.parse(path)).flatMap { r.session.tree.value(at: $0) }
  }

  @Test func aWholeLessonWithTheLearnersOwnWork() throws {
    let r = try runner()
    #expect(r.prompt == "boxwalk> ")
    let start = r.execute("lesson demo")
    #expect(start.first == "lesson demo: A demo lesson (3 steps)")
    #expect(start.contains("Intro."))
    #expect(start.contains("step 1 of 3: Make a box"))
    #expect(start.contains("next runs:"))
    #expect(start.contains("  box new web"))
    #expect(r.prompt == "boxwalk[demo/box]> ")

    let next = r.execute("next")
    #expect(next.first == "boxwalk> box new web")
    #expect(next.contains("created box web: one process, sharing every namespace with the host"))
    #expect(next.contains("on a real Linux machine:"))
    #expect(next.contains("  sleep infinity &"))
    #expect(next.contains("After."))
    #expect(next.contains("step 2 of 3: Unshare"))
    #expect(next.contains(LessonText.yourTurn[0]))
    #expect(r.prompt == "boxwalk[web demo/own]> ")

    #expect(
      r.execute("check") == [
        "check: 0 of 1 pass",
        "  not yet: web still shares the host's UTS namespace",
        "    web.ns.uts != @start(host.ns.uts): web.ns.uts is \"uts:0\" (@start was \"uts:0\")",
      ])
    // next does not move on while the check fails, and that is not a failed command.
    #expect(r.execute("next").last?.hasPrefix("next moves on once every check passes") == true)
    #expect(r.prompt == "boxwalk[web demo/own]> ")
    #expect(r.failures == 0)

    #expect(r.execute("hint") == ["hint 1 of 2:", "  first hint"])
    #expect(r.execute("hint") == ["hint 2 of 2:", "  second hint"])
    #expect(r.execute("hint").first?.hasPrefix("that was the last hint") == true)

    _ = r.execute("unshare uts")
    #expect(r.execute("check") == ["check: it passes", "next moves on"])
    let third = r.execute("next")
    #expect(third.first == "check: it passes")
    #expect(third.contains("step 3 of 3: Name it"))
    let last = r.execute("next")
    #expect(last.contains("boxwalk[web]> hostname lab-box"))
    #expect(last.contains { $0.hasPrefix("lesson demo complete") })
    #expect(r.prompt == "boxwalk[web demo/done]> ")
    #expect(value(r, "web.hostname") == .string("lab-box"))
    #expect(r.failures == 0)
  }

  @Test func backRestoresTheStateBeforeTheStep() throws {
    let counter = Counter()
    let r = try runner(counter: counter)
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("box new extra")  // the learner explores
    _ = r.execute("use web")
    _ = r.execute("unshare uts")
    _ = r.execute("next")
    #expect(r.position?.step == "name")
    // Step 3's lab has not run: back goes to the state before step 2 (web only, in uts:0).
    let back = r.execute("back")
    #expect(back.first == "back to step 2: the lab was rebuilt from the lesson start")
    #expect(r.position?.step == "own")
    #expect(value(r, "web.ns.uts") == .string("uts:0"))
    #expect(value(r, "extra") == nil, "what the learner did beyond the lesson is undone")
    #expect(r.prompt == "boxwalk[web demo/own]> ")
    // Again: before step 1, no box at all.
    _ = r.execute("back")
    #expect(r.position?.step == "box")
    #expect(value(r, "web") == nil)
    #expect(r.execute("back") == ["already at the start of lesson demo: nothing to go back to"])
    #expect(counter.sessions == 3, "lesson, back, back: each a fresh session")
  }

  @Test func backAfterTheLabRanUndoesTheLab() throws {
    let r = try runner()
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("solution")
    _ = r.execute("next")
    _ = r.execute("next")  // step 3's lab; the lesson is complete
    #expect(r.position?.step == nil)
    _ = r.execute("back")
    #expect(r.position?.step == "name")
    // The rebuild replayed step 2's solution in place of the learner's work.
    #expect(value(r, "web.ns.uts") == .string("uts:1"))
    #expect(value(r, "web.hostname") == .string("sim-host"))
  }

  @Test func solutionShowsRunsAndChecks() throws {
    let r = try runner()
    _ = r.execute("lesson demo")
    #expect(r.execute("solution") == ["this step has no solution to show: next runs its lab block"])
    _ = r.execute("next")
    let out = r.execute("solution")
    #expect(Array(out.prefix(3)) == ["solution:", "  unshare uts", "boxwalk[web]> unshare uts"])
    #expect(out.suffix(2) == ["check: it passes", "next moves on"])
    // A second run of the solution on a changed lab still works here (unshare again is fine).
    #expect(r.failures == 0)
  }

  @Test func resetAsksFirstAndUndoesTheStep() throws {
    let r = try runner()
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("unshare uts")
    let ask = r.execute("reset")
    #expect(ask.first?.hasPrefix("reset step undoes what you did in step 2 (own)") == true)
    #expect(ask.last?.hasPrefix("type yes to go ahead") == true)
    #expect(r.execute("no") == ["reset cancelled: nothing was changed"])
    #expect(value(r, "web.ns.uts") == .string("uts:1"))

    _ = r.execute("reset step")
    let done = r.execute("yes")
    #expect(done.first == "step 2 reset: the lab was rebuilt from the lesson start")
    #expect(value(r, "web.ns.uts") == .string("uts:0"))
    #expect(r.position?.step == "own")

    // Another command instead of yes cancels the reset and runs as usual.
    _ = r.execute("reset lesson")
    let other = r.execute("show web.ns.uts")
    #expect(other == ["reset cancelled: nothing was changed", "web.ns.uts = \"uts:0\""])

    #expect(r.execute("reset lesson --yes").first == "lesson demo reset: a fresh lab, back at step 1")
    #expect(r.position?.step == "box")
    #expect(value(r, "web") == nil)
    #expect(r.failures == 0)
  }

  @Test func progressIsSavedAfterEveryStepAndResumed() throws {
    let store = MemoryLessonProgressStore(welcomed: false)
    let first = try runner(store: store)
    let welcome = first.execute("lesson demo")
    #expect(welcome.first == LessonText.welcome[0])
    #expect(store.welcomed)
    #expect(place(store.load(lesson: "demo")) == LessonProgress(lesson: "demo", step: "box"))
    _ = first.execute("next")
    _ = first.execute("hint")
    #expect(place(store.load(lesson: "demo")) == LessonProgress(lesson: "demo", step: "own", hintsShown: 1))
    first.close()

    // A restart: a new runner, the same store. The lab is rebuilt up to step 2.
    let second = try runner(store: store)
    #expect(second.execute("lessons").contains { $0.contains("demo") && $0.hasSuffix("at step 2 (own)") })
    let resumed = second.execute("lesson demo")
    #expect(resumed.first == "lesson demo: A demo lesson (3 steps)", "no second welcome")
    #expect(resumed.contains("resuming at step 2: the lab was rebuilt by replaying the steps before it"))
    #expect(second.prompt == "boxwalk[web demo/own]> ")
    #expect(value(second, "web.ns.uts") == .string("uts:0"))
    #expect(second.execute("hint") == ["hint 2 of 2:", "  second hint"], "hints shown are remembered")

    _ = second.execute("solution")
    _ = second.execute("next")
    _ = second.execute("next")
    #expect(place(store.load(lesson: "demo")) == LessonProgress(lesson: "demo", step: nil, finished: true))
    // A finished lesson starts again from step 1, and says it was done.
    let third = try runner(store: store)
    #expect(third.execute("lessons").contains { $0.hasSuffix("done") })
    _ = third.execute("lesson demo")
    #expect(third.position?.step == "box")
    #expect(third.execute("lessons").contains { $0.hasSuffix("done; again at step 1 (box)") })
  }

  @Test func resumingInsideAStepWhoseLabRan() throws {
    let store = MemoryLessonProgressStore(welcomed: true)
    try store.save(LessonProgress(lesson: "demo", step: "name", labDone: true))
    let r = try runner(store: store)
    let out = r.execute("lesson demo")
    #expect(out.contains("(its lab block has run)"))
    #expect(value(r, "web.hostname") == .string("lab-box"))
    #expect(value(r, "web.ns.uts") == .string("uts:1"))
    // A progress file from an older version of the lesson: start over, say so.
    try store.save(LessonProgress(lesson: "demo", step: "gone"))
    let again = try runner(store: store)
    #expect(again.execute("lesson demo").contains { $0.contains("the lesson changed since you left it") })
    #expect(again.position?.step == "box")
  }

  @Test func aFailingLabCommandStopsTheStep() throws {
    let r = try runner()
    _ = r.execute("lesson demo")
    _ = r.execute("box new web")  // the learner got ahead of the lesson
    let out = r.execute("next")
    #expect(out.contains { $0.hasPrefix("error: a box named web already exists") })
    #expect(out.contains("error: the lab command \"box new web\" failed, so the step stopped"))
    #expect(out.contains { $0.contains("lessons/demo.md:13") })
    #expect(r.position?.step == "box")
    #expect(r.failures == 1)
    _ = r.execute("reset step --yes")
    #expect(r.execute("next").contains("step 2 of 3: Unshare"))
  }

  @Test func anExpectThatDoesNotHoldIsReported() throws {
    let r = try runner()
    _ = r.execute("lesson demo")
    _ = r.execute("next")
    _ = r.execute("solution")
    _ = r.execute("next")
    _ = r.execute("unshare uts")  // web moves to uts:2 before step 3's lab: `web.ns.uts == @prev` fails
    let out = r.execute("next")
    #expect(out.contains("error: this step's expect block does not hold"))
    #expect(
      out.contains { $0.contains("lessons/demo.md:") && $0.contains("web.ns.uts == @prev: web.ns.uts is \"uts:2\"") })
    #expect(r.failures == 1)
  }

  @Test func lessonCommandsOutsideALesson() throws {
    let r = try runner()
    for command in ["next", "back", "hint", "check", "solution", "reset"] {
      let out = r.execute(command)
      #expect(out.first == "error: \(command) works inside a lesson, and none is running", "\(command)")
    }
    #expect(r.failures == 6)
    let unknown = r.execute("lesson dmeo")
    #expect(unknown.first == "error: no lesson \"dmeo\"")
    #expect(unknown.contains { $0.contains("did you mean") && $0.hasSuffix("demo") })
    // The file's name, as a learner reading lessons/ types it, points at the id.
    let byFile = r.execute("lesson demo.md")
    #expect(byFile.contains { $0.hasSuffix("did you mean: demo (the id of lessons/demo.md)") }, "\(byFile)")
    #expect(r.execute("next now").first == "error: next takes no argument")
    #expect(r.execute("reset sideways").first == "error: reset takes step or lesson, and --yes")
  }

  @Test func aLessonThatNeedsWhatTheBackendLacksIsRefused() throws {
    let text = Self.text.replacingAll("format: 1\n", with: "format: 1\nrequires: root cgroup2\n")
    let lesson = try Lesson.parse(path: "lessons/demo.md", text: text)
    let r = LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: [lesson],
      makeSession: { try Session(kernel: SimulatedKernel()) }, features: ["sim", "cgroup2"])
    let out = r.execute("lesson demo")
    #expect(out.first == "error: lesson demo needs root, which this backend lacks")
    #expect(r.position == nil)
    #expect(r.failures == 1)
  }

  @Test func otherLinesGoToTheSession() throws {
    let r = try runner()
    #expect(r.execute("box new web").first == "created box web: one process, sharing every namespace with the host")
    #expect(r.prompt == "boxwalk[web]> ")
    #expect(r.execute("nosuch").first == "error: unknown command \"nosuch\"")
    #expect(r.failures == 1)
    _ = r.execute("lesson demo")
    #expect(value(r, "web") == nil, "a lesson starts in a fresh lab")
    _ = r.execute("quit")
    #expect(r.quitRequested)
  }

  @Test func helpListsTheLessonCommands() throws {
    let r = try runner()
    let help = r.execute("help")
    #expect(help.contains("lessons"))
    #expect(help.contains { $0.hasPrefix("  reset [step|lesson] [--yes]") })
    #expect(help.contains { $0.hasPrefix("  record FILE | record stop") })
    #expect(!help.contains { $0.hasPrefix("coming in later versions") && $0.contains("lessons") })
    #expect(help.filter { $0.hasPrefix("  lessons ") }.count == 1)
    let reset = r.execute("help reset")
    #expect(reset.first == "usage: reset [step|lesson] [--yes]")
    #expect(reset.contains { $0.contains("answer yes") })
    #expect(r.completions(before: "", word: "").contains("next"))
    #expect(r.completions(before: "lesson ", word: "") == ["demo"])
  }

  @Test func jsonModePrintsOneObjectPerCommand() throws {
    let r = try runner()
    r.jsonMode = true
    _ = r.execute("lesson demo")
    let out = r.execute("next")
    #expect(out.count == 1)
    #expect(out[0].hasPrefix("{\"prompt\":\"boxwalk[web demo/own]> \",\"input\":\"next\",\"ok\":true"))
    #expect(out[0].contains("boxwalk> box new web"))
    let show = r.execute("show web.ns.uts")
    #expect(show.count == 1 && show[0].contains("\"value\":\"uts:0\""))
  }
}
