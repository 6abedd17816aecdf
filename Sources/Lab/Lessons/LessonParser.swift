import Kernel

extension Lesson {
  /// Parses a lesson file (lessons/README.md). The caller reads the file; `path` is only used in
  /// messages.
  ///
  /// The parser is strict: every rule it enforces has an error with `path:line:col` and a fix,
  /// because a lesson that is read differently from how it was written teaches the wrong thing
  /// quietly. What it cannot see without running the lesson (does each expect hold? does each
  /// check fail before its solution?) is `lint`'s job.
  public static func parse(path: String, text: String) throws(LessonParseError) -> Lesson {
    var parser = LessonParser(path: path)
    let lines = try LessonParser.split(path: path, text: text)
    for (index, line) in lines.enumerated() {
      try parser.take(line, number: index + 1)
    }
    return try parser.finish(lineCount: lines.count)
  }
}

/// The line-by-line state machine behind `Lesson.parse`: front matter, then prose, step headings
/// and fenced blocks.
struct LessonParser {
  /// Lesson commands never run inside a lab: `next` in a lab block would recurse, `quit` would end
  /// the learner's session.
  static let forbiddenInLab: Set<String> = [
    "lessons", "lesson", "next", "back", "hint", "check", "solution", "reset", "record", "quit", "exit",
  ]
  static let idRule =
    "ids match [a-z0-9][a-z0-9-]* (at most 40 characters): they appear in the prompt and in file names"

  private enum Phase {
    /// Before line 1 was read.
    case start
    case frontMatter(openedAt: Int)
    case body
  }

  private struct OpenFence {
    var kind: LessonBlockKind
    var line: Int
    var lines: [(Int, String)] = []
  }

  /// The step being read.
  private struct OpenStep {
    var id: String
    var title: String
    var line: Int
    var before: [String] = []
    var after: [String] = []
    var lab: LessonCommandBlock?
    var shell: LessonTextBlock?
    var expect: LessonAssertionBlock?
    var check: LessonAssertionBlock?
    var hints: [LessonTextBlock] = []
    var solution: LessonCommandBlock?
  }

  let path: String
  private var phase = Phase.start
  private var front: [String: (value: String, line: Int, column: Int)] = [:]
  private var frontEnd = 0
  private var intro: [String] = []
  private var steps: [LessonStep] = []
  private var stepLines: [String: Int] = [:]
  private var step: OpenStep?
  private var fence: OpenFence?

  init(path: String) { self.path = path }

  // MARK: - Lines

  /// Splits on LF (CRLF read as LF) and refuses control characters other than tab, which no
  /// editor shows and no lesson needs.
  static func split(path: String, text: String) throws(LessonParseError) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var column = 1
    let scalars = Array(text.unicodeScalars)
    var i = scalars.first == "\u{FEFF}" ? 1 : 0
    while i < scalars.count {
      let c = scalars[i]
      if c == "\n" {
        lines.append(String(current))
        current = String.UnicodeScalarView()
        column = 1
      } else if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" {
        // CRLF: the LF ends the line.
      } else if TranscriptSourceLines.isControl(c) {
        throw LessonParseError(
          path: path, line: lines.count + 1, column: column,
          message: "control character \(LessonParseError.escaped(c)) in a lesson",
          fix: "remove it; lessons are plain UTF-8 text with LF line endings")
      } else {
        current.append(c)
        column += 1
      }
      i += 1
    }
    if !current.isEmpty { lines.append(String(current)) }
    return lines
  }

  mutating func take(_ raw: String, number: Int) throws(LessonParseError) {
    let line = trimRight(raw)
    switch phase {
    case .start:
      guard line == "---" else {
        throw error(
          number, 1, "a lesson starts with a front matter",
          fix: "begin the file with ---, then id:, title: and format: 1 lines, then ---")
      }
      phase = .frontMatter(openedAt: number)
    case .frontMatter:
      if line == "---" {
        try closeFrontMatter(number)
        phase = .body
      } else {
        try frontMatterLine(line, number: number)
      }
    case .body:
      try bodyLine(raw, trimmed: line, number: number)
    }
  }

  mutating func finish(lineCount: Int) throws(LessonParseError) -> Lesson {
    switch phase {
    case .start:
      throw error(1, 1, "the lesson file is empty", fix: "start with a front matter: ---, id:, title:, format: 1, ---")
    case .frontMatter(let opened):
      throw error(opened, 1, "the front matter is never closed", fix: "end it with a line of three dashes: ---")
    case .body:
      break
    }
    if let fence {
      throw error(
        fence.line, 1, "the \(fence.kind.rawValue) block is never closed", fix: "end it with a line of three backticks")
    }
    try finishStep()
    guard !steps.isEmpty else {
      throw error(
        max(lineCount, 1), 1, "the lesson has no steps", fix: "add a step: a heading like ## Make a box {#box}")
    }
    let id = front["id"]
    return Lesson(
      path: path, id: id?.value ?? "", idLine: id?.line ?? 1, title: front["title"]?.value ?? "",
      requires: try requirements(), intro: trimBlank(intro), steps: steps,
      rootlessReason: front["no-rootless"]?.value)
  }

  // MARK: - Front matter

  static let frontKeys = ["id", "title", "format", "requires", "no-rootless"]

  private mutating func frontMatterLine(_ line: String, number: Int) throws(LessonParseError) {
    if line.isEmpty { return }
    guard let colon = line.firstIndex(of: ":") else {
      throw error(
        number, 1, "expected key: value in the front matter, got \(LessonParseError.quote(line))",
        fix: "keys are " + Self.frontKeys.joined(separator: ", "))
    }
    let key = String(line[..<colon])
    guard Self.frontKeys.contains(key) else {
      let near = Nearest.match(key, in: Self.frontKeys).map { "did you mean \($0)? " } ?? ""
      throw error(
        number, 1, "unknown front matter key \(LessonParseError.quote(key))",
        fix: near + "keys are " + Self.frontKeys.joined(separator: ", "))
    }
    if let first = front[key] {
      throw error(number, 1, "\(key) is set twice (first at line \(first.line))", fix: "keep one \(key): line")
    }
    var valueStart = line.index(after: colon)
    while valueStart < line.endIndex, line[valueStart] == " " { valueStart = line.index(after: valueStart) }
    let value = String(line[valueStart...])
    let column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: valueStart) + 1
    guard !value.isEmpty else {
      throw error(number, column, "\(key) has no value", fix: "write \(key): VALUE")
    }
    switch key {
    case "id":
      guard Self.isID(value) else {
        throw error(number, column, "bad lesson id \(LessonParseError.quote(value))", fix: Self.idRule)
      }
    case "format":
      guard value == "1" else {
        throw error(
          number, column, "unknown lesson format \(LessonParseError.quote(value))",
          fix: "this boxwalk reads format: 1; a newer boxwalk may read this lesson")
      }
    default:
      break
    }
    front[key] = (value, number, column)
  }

  private mutating func closeFrontMatter(_ number: Int) throws(LessonParseError) {
    for key in ["id", "title", "format"] where front[key] == nil {
      throw error(
        number, 1, "the front matter has no \(key):",
        fix: "add \(key): before this line" + (key == "format" ? " (format: 1)" : ""))
    }
    frontEnd = number
    _ = try requirements()
  }

  /// `requires: root, cgroup2`: the feature names of `#require`, separated by commas or spaces.
  private func requirements() throws(LessonParseError) -> [TranscriptFeature] {
    guard let entry = front["requires"] else { return [] }
    var out: [TranscriptFeature] = []
    // Each word with the column it starts at, for an error that points at the bad one.
    var words: [(String, Int)] = []
    var word = ""
    var wordColumn = entry.column
    let scalars = Array(entry.value.unicodeScalars)
    for offset in 0...scalars.count {
      let c: Unicode.Scalar = offset < scalars.count ? scalars[offset] : " "
      if c == " " || c == "," {
        if !word.isEmpty { words.append((word, wordColumn)) }
        word = ""
      } else {
        if word.isEmpty { wordColumn = entry.column + offset }
        word.unicodeScalars.append(c)
      }
    }
    for (name, column) in words {
      guard let feature = TranscriptFeature(rawValue: name) else {
        let names = TranscriptFeature.allCases.map(\.rawValue)
        let near = Nearest.match(name, in: names).map { "did you mean \($0)? " } ?? ""
        throw error(
          entry.line, column, "unknown feature \(LessonParseError.quote(name)) in requires:",
          fix: near + "features are " + names.joined(separator: " "))
      }
      if !out.contains(feature) { out.append(feature) }
    }
    return out
  }

  static func isID(_ s: String) -> Bool {
    let scalars = Array(s.unicodeScalars)
    guard let first = scalars.first, scalars.count <= 40, isLowerOrDigit(first) else { return false }
    return scalars.allSatisfy { isLowerOrDigit($0) || $0 == "-" }
  }

  private static func isLowerOrDigit(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "0" && c <= "9")
  }

  // MARK: - Body

  private mutating func bodyLine(_ raw: String, trimmed line: String, number: Int) throws(LessonParseError) {
    if var open = fence {
      if line == "```" {
        fence = nil
        try closeFence(open)
      } else {
        open.lines.append((number, raw))
        fence = open
      }
      return
    }
    if line.hasPrefix("```") {
      try openFence(line, number: number)
      return
    }
    if line.hasPrefix("~~~") {
      throw error(number, 1, "~~~ fences are not read as lesson blocks", fix: "fence blocks with three backticks")
    }
    if line.hasPrefix("   ```") || line.hasPrefix("  ```") || line.hasPrefix(" ```") {
      throw error(number, 1, "an indented fence", fix: "start fences at column 1, so every block is seen")
    }
    if line.hasPrefix("## ") {
      try finishStep()
      try openStep(line, number: number)
      return
    }
    if line == "##" {
      throw error(number, 1, "an empty step heading", fix: "write ## Title {#step-id}")
    }
    if var open = step {
      if open.lab == nil { open.before.append(raw) } else { open.after.append(raw) }
      step = open
    } else {
      intro.append(raw)
    }
  }

  private mutating func openStep(_ line: String, number: Int) throws(LessonParseError) {
    let s = Array(line.unicodeScalars)
    guard s.last == "}", let open = lastIndex(of: "{", in: s), open + 1 < s.count, s[open + 1] == "#" else {
      throw error(
        number, s.count + 1, "a step heading must end with {#step-id}",
        fix: "write ## \(String(line.dropFirst(3))) {#some-id}; the id names the step in the prompt and in progress")
    }
    let id = String(String.UnicodeScalarView(s[(open + 2)..<(s.count - 1)]))
    guard Self.isID(id) else {
      throw error(number, open + 3, "bad step id \(LessonParseError.quote(id))", fix: Self.idRule)
    }
    var titleEnd = open
    while titleEnd > 3, s[titleEnd - 1] == " " { titleEnd -= 1 }
    let title = String(String.UnicodeScalarView(s[3..<titleEnd])).trimmingLeadingSpaces
    guard !title.isEmpty else {
      throw error(number, 4, "the step \(id) has no title", fix: "write ## Title {#\(id)}")
    }
    if let first = stepLines[id] {
      throw error(
        number, open + 3, "step id \(id) is used twice (first at line \(first))",
        fix: "give every step its own id: progress and the prompt name steps by id")
    }
    stepLines[id] = number
    step = OpenStep(id: id, title: title, line: number)
  }

  private mutating func openFence(_ line: String, number: Int) throws(LessonParseError) {
    let info = String(line.dropFirst(3))
    let names = LessonBlockKind.allCases.map(\.rawValue)
    guard !info.isEmpty else {
      throw error(
        number, 4, "a fenced block needs a type", fix: "write ```lab, or one of " + names.joined(separator: " "))
    }
    guard !info.hasPrefix("`") else {
      throw error(number, 1, "fences are exactly three backticks", fix: "write ```" + names[0])
    }
    guard let kind = LessonBlockKind(rawValue: info) else {
      let near = Nearest.match(info, in: names).map { "did you mean \($0)? " } ?? ""
      throw error(
        number, 4, "unknown block type \(LessonParseError.quote(info))",
        fix: near + "block types are " + names.joined(separator: " "))
    }
    guard step != nil else {
      throw error(
        number, 1, "a \(kind.rawValue) block before the first step",
        fix: "blocks belong to a step: put a ## Title {#id} heading above it")
    }
    fence = OpenFence(kind: kind, line: number)
  }

  private mutating func closeFence(_ f: OpenFence) throws(LessonParseError) {
    guard var open = step else { return }
    let content = f.lines.filter { !trimRight($0.1).isEmpty }
    guard !content.isEmpty else {
      throw error(f.line, 1, "the \(f.kind.rawValue) block is empty", fix: "write its content, or remove it")
    }
    func once<T>(_ existing: T?) throws(LessonParseError) {
      if existing != nil {
        throw error(
          f.line, 1, "a second \(f.kind.rawValue) block in step \(open.id)",
          fix: "a step has one \(f.kind.rawValue) block; put every line in it")
      }
    }
    switch f.kind {
    case .lab:
      try once(open.lab)
      open.lab = LessonCommandBlock(line: f.line, commands: try commands(content, f.kind))
    case .solution:
      try once(open.solution)
      open.solution = LessonCommandBlock(line: f.line, commands: try commands(content, f.kind))
    case .shell:
      try once(open.shell)
      open.shell = LessonTextBlock(line: f.line, lines: trimBlank(f.lines.map { trimRight($0.1) }))
    case .hint:
      open.hints.append(LessonTextBlock(line: f.line, lines: trimBlank(f.lines.map { trimRight($0.1) })))
    case .expect:
      try once(open.expect)
      open.expect = LessonAssertionBlock(line: f.line, assertions: try assertions(content, check: false))
    case .check:
      try once(open.check)
      open.check = LessonAssertionBlock(line: f.line, assertions: try assertions(content, check: true))
    }
    step = open
  }

  /// Lab and solution lines: REPL commands, split here already so a bad quote is reported with
  /// its column now, not when a learner types `next`.
  private func commands(_ lines: [(Int, String)], _ kind: LessonBlockKind) throws(LessonParseError) -> [LessonCommand] {
    var out: [LessonCommand] = []
    for (number, raw) in lines {
      let text = trimRight(raw)
      let words: [String]
      do {
        words = try WordSplitter.split(text)
      } catch {
        throw self.error(
          number, error.column, "in this \(kind.rawValue) command: \(error.reason)",
          fix: "close the quote; commands split into words as a POSIX shell does")
      }
      guard let first = words.first else { continue }  // a comment line
      if Self.forbiddenInLab.contains(first) {
        throw self.error(
          number, 1, "\(first) cannot run inside a \(kind.rawValue) block",
          fix: "lab and solution blocks hold lab commands (box, unshare, hostname, ...), not lesson commands")
      }
      out.append(LessonCommand(line: number, text: text.trimmingLeadingSpaces))
    }
    guard !out.isEmpty else {
      throw error(lines[0].0, 1, "the \(kind.rawValue) block has only comments", fix: "write at least one command")
    }
    return out
  }

  private func assertions(_ lines: [(Int, String)], check: Bool) throws(LessonParseError) -> [LessonAssertion] {
    var out: [LessonAssertion] = []
    for (number, raw) in lines {
      let text = trimRight(raw)
      if text.trimmingLeadingSpaces.hasPrefix("#") { continue }
      out.append(try LessonAssertionParser(path: path, line: number, needsMessage: check).parse(text))
    }
    guard !out.isEmpty else {
      throw error(lines[0].0, 1, "the block has only comments", fix: "write at least one assertion: PATH OP VALUE")
    }
    return out
  }

  private mutating func finishStep() throws(LessonParseError) {
    guard let open = step else { return }
    step = nil
    steps.append(
      LessonStep(
        id: open.id, title: open.title, line: open.line, before: prose(open.before), after: prose(open.after),
        lab: open.lab, shell: open.shell, expect: open.expect, check: open.check, hints: open.hints,
        solution: open.solution))
  }

  // MARK: - Helpers

  private func lastIndex(of c: Unicode.Scalar, in s: [Unicode.Scalar]) -> Int? {
    var i = s.count - 1
    while i >= 0 {
      if s[i] == c { return i }
      i -= 1
    }
    return nil
  }

  private func trimRight(_ s: String) -> String {
    var scalars = Array(s.unicodeScalars)
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(String.UnicodeScalarView(scalars))
  }

  private func error(_ line: Int, _ column: Int, _ message: String, fix: String) -> LessonParseError {
    LessonParseError(path: path, line: line, column: column, message: message, fix: fix)
  }
}

/// A step's prose as the learner reads it: the fenced blocks between its paragraphs are taken
/// out (the runner shows them in their own way), so the blank lines around each block would
/// leave a hole of several; one blank line separates paragraphs, as in the file.
func prose(_ lines: [String]) -> [String] {
  var out: [String] = []
  for line in trimBlank(lines) {
    let blank = line.allSatisfy { $0 == " " || $0 == "\t" }
    if blank, let last = out.last, last.isEmpty { continue }
    out.append(blank ? "" : line)
  }
  return out
}

/// Prose without its leading and trailing blank lines.
func trimBlank(_ lines: [String]) -> [String] {
  var out = lines
  while let first = out.first, first.allSatisfy({ $0 == " " || $0 == "\t" }) { out.removeFirst() }
  while let last = out.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { out.removeLast() }
  return out
}

extension String {
  var trimmingLeadingSpaces: String { String(drop { $0 == " " || $0 == "\t" }) }
}
