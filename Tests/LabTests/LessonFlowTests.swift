import Kernel
import Simulator
import Testing

@testable import Lab

/// The lesson flow around an exercise: a refusal does not give the answer away before the learner
/// asks for a hint, the end of a lesson names the next one, `help COMMAND` explains every command
/// in full, and tab completion knows the lab's names.
@Suite struct LessonFlowTests {
  static func lesson(_ id: String, _ title: String) -> Lesson {
    let text = """
      ---
      id: \(id)
      title: \(title)
      format: 1
      ---
      Intro.

      ## Make a box {#box}

      ```lab
      box new web
      ```

      ## Name it {#name}

      Give web a hostname of its own without renaming the host.

      ```check
      web.hostname == "lab-box"  ! web's hostname is not lab-box yet
      ```

      ```hint
      web shares the host's UTS namespace: it needs one of its own first.
      ```

      ```solution
      unshare uts
      hostname lab-box
      ```

      """
    do {
      return try Lesson.parse(path: "lessons/\(id).md", text: text)
    } catch {
      fatalError("test lesson: \(error)")
    }
  }

  func runner(_ lessons: [Lesson]) throws -> LessonRunner {
    LessonRunner(
      session: try Session(kernel: SimulatedKernel()), lessons: lessons,
      makeSession: { try Session(kernel: SimulatedKernel()) },
      progress: MemoryLessonProgressStore(welcomed: true))
  }

  let fixLine = "  fix:     unshare uts"

  @Test func aRefusalInAnExerciseNamesTheRuleAndOffersAHintNotTheAnswer() throws {
    // Outside a lesson the refusal says what to type.
    let bare = try Session(kernel: SimulatedKernel())
    _ = bare.execute("box new web")
    #expect(bare.execute("hostname lab-box").contains(fixLine))

    let r = try runner([Self.lesson("one", "One")])
    _ = r.execute("lesson one")
    _ = r.execute("next")
    #expect(r.position?.step == "name")
    let refused = r.execute("hostname lab-box")
    #expect(refused.first?.hasPrefix("error: refused: web shares the host's UTS namespace") == true, "\(refused)")
    #expect(refused.contains { $0.hasPrefix("  rule:") }, "\(refused)")
    #expect(!refused.contains { $0.contains("unshare uts") }, "\(refused)")
    #expect(refused.contains { $0.hasPrefix("  hint:") && $0.contains("hint gives a hint") }, "\(refused)")
    #expect(r.failures == 1)

    // Once the learner asked for a hint, the fix is shown again.
    _ = r.execute("hint")
    #expect(r.execute("hostname lab-box").contains(fixLine))
  }

  @Test func aRefusalOutsideAnExerciseKeepsItsFix() throws {
    let r = try runner([Self.lesson("one", "One")])
    _ = r.execute("lesson one")
    // Step 1 is no exercise: its lab block has not run, and there is nothing to solve.
    _ = r.execute("box new web")
    #expect(r.execute("hostname lab-box").contains(fixLine))
  }

  @Test func theEndOfALessonNamesTheNextOne() throws {
    let r = try runner([Self.lesson("one", "One"), Self.lesson("two", "Two: the sequel")])
    _ = r.execute("lesson one")
    _ = r.execute("next")
    _ = r.execute("solution")
    let done = r.execute("next")
    #expect(done.contains { $0.hasPrefix("lesson one complete") }, "\(done)")
    #expect(done.contains("next: lesson two (Two: the sequel) starts the next lesson."), "\(done)")
    #expect(r.execute("next").contains("next: lesson two (Two: the sequel) starts the next lesson."))

    _ = r.execute("lesson two")
    _ = r.execute("next")
    _ = r.execute("solution")
    let last = r.execute("next")
    #expect(last.contains("that was the last lesson of the course: lessons shows what you have done."), "\(last)")
  }

  @Test func everyCommandHasArgumentsAndAnExampleInItsHelp() throws {
    let s = try Session(kernel: SimulatedKernel())
    for info in CommandTable.all {
      let detail = try #require(info.detail, "\(info.name) has no arguments and example in CommandTable.details")
      // The example is a line of this very command.
      let example = try WordSplitter.split(detail.example)
      let name = info.name.split(separator: " ").map(String.init)
      #expect(Array(example.prefix(name.count)) == name, "\(info.name): example \(detail.example)")
      // Every argument explained is one of the usage line's, and a usage with arguments has them.
      for (argument, _) in detail.arguments {
        let word = argument.split(separator: " ")[0].split(separator: "|")[0].split(separator: "[")[0]
        #expect(info.usage.contains(word), "\(info.name): \(argument) is not in \(info.usage)")
      }
      #expect(detail.arguments.isEmpty == (info.usage == info.name), "\(info.name): \(info.usage)")
    }
    #expect(Set(CommandTable.details.keys) == Set(CommandTable.all.map(\.name)), "an entry for a command that is gone")

    let help = s.execute("help map")
    #expect(
      help == [
        "usage: map uid|gid INSIDE OUTSIDE COUNT", "  write the user namespace's id map", "arguments:",
        "  uid|gid  which map: uid_map or gid_map", "  INSIDE   the first id inside the user namespace",
        "  OUTSIDE  the id it stands for outside", "  COUNT    how many ids in a row",
        "example: map uid 0 100000 65536",
      ], "\(help)")
    #expect(s.execute("help ns").suffix(2) == ["arguments: none", "example: ns"])
    // The lesson commands' help comes from the same table.
    let r = try runner([Self.lesson("one", "One")])
    #expect(r.execute("help hint").contains("example: hint"))
    #expect(r.execute("help reset").contains("example: reset step"))
  }

  @Test func completionKnowsCgroupKeysImagesLayersBoxesAndStatePaths() throws {
    let s = try Session(kernel: SimulatedKernel())
    for line in ["box new web", "box new db", "unshare mnt", "overlay busybox", "write /x y", "commit site"] {
      _ = s.execute(line)
      #expect(s.failures == 0, "\(line)")
    }
    #expect(s.completions(before: "cgroup ", word: "") == ["new", "set", "show"])
    #expect(s.completions(before: "cgroup set ", word: "") == ["memory.max", "pids.max", "cpu.max"])
    #expect(s.completions(before: "image rm ", word: "").contains("site"))
    #expect(s.completions(before: "image rm ", word: "").contains("busybox"))
    #expect(s.completions(before: "layer rm ", word: "").contains("site"))
    #expect(s.completions(before: "rootfs ", word: "").contains("busybox"))
    #expect(s.completions(before: "overlay ", word: "site,").contains("site,busybox"))
    #expect(s.completions(before: "box rm ", word: "") == ["web", "db"])
    #expect(s.completions(before: "join uts ", word: "") == ["web", "db"])
    #expect(s.completions(before: "ping 10.0.0.1 --from ", word: "") == ["host", "outside", "web", "db"])
    #expect(s.completions(before: "watch ", word: "").contains("db.ns.mnt"))
    #expect(s.completions(before: "show ", word: "").contains("host.images.site"))
  }
}
