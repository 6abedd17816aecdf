import Kernel
import Testing

@testable import Lab

@Suite struct TranscriptParserTests {
  /// A transcript with every kind of line (docs/transcripts.md), line for line.
  static let specExample = """
    # UTS namespace: a hostname of your own
    #require real
      boxwalk> box new web
      created box web ...
      boxwalk[web]> hostname
      {{host:ORIG}}
    #pause the box still has the host's name
      boxwalk[web]> unshare uts
      ...

    """

  @Test func specExampleParses() throws {
    let file = try parsed(Self.specExample)
    #expect(file.requirements == [TranscriptRequirement(feature: .real, line: 2)])
    #expect(file.backends == nil)
    #expect(file.endsWithNewline)
    #expect(file.sourceLines.count == 9)
    guard file.items.count == 5 else {
      Issue.record("items: \(file.items)")
      return
    }
    #expect(file.items[0] == .narrative(line: 1, text: "# UTS namespace: a hostname of your own"))
    #expect(file.items[3] == .pause(line: 7, caption: "the box still has the host's name"))
    let steps = file.allSteps
    #expect(steps.map(\.line) == [3, 5, 8])
    #expect(steps.map(\.prompt) == ["boxwalk> ", "boxwalk[web]> ", "boxwalk[web]> "])
    #expect(steps.map(\.command) == ["box new web", "hostname", "unshare uts"])
    #expect(steps[1].input == "boxwalk[web]> hostname")
    #expect(
      steps[0].expected == [
        TranscriptExpectedLine(
          line: 4, text: "created box web ...", kind: .pattern([.literal("created box web ...")], optional: false))
      ])
    #expect(steps[1].expected.first?.kind == .pattern([.token(.value(.host, name: "ORIG"))], optional: false))
    #expect(steps[2].expected.first?.kind == .anyLines)
    #expect(steps[2].lastLine == 9)
  }

  @Test func hashSpaceIsNarrativeAndHashKeywordIsDirective() throws {
    let file = try parsed("# pause here is prose\n#TODO prose too\n#!/bin/sh prose\n#pause\n")
    #expect(
      file.items == [
        .narrative(line: 1, text: "# pause here is prose"),
        .narrative(line: 2, text: "#TODO prose too"),
        .narrative(line: 3, text: "#!/bin/sh prose"),
        .pause(line: 4, caption: ""),
      ])
  }

  @Test func promptsWithAnyBoxName() throws {
    let file = try parsed("  boxwalk[lesson/step]> next\n  boxwalk>\n  boxwalk>   ls  \n")
    #expect(file.allSteps.map(\.prompt) == ["boxwalk[lesson/step]> ", "boxwalk> ", "boxwalk> "])
    #expect(file.allSteps.map(\.command) == ["next", "", "ls"])
  }

  @Test func backendsListAcceptsCommasAndSpaces() throws {
    #expect(try parsed("#backends real, rootless\n").backends == [.real, .rootless])
    #expect(try parsed("#backends sim real\n").backends == [.sim, .real])
    #expect(try parsed("#backends sim,real,sim\n").backends == [.sim, .real])
  }

  @Test func picturesNamesTheStyleDrawDrawsIn() throws {
    #expect(try parsed("#pictures ascii 100\n").pictures == PictureStyle(charset: .ascii, width: 100))
    #expect(try parsed("#pictures unicode 60\n").pictures == PictureStyle(charset: .unicode, width: 60))
    #expect(try parsed("prose\n").pictures == nil)
  }

  @Test func requireTakesSeveralFeaturesAndAccumulates() throws {
    let file = try parsed("#require root cgroup2\nprose\n#require overlay\n")
    #expect(file.requirements.map(\.feature) == [.root, .cgroup2, .overlay])
    #expect(file.requirements.map(\.line) == [1, 1, 3])
  }

  @Test(arguments: [("1.5s", 1500), ("200ms", 200), ("2m", 120_000), ("0.25s", 250), ("3s", 3000)])
  func sleepDurations(text: String, milliseconds: Int) throws {
    let file = try parsed("#sleep \(text)\n")
    #expect(file.items == [.sleep(line: 1, duration: .milliseconds(milliseconds))])
  }

  @Test func ifElseEndifNestAndSelect() throws {
    let text = """
      #if real
        boxwalk> a
      #if cgroup2
        boxwalk> b
      #else
        boxwalk> c
      #endif
      #else
        boxwalk> d
      #endif
        boxwalk> e
      """
    let file = try parsed(text)
    #expect(file.allSteps.map(\.command) == ["a", "b", "c", "d", "e"])
    let commands = { (features: Set<String>) in
      file.selectedItems(features: features).compactMap { item -> String? in
        if case .step(let step) = item { return step.command }
        return nil
      }
    }
    #expect(commands(["real", "cgroup2"]) == ["a", "b", "e"])
    #expect(commands(["real"]) == ["a", "c", "e"])
    #expect(commands(["sim"]) == ["d", "e"])
  }

  @Test func blankLinesInsideOutputAreExpectedOnlyWhenMoreOutputFollows() throws {
    let text = "  boxwalk> a\n  one\n\n  two\n\n\n  boxwalk> b\n  three\n\nprose\n"
    let steps = try parsed(text).allSteps
    #expect(steps[0].expected.map(\.text) == ["one", "", "two"])
    #expect(steps[0].expected.map(\.line) == [2, 3, 4])
    #expect(steps[0].lastLine == 4)
    #expect(steps[1].expected.map(\.text) == ["three"])
    #expect(steps[1].lastLine == 8)
  }

  @Test func whitespaceOnlyLinesAreBlank() throws {
    let steps = try parsed("  boxwalk> a\n  one\n  \n  two\n").allSteps
    #expect(steps[0].expected.map(\.text) == ["one", "", "two"])
  }

  @Test func optionalSuffixAndEllipsis() throws {
    let steps = try parsed("  boxwalk> a\n  maybe (?)\n  ...\n  ... (?)\n  (?)\n      ...\n  ....\n").allSteps
    #expect(
      steps[0].expected.map(\.kind) == [
        .pattern([.literal("maybe")], optional: true),
        .anyLines,
        .anyLines,
        .pattern([.literal("(?)")], optional: false),
        .anyLines,
        .pattern([.literal("....")], optional: false),
      ])
  }

  @Test func tokens() throws {
    let steps = try parsed("  boxwalk> a\n  x {{*}} {{pid}} {{ip4:A}} {{re:[0-9]{4}}} {{re:\\}}}!\n").allSteps
    #expect(
      steps[0].expected.first?.kind
        == .pattern(
          [
            .literal("x "), .token(.anyText), .literal(" "), .token(.value(.pid, name: nil)), .literal(" "),
            .token(.value(.ip4, name: "A")), .literal(" "), .token(.regex("[0-9]{4}")), .literal(" "),
            .token(.regex("\\}")), .literal("!"),
          ], optional: false))
  }

  @Test func crlfIsReadAsLF() throws {
    let file = try parsed("prose\r\n  boxwalk> a\r\n  out\r\n")
    #expect(file.sourceLines == ["prose", "  boxwalk> a", "  out"])
    #expect(file.allSteps.first?.expected.map(\.text) == ["out"])
  }

  @Test func tabsAreFineInProse() throws {
    #expect(try parsed("a\ttabbed sentence\n").items == [.narrative(line: 1, text: "a\ttabbed sentence")])
  }

  // MARK: - Errors, each with its exact line and column

  struct BadInput: CustomTestStringConvertible, Sendable {
    var text: String
    var line: Int
    var column: Int
    var message: String
    var testDescription: String { message }
  }

  static let badInputs: [BadInput] = [
    BadInput(text: "prose\n#requre root\n", line: 2, column: 2, message: "unknown directive #requre"),
    BadInput(text: "#require root cgroup3\n", line: 1, column: 15, message: "unknown feature \"cgroup3\""),
    BadInput(text: "#require\n", line: 1, column: 1, message: "#require needs at least one feature"),
    BadInput(text: "#backends sim, kvm\n", line: 1, column: 16, message: "unknown backend \"kvm\""),
    BadInput(text: "#backends\n", line: 1, column: 1, message: "#backends needs at least one backend"),
    BadInput(text: "#backends sim\n#backends real\n", line: 2, column: 1, message: "second #backends"),
    BadInput(text: "#pictures ebcdic 80\n", line: 1, column: 11, message: "unknown charset \"ebcdic\""),
    BadInput(text: "#pictures ascii 20\n", line: 1, column: 17, message: "bad width \"20\""),
    BadInput(text: "#pictures ascii\n", line: 1, column: 1, message: "#pictures takes a charset and a width"),
    BadInput(text: "#pictures ascii 80\n#pictures ascii 90\n", line: 2, column: 1, message: "second #pictures"),
    BadInput(text: "#if root\n#pictures ascii 80\n#endif\n", line: 2, column: 1, message: "#pictures inside the #if"),
    BadInput(text: "#sleep 10\n", line: 1, column: 8, message: "bad duration \"10\""),
    BadInput(text: "#sleep 1.5.2s\n", line: 1, column: 8, message: "bad duration"),
    BadInput(text: "#sleep\n", line: 1, column: 1, message: "#sleep takes exactly one duration"),
    BadInput(text: "#if root\n  boxwalk> a\n#else\n#else\n#endif\n", line: 4, column: 1, message: "second #else"),
    BadInput(text: "#else\n", line: 1, column: 1, message: "#else without #if"),
    BadInput(text: "prose\n#endif\n", line: 2, column: 1, message: "#endif without #if"),
    BadInput(text: "#if root\n#if sim\n#endif\n", line: 1, column: 1, message: "#if root is never closed"),
    BadInput(text: "#if root sim\n#endif\n", line: 1, column: 1, message: "#if takes exactly one feature"),
    BadInput(text: "#if rooot\n#endif\n", line: 1, column: 5, message: "unknown feature \"rooot\""),
    BadInput(text: "#if root\n#endif root\n", line: 2, column: 8, message: "#endif takes no argument"),
    BadInput(
      text: "#if root\n#require sim\n#endif\n", line: 2, column: 1, message: "#require inside the #if at line 1"),
    BadInput(text: "#pause: wait\n", line: 1, column: 7, message: "directive #pause must be followed by a space"),
    BadInput(text: "prose\nab\u{0}c\n", line: 2, column: 3, message: "control character \\x00"),
    BadInput(text: "  boxwalk> a\n  \u{1B}[1mbold\n", line: 2, column: 3, message: "control character \\x1B"),
    // A right-to-left override makes the line read differently from what is checked (Trojan Source).
    BadInput(text: "prose\nab\u{202E}c\n", line: 2, column: 3, message: "control character \\u{202E}"),
    BadInput(text: "  boxwalk> a\n  x\u{2028}y\n", line: 2, column: 4, message: "control character \\u{2028}"),
    BadInput(text: "prose\nab\rc\n", line: 2, column: 3, message: "carriage return"),
    BadInput(text: "  boxwalk> a\n  x\ty\n", line: 2, column: 4, message: "tab in an indented line"),
    BadInput(text: "\tboxwalk> a\n", line: 1, column: 1, message: "line starts with a tab"),
    BadInput(text: "#pause\ta\n", line: 1, column: 7, message: "tab in a directive"),
    BadInput(text: "  boxwalk> a\n out\n", line: 2, column: 1, message: "indented line starts with one space"),
    BadInput(text: "prose\n  orphan output\n", line: 2, column: 3, message: "expected output outside a step"),
    BadInput(text: "  boxwalk> a\nprose\n  late\n", line: 3, column: 3, message: "expected output outside a step"),
    BadInput(text: "  boxwalk>ls\n", line: 1, column: 11, message: "no space after the prompt"),
    BadInput(text: "  boxwalk> a\n  pid {{pdi}}\n", line: 2, column: 7, message: "unknown class \"pdi\""),
    BadInput(text: "  boxwalk> a\n  x {{pid:A\n", line: 2, column: 5, message: "unterminated token"),
    BadInput(text: "  boxwalk> a\n  x {{re:(}}\n", line: 2, column: 5, message: "invalid regex \"(\""),
    BadInput(text: "  boxwalk> a\n  x {{re:}}\n", line: 2, column: 5, message: "empty regex"),
    BadInput(text: "  boxwalk> a\n  x {{pid:A-1}}\n", line: 2, column: 5, message: "bad capture name \"A-1\""),
    BadInput(
      text: "  boxwalk> a\n  {{pid:A}}\n  boxwalk> b\n  x {{inode:A}}\n", line: 4, column: 5,
      message: "capture A is a inode here but a pid at line 2"),
  ]

  @Test(arguments: badInputs)
  func parseErrors(_ bad: BadInput) {
    guard let error = parseError(bad.text) else {
      Issue.record("parsed without error")
      return
    }
    #expect(error.path == "t.transcript")
    #expect(error.line == bad.line)
    #expect(error.column == bad.column)
    #expect(error.message.contains(bad.message), "\(error.message)")
  }

  @Test func errorsSuggestTheNearestNameAndPrintAsPathLineColumn() {
    let directive = parseError("#requre root\n")
    #expect(directive?.fix?.contains("did you mean #require?") == true)
    #expect(directive?.description.hasPrefix("t.transcript:1:2: unknown directive #requre\n  fix: ") == true)
    #expect(parseError("#require cgroup3\n")?.fix?.contains("did you mean cgroup") == true)
    #expect(parseError("  boxwalk> a\n  {{inod}}\n")?.fix?.contains("did you mean inode?") == true)
  }

  @Test func pathsAndQuotedTextInMessagesShowBidiCharactersEscaped() {
    #expect(TranscriptParseError.visible("evil\u{202E}hs.txt") == "evil\\u{202E}hs.txt")
    #expect(TranscriptParseError.visible("a\u{1B}b") == "a\\x1Bb")
    #expect(TranscriptParseError.quote("x\u{2066}y") == "\"x\\u{2066}y\"")
  }

  @Test func emptyTextIsAnEmptyFile() throws {
    let file = try parsed("")
    #expect(file.items.isEmpty)
    #expect(file.sourceLines.isEmpty)
    #expect(!file.endsWithNewline)
  }
}
