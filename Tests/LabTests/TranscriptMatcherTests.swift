import Testing

@testable import Lab

/// Matches expected lines (as written in a transcript) against actual output lines.
private func matchStep(
  _ expected: [String], _ actual: [String], _ bindings: TranscriptBindings = TranscriptBindings()
) throws -> TranscriptBindings? {
  let text = "  boxwalk> x\n" + expected.map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n") + "\n"
  let step = try #require(try parsed(text).allSteps.first)
  let normalized = TranscriptNormalizer.output(actual).map(TranscriptNormalizer.line)
  return TranscriptMatcher().matchStep(step.expected, normalized, bindings)
}

private func matches(_ expected: String, _ actual: String) throws -> Bool {
  try matchStep([expected], [actual]) != nil
}

@Suite struct TranscriptMatcherTests {
  struct ClassCase: CustomTestStringConvertible, Sendable {
    var valueClass: TranscriptClass
    var good: [String]
    var bad: [String]
    var testDescription: String { valueClass.rawValue }
  }

  static let classCases: [ClassCase] = [
    ClassCase(valueClass: .pid, good: ["1", "31337"], bad: ["-1", "12a", ""]),
    ClassCase(valueClass: .int, good: ["0", "-42", "7"], bad: ["4.2", "--1", "x"]),
    ClassCase(valueClass: .inode, good: ["4026531838"], bad: ["uts:[4026531838]", "-1"]),
    ClassCase(valueClass: .hex, good: ["0x1f", "DEADbeef", "00"], bad: ["0x", "0xg1", "12h"]),
    ClassCase(
      valueClass: .bytes, good: ["4096", "1.5 KiB", "12MB", "8k", "100 B", "2GiB"], bad: ["KiB", "1.5 KiBs", "1,5"]),
    ClassCase(
      valueClass: .dur, good: ["20ms", "1.5s", "3µs", "10ns", "1m30s", "2h"], bad: ["20", "ms", "1.5 s", "3d"]),
    ClassCase(
      valueClass: .ip4, good: ["10.0.0.2", "10.0.0.2/24", "255.255.255.0", "0.0.0.0/0"],
      bad: ["256.1.1.1", "10.0.0", "10.0.0.1/33", "1.2.3.4.5"]),
    ClassCase(
      valueClass: .mac, good: ["02:42:ac:11:00:02", "AA:BB:CC:DD:EE:FF"],
      bad: ["02:42:ac:11:00", "02-42-ac-11-00-02", "0g:42:ac:11:00:02"]),
    ClassCase(valueClass: .veth, good: ["veth", "veth-web", "veth1a2b.3_c"], bad: ["eth0", "veth web", "vethé"]),
    ClassCase(valueClass: .host, good: ["lab-box", "ci-runner-7.example.org"], bad: ["lab box", "\"quoted\""]),
    ClassCase(valueClass: .path, good: ["/", "/proc/1/ns/uts"], bad: ["proc", "/a b"]),
    ClassCase(valueClass: .word, good: ["x", "a-b_c:d"], bad: ["a b", ""]),
  ]

  @Test(arguments: classCases)
  func everyClass(_ c: ClassCase) throws {
    for value in c.good {
      #expect(try matches("v={{\(c.valueClass.rawValue)}}.", "v=\(value)."), "\(value) should match")
      #expect(try matches("v={{\(c.valueClass.rawValue):X}}.", "v=\(value)."), "\(value) should match a capture")
    }
    for value in c.bad {
      #expect(try !matches("v={{\(c.valueClass.rawValue)}}.", "v=\(value)."), "\(value) should not match")
    }
  }

  @Test func hostStopsAtAQuote() throws {
    let bindings = try #require(try matchStep(["web.hostname = \"{{host:H}}\""], ["web.hostname = \"lab-box\""]))
    #expect(bindings["H"]?.value == "lab-box")
  }

  @Test func literalTextIsLiteralEvenWithRegexCharacters() throws {
    #expect(try matches("a.b [1] (x)* $HOME ^ | {} \\d", "a.b [1] (x)* $HOME ^ | {} \\d"))
    #expect(try !matches("a.b", "axb"))
    #expect(try matches("{\"backend\": \"sim\"}", "{\"backend\": \"sim\"}"))
  }

  @Test func matchingIsPerWholeLine() throws {
    #expect(try !matches("box", "box web"))
    #expect(try !matches("web", "box web"))
  }

  @Test func anyTextStaysWithinTheLineAndIsNonGreedy() throws {
    #expect(try matches("created {{*}} web", "created box web"))
    #expect(try matches("a{{*}}", "a"))
    #expect(try matchStep(["first {{*}}"], ["first x", "second"]) == nil)
    let bindings = try #require(try matchStep(["{{*}}={{word:V}}"], ["a=b=c"]))
    #expect(bindings["V"]?.value == "b=c")
  }

  @Test func regexToken() throws {
    #expect(try matches("uts:[{{re:[0-9]{10}}}]", "uts:[4026531838]"))
    #expect(try !matches("uts:[{{re:[0-9]{10}}}]", "uts:[402653183]"))
    #expect(try matches("{{re:a|b}}c", "bc"))
    #expect(try matches("{{re:\\{\\{}}x}}", "{{x}}"))
  }

  @Test func runsOfSpacesCountAsOneOnBothSides() throws {
    #expect(try matches("PID  CMD", "PID CMD"))
    #expect(try matches("PID CMD", "PID      CMD"))
    #expect(try matches("1    {{word}}", "1\tsh"))
    #expect(try !matches("PIDCMD", "PID CMD"))
  }

  @Test func trailingWhitespaceIsIgnored() throws {
    #expect(try matches("done", "done   "))
    #expect(try matches("done", "done\t"))
    #expect(try matchStep(["done"], ["done", "", "  "]) != nil)
  }

  @Test func namedCapturesBindAndMustAgree() throws {
    let bound = try #require(try matchStep(["{{host:ORIG}}", "again {{host:ORIG}}"], ["ci-7", "again ci-7"]))
    #expect(bound["ORIG"] == TranscriptBindings.Binding(valueClass: .host, value: "ci-7"))
    #expect(try matchStep(["{{host:ORIG}}", "again {{host:ORIG}}"], ["ci-7", "again lab-box"]) == nil)
    // Within one line, the second use is a backreference to the first.
    #expect(try matches("{{pid:P}} -> {{pid:P}}", "12 -> 12"))
    #expect(try !matches("{{pid:P}} -> {{pid:P}}", "12 -> 13"))
  }

  @Test func plainTextAndBoundCapturesCompareAsText() throws {
    // No regex is built for these lines; they must still mean what the regex meant.
    #expect(try matches("a.b (c) [d] {e} $f^ |g| \\h *+?", "a.b (c) [d] {e} $f^ |g| \\h *+?"))
    #expect(try !matches("a.b", "axb"))
    #expect(try matches("  two  leading", " two leading"))
    var earlier = TranscriptBindings()
    let bound = earlier.bind("V", .word, "x.y")
    #expect(bound)
    #expect(try matchStep(["v = {{word:V}} ."], ["v = x.y ."], earlier) != nil)
    #expect(try matchStep(["v = {{word:V}} ."], ["v = xzy ."], earlier) == nil)
  }

  @Test func bindingsFromEarlierStepsAreLiteral() throws {
    var earlier = TranscriptBindings()
    let bound = earlier.bind("ORIG", .host, "ci-7")
    #expect(bound)
    #expect(try matchStep(["{{host:ORIG}}"], ["ci-7"], earlier) != nil)
    #expect(try matchStep(["{{host:ORIG}}"], ["lab-box"], earlier) == nil)
  }

  @Test func distinctClassesRefuseTheSameValueUnderTwoNames() throws {
    #expect(try matchStep(["{{inode:HOST}}", "{{inode:BOX}}"], ["4026531838", "4026531838"]) == nil)
    #expect(try matchStep(["{{inode:HOST}}", "{{inode:BOX}}"], ["4026531838", "4026532201"]) != nil)
    #expect(try !matches("{{ip4:A}} {{ip4:B}}", "10.0.0.1 10.0.0.1"))
    #expect(try !matches("{{mac:A}} {{mac:B}}", "02:00:00:00:00:01 02:00:00:00:00:01"))
    #expect(try !matches("{{veth:A}} {{veth:B}}", "veth0 veth0"))
    // The same name twice is fine, and PIDs are not distinct: two PID namespaces both have a 1.
    #expect(try matchStep(["{{inode:HOST}}", "{{inode:HOST}}"], ["4026531838", "4026531838"]) != nil)
    #expect(try matches("{{pid:HOST}} {{pid:BOX}}", "1 1"))
  }

  @Test func ellipsisMatchesZeroOrMoreLines() throws {
    #expect(try matchStep(["a", "...", "z"], ["a", "z"]) != nil)
    #expect(try matchStep(["a", "...", "z"], ["a", "b", "c", "z"]) != nil)
    #expect(try matchStep(["..."], []) != nil)
    #expect(try matchStep(["..."], ["x", "y"]) != nil)
    #expect(try matchStep(["a", "...", "z"], ["a", "b"]) == nil)
    #expect(try matchStep(["...", "z", "..."], ["z", "y", "z", "q"]) != nil)
  }

  @Test func ellipsisBacktracksForCaptures() throws {
    // The first `z` binds nothing useful; the search must go on to the one that agrees.
    var start = TranscriptBindings()
    let bound = start.bind("N", .pid, "7")
    #expect(bound)
    let b = try matchStep(["...", "pid {{pid:N}}", "..."], ["pid 5", "pid 7", "end"], start)
    #expect(b != nil)
  }

  @Test func optionalLines() throws {
    #expect(try matchStep(["a", "maybe (?)", "b"], ["a", "maybe", "b"]) != nil)
    #expect(try matchStep(["a", "maybe (?)", "b"], ["a", "b"]) != nil)
    #expect(try matchStep(["a", "maybe (?)", "b"], ["a", "other", "b"]) == nil)
    #expect(try matchStep(["x (?)"], []) != nil)
  }

  @Test func noExpectedLinesMeansNoOutput() throws {
    #expect(try matchStep([], []) != nil)
    #expect(try matchStep([], ["", ""]) != nil)
    #expect(try matchStep([], ["surprise"]) == nil)
  }

  @Test func emptyLinesInTheMiddleAreExpected() throws {
    #expect(try matchStep(["a", "", "b"], ["a", "", "b"]) != nil)
    #expect(try matchStep(["a", "", "b"], ["a", "b"]) == nil)
  }

  @Test func manyEllipsesStayFast() throws {
    let expected = Array(repeating: "...", count: 12) + ["never"]
    let actual = (0..<200).map { "line \($0)" }
    #expect(try matchStep(expected, actual) == nil)
  }
}
