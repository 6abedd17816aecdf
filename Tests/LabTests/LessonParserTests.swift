import Kernel
import Testing

@testable import Lab

/// The lesson parser: a good lesson reads into steps and blocks, and each rule it enforces
/// reports path:line:col with a fix (lessons/README.md; docs/architecture.md, "Errors").
@Suite struct LessonParserTests {
  static let good = """
    ---
    id: demo
    title: A demo lesson
    format: 1
    requires: sim
    ---

    # A demo

    Intro prose.

    ## Make a box {#box}

    Before the lab.

    ```lab
    box new web   # a comment is fine
    ```

    ```shell
    sleep infinity &
    ```

    ```expect
    web exists
    web.ns.uts == "uts:0"
    ```

    After the lab.

    ## Your turn {#own}

    ```check
    web.ns.uts != @start(host.ns.uts)  ! unshare a UTS namespace
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

    """

  @Test func aGoodLessonParses() throws {
    let lesson = try Lesson.parse(path: "l.md", text: Self.good)
    #expect(lesson.id == "demo")
    #expect(lesson.title == "A demo lesson")
    #expect(lesson.requires == [.sim])
    #expect(lesson.intro == ["# A demo", "", "Intro prose."])
    #expect(lesson.steps.map(\.id) == ["box", "own"])
    let box = lesson.steps[0]
    #expect(box.title == "Make a box")
    #expect(box.line == 12)
    #expect(box.before == ["Before the lab."])
    #expect(box.after == ["After the lab."])
    #expect(box.lab?.commands == [LessonCommand(line: 17, text: "box new web   # a comment is fine")])
    #expect(box.shell?.lines == ["sleep infinity &"])
    #expect(box.expect?.assertions.map(\.text) == ["web exists", "web.ns.uts == \"uts:0\""])
    let own = lesson.steps[1]
    #expect(own.isExercise)
    #expect(own.hints.map(\.lines) == [["first hint"], ["second hint"]])
    #expect(own.solution?.commands.map(\.text) == ["unshare uts"])
    let check = try #require(own.check?.assertions.first)
    #expect(check.message == "unshare a UTS namespace")
    #expect(check.op == .notEquals)
    #expect(check.operand == .start(StatePath(keys: "host", "ns", "uts")))
  }

  /// Replaces `old` in the good lesson (which must contain it) and returns the parse error.
  func error(replacing old: String, with new: String) throws -> LessonParseError {
    #expect(Self.good.contains(old), "test setup: \(old)")
    let text = Self.good.replacingAll(old, with: new)
    do {
      _ = try Lesson.parse(path: "l.md", text: text)
    } catch {
      return error
    }
    Issue.record("parsed without an error: \(new)")
    return LessonParseError(path: "", line: 0, column: 0, message: "")
  }

  /// One row per rule: what to change, the expected line:col, and a piece of the message.
  static let rules: [(String, String, Int, Int, String)] = [
    ("---\nid: demo", "id: demo", 1, 1, "a lesson starts with a front matter"),
    ("format: 1\n", "format: 2\n", 4, 9, "unknown lesson format \"2\""),
    ("format: 1\n", "", 5, 1, "the front matter has no format:"),
    ("title: A demo lesson\n", "title: A demo lesson\ntitel: x\n", 4, 1, "unknown front matter key \"titel\""),
    ("id: demo\n", "id: demo\nid: again\n", 3, 1, "id is set twice (first at line 2)"),
    ("id: demo\n", "id: Demo_1\n", 2, 5, "bad lesson id \"Demo_1\""),
    ("requires: sim", "requires: sim, rooot", 5, 16, "unknown feature \"rooot\" in requires:"),
    ("## Make a box {#box}", "## Make a box", 12, 14, "a step heading must end with {#step-id}"),
    ("## Make a box {#box}", "## Make a box {#Box}", 12, 17, "bad step id \"Box\""),
    ("## Your turn {#own}", "## Your turn {#box}", 31, 16, "step id box is used twice (first at line 12)"),
    ("```lab\nbox new web", "```lba\nbox new web", 16, 4, "unknown block type \"lba\""),
    ("```lab\nbox new web", "```\nbox new web", 16, 4, "a fenced block needs a type"),
    ("Intro prose.", "```lab\nbox ls\n```", 10, 1, "a lab block before the first step"),
    ("```shell\nsleep infinity &\n```", "```lab\nbox ls\n```", 20, 1, "a second lab block in step box"),
    ("box new web   # a comment is fine", "box new 'web", 17, 9, "in this lab command: "),
    ("box new web   # a comment is fine", "next", 17, 1, "next cannot run inside a lab block"),
    ("```shell\nsleep infinity &\n```", "```shell\n\n```", 20, 1, "the shell block is empty"),
    ("web.ns.uts == \"uts:0\"", "web.ns..uts == \"uts:0\"", 26, 8, "bad state path \"web.ns..uts\""),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts = \"uts:0\"", 26, 12, "unknown operator \"=\""),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts ==", 26, 12, "== needs a value after it"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == \"uts:0", 26, 15, "a string is not closed"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == uts:0", 26, 15, "bad value \"uts:0\""),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == \"uts:0\" extra", 26, 23, "unexpected text after the value"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts matches \"uts:(\"", 26, 20, "bad regex"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts matches 3", 26, 20, "matches needs a quoted regex"),
    ("web exists", "web exists \"x\"", 25, 12, "exists takes no value"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == {cmd: 1}", 26, 15, "fields in {} go only after contains"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {}", 26, 21, "{} names no field"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {cmd 1}", 26, 26, "the field \"cmd\" needs a colon"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {cmd: sleep}", 26, 27, "bad value \"sleep\" for the field"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {cmd: 1", 26, 21, "the fields are not closed with }"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {cmd: 1, cmd: 2}", 26, 30, "the field \"cmd\" is named twice"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts contains {cmd: 1 ppid: 2}", 26, 29, "expected , or } after the value"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == @start(web..x)", 26, 26, "bad state path"),
    ("web.ns.uts == \"uts:0\"", "web.ns.uts == @prevv", 26, 15, "bad reference \"@prevv\""),
    ("  ! unshare a UTS namespace", "", 34, 34, "a check needs a message for the learner"),
    ("  ! unshare a UTS namespace", "  !  ", 34, 36, "the message after ! is empty"),
    ("```solution\nunshare uts\n```\n", "```solution\nunshare uts\n", 45, 1, "the solution block is never closed"),
    ("---\n\n# A demo", "\n# A demo", 7, 1, "expected key: value in the front matter"),
    ("```shell", "~~~shell", 20, 1, "~~~ fences are not read"),
    ("```shell", "  ```shell", 20, 1, "an indented fence"),
    ("## Your turn {#own}", "##", 31, 1, "an empty step heading"),
    ("## Your turn {#own}", "##  {#own}", 31, 4, "the step own has no title"),
  ]

  @Test(arguments: 0..<rules.count)
  func eachRuleReportsLineAndColumn(_ index: Int) throws {
    let (old, new, line, column, message) = Self.rules[index]
    let e = try error(replacing: old, with: new)
    #expect(e.path == "l.md")
    #expect((e.line, e.column) == (line, column), "\(e)")
    #expect(e.message.contains(message), "\(e)")
    #expect(e.fix != nil)
    #expect(e.description.hasPrefix("l.md:\(line):\(column): "))
  }

  @Test func controlCharactersAreRefusedWithTheirColumn() {
    #expect(throws: LessonParseError.self) { try Lesson.parse(path: "l.md", text: "---\nid: a\u{1B}b\n") }
    do {
      _ = try Lesson.parse(path: "l.md", text: "---\nid: a\u{1B}b\n")
    } catch {
      #expect((error.line, error.column) == (2, 6))
      #expect(error.message.contains("\\x1B"))
    }
  }

  @Test func anUnclosedFrontMatterPointsAtItsStart() {
    do {
      _ = try Lesson.parse(path: "l.md", text: "---\nid: a\n")
      Issue.record("parsed")
    } catch {
      #expect((error.line, error.column) == (1, 1))
      #expect(error.message == "the front matter is never closed")
    }
  }

  @Test func aLessonWithoutStepsIsRefused() {
    do {
      _ = try Lesson.parse(path: "l.md", text: "---\nid: a\ntitle: t\nformat: 1\n---\nprose\n")
      Issue.record("parsed")
    } catch {
      #expect(error.message == "the lesson has no steps")
      #expect(error.line == 6)
    }
  }

  @Test func crlfReadsAsLF() throws {
    let lesson = try Lesson.parse(path: "l.md", text: Self.good.replacingAll("\n", with: "\r\n"))
    #expect(lesson.steps.count == 2)
  }

  @Test func assertionValues() throws {
    func parse(_ s: String) throws -> LessonAssertion {
      try LessonAssertionParser(path: "p", line: 1, needsMessage: false).parse(s)
    }
    #expect(try parse("a.b == 42").operand == .literal(.int(42)))
    #expect(try parse("a.b == -1").operand == .literal(.int(-1)))
    #expect(try parse("a.b != true").operand == .literal(.bool(true)))
    #expect(try parse("a.b == \"x \\\"y\\\" \\u00e9\"").operand == .literal(.string("x \"y\" é")))
    #expect(try parse("a.b == @prev").operand == .previous(nil))
    #expect(try parse("a.b contains \"uts\"").op == .contains)
    #expect(try parse("a.b absent").operand == nil)
    // Fields as `show` prints a map; a key with other characters is quoted.
    #expect(
      try parse("web.pid.ps contains {cmd: \"sleep 700\", ppid: 1,\"a b\":true}").operand
        == .fields(StateMap([("cmd", .string("sleep 700")), ("ppid", .int(1)), ("a b", .bool(true))])))
    // A quoted key may hold a space, and the message marker is not read inside a string.
    let quoted = try parse("web.mounts[\"/my dir\"].fstype == \"a ! b\"  ! the message")
    #expect(quoted.path == StatePath([.key("web"), .key("mounts"), .key("/my dir"), .key("fstype")]))
    #expect(quoted.operand == .literal(.string("a ! b")))
    #expect(quoted.message == "the message")
  }
}
