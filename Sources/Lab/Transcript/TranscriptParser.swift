import Kernel

extension TranscriptFile {
  /// Parses transcript text (docs/transcripts.md). The caller reads the file; `path` is only used
  /// in messages.
  ///
  /// Each line is one of:
  /// - **blank**: separates steps. Inside a step's output, blank lines followed by more output of
  ///   the same step are expected empty output lines; otherwise they are just spacing.
  /// - **directive**: `#` immediately followed by a lowercase keyword at column 1 (`#require root`).
  ///   `# UTS namespace` (hash, space) is prose, so headings written Markdown-style stay prose.
  /// - **narrative**: any other unindented line.
  /// - **input**: two spaces, a prompt (`boxwalk> ` or `boxwalk[NAME]> `) and the command.
  /// - **expected output**: two spaces and the text, right after an input line or more output.
  ///
  /// Tabs are allowed only in prose: in an indented line a tab would be invisible part of the
  /// expectation, and "two spaces" would be ambiguous.
  public static func parse(path: String, text: String) throws(TranscriptParseError) -> TranscriptFile {
    let split = try TranscriptSourceLines.split(path: path, text: text)
    var parser = TranscriptParser(path: path)
    for (index, line) in split.lines.enumerated() {
      try parser.take(line, number: index + 1)
    }
    let (items, requirements, backends) = try parser.finish()
    return TranscriptFile(
      path: path, sourceLines: split.lines, endsWithNewline: split.endsWithNewline, items: items,
      requirements: requirements, backends: backends, pictures: parser.pictures)
  }
}

/// The line-by-line state machine behind `TranscriptFile.parse`.
struct TranscriptParser {
  /// An open `#if`: the items of its first branch once `#else` was seen.
  private struct OpenIf {
    var line: Int
    var feature: TranscriptFeature
    var then: [TranscriptItem]?
  }

  /// The step being read: its input line, and its output lines so far.
  private struct OpenStep {
    var line: Int
    var prompt: String
    var command: String
    var input: String
    var expected: [TranscriptExpectedLine] = []
    /// Blank lines after the last output line: expected empty lines if more output follows.
    var pendingBlanks: [Int] = []
  }

  let path: String
  /// containers[0] is the file; each open `#if` adds the branch being filled.
  private var containers: [[TranscriptItem]] = [[]]
  private var openIfs: [OpenIf] = []
  private var step: OpenStep?
  private var requirements: [TranscriptRequirement] = []
  private var backends: [Backend]?
  /// From `#pictures`.
  private(set) var pictures: PictureStyle?
  /// Capture name -> its class and where it first appeared: one name holds one kind of value.
  private var captureClasses: [String: (TranscriptClass, Int)] = [:]

  init(path: String) { self.path = path }

  mutating func take(_ raw: String, number: Int) throws(TranscriptParseError) {
    let scalars = Array(raw.unicodeScalars)
    var end = scalars.count
    while end > 0, scalars[end - 1] == " " || scalars[end - 1] == "\t" { end -= 1 }
    if end == 0 {
      step?.pendingBlanks.append(number)
      return
    }
    let line = Array(scalars[..<end])
    switch line[0] {
    case " ":
      try takeIndented(line, number: number)
    case "\t":
      throw error(number, 1, "line starts with a tab", fix: "indent input and output lines with exactly two spaces")
    default:
      finishStep()
      if line[0] == "#", line.count > 1, ("a"..."z").contains(line[1]) {
        try takeDirective(line, number: number)
      } else {
        append(.narrative(line: number, text: String(String.UnicodeScalarView(line))))
      }
    }
  }

  mutating func finish() throws(TranscriptParseError) -> ([TranscriptItem], [TranscriptRequirement], [Backend]?) {
    finishStep()
    if let open = openIfs.last {
      throw error(
        open.line, 1, "#if \(open.feature.rawValue) is never closed",
        fix: "add #endif after the last line of the block")
    }
    return (containers[0], requirements, backends)
  }

  // MARK: - Input and output lines

  private mutating func takeIndented(_ line: [Unicode.Scalar], number: Int) throws(TranscriptParseError) {
    guard line.count >= 2, line[1] == " " else {
      throw error(
        number, 1, "indented line starts with one space", fix: "indent input and output lines with exactly two spaces")
    }
    if let tab = line.firstIndex(of: "\t") {
      throw error(
        number, tab + 1, "tab in an indented line",
        fix: "use spaces; a tab in an expected line is invisible, and output never needs one")
    }
    let content = String(String.UnicodeScalarView(line[2...]))
    if let (prompt, command) = try parsePrompt(content, number: number) {
      finishStep()
      step = OpenStep(line: number, prompt: prompt, command: command, input: content)
      return
    }
    guard var open = step else {
      throw error(
        number, 3, "expected output outside a step: \(TranscriptParseError.quote(content))",
        fix: "output lines follow their input line (  boxwalk> COMMAND); write prose unindented")
    }
    for blank in open.pendingBlanks {
      open.expected.append(TranscriptExpectedLine(line: blank, text: "", kind: .pattern([], optional: false)))
    }
    open.pendingBlanks = []
    let parsed = try TranscriptPatternParser(path: path, line: number, firstColumn: 3).parse(content)
    for capture in parsed.captures {
      if let (known, firstLine) = captureClasses[capture.name], known != capture.valueClass {
        throw error(
          number, capture.column,
          "capture \(capture.name) is a \(capture.valueClass.rawValue) here but a \(known.rawValue) at line \(firstLine)",
          fix: "one name holds one kind of value; use another name")
      }
      if captureClasses[capture.name] == nil { captureClasses[capture.name] = (capture.valueClass, number) }
    }
    open.expected.append(TranscriptExpectedLine(line: number, text: content, kind: parsed.kind))
    step = open
  }

  /// `boxwalk> CMD` or `boxwalk[NAME]> CMD` -> (prompt with its space, command); nil if the line
  /// is not an input line. The name in brackets may be anything without `]` (`web`, `lesson/step`).
  private func parsePrompt(_ content: String, number: Int) throws(TranscriptParseError) -> (String, String)? {
    let s = Array(content.unicodeScalars)
    let word = Array("boxwalk".unicodeScalars)
    guard s.count > word.count, Array(s[..<word.count]) == word else { return nil }
    var i = word.count
    if s[i] == "[" {
      guard let close = s[i...].firstIndex(of: "]") else { return nil }
      i = close + 1
    }
    guard i < s.count, s[i] == ">" else { return nil }
    let prompt = String(String.UnicodeScalarView(s[...i])) + " "
    i += 1
    if i == s.count { return (prompt, "") }
    guard s[i] == " " else {
      throw error(
        number, i + 3, "no space after the prompt in \(TranscriptParseError.quote(content))",
        fix: "write one space between the prompt and the command, as the REPL prints it")
    }
    while i < s.count, s[i] == " " { i += 1 }
    return (prompt, String(String.UnicodeScalarView(s[i...])))
  }

  /// Ends the open step. Blank lines after its last output line were only spacing.
  private mutating func finishStep() {
    guard let open = step else { return }
    step = nil
    let last = open.expected.last?.line ?? open.line
    append(
      .step(
        TranscriptStep(
          line: open.line, prompt: open.prompt, command: open.command, input: open.input,
          expected: open.expected, lastLine: last)))
  }

  private mutating func append(_ item: TranscriptItem) {
    containers[containers.count - 1].append(item)
  }

  // MARK: - Directives

  private mutating func takeDirective(_ line: [Unicode.Scalar], number: Int) throws(TranscriptParseError) {
    var i = 1
    while i < line.count, ("a"..."z").contains(line[i]) || ("0"..."9").contains(line[i]) || line[i] == "-" {
      i += 1
    }
    let keyword = String(String.UnicodeScalarView(line[1..<i]))
    if i < line.count, line[i] != " " {
      if line[i] == "\t" {
        throw error(number, i + 1, "tab in a directive", fix: "separate a directive's words with spaces")
      }
      throw error(
        number, i + 1, "directive #\(keyword) must be followed by a space or the end of the line",
        fix: "to write prose that starts with '#', put a space after it: \"# \(keyword)...\"")
    }
    if let tab = line.firstIndex(of: "\t") {
      throw error(number, tab + 1, "tab in a directive", fix: "separate a directive's words with spaces")
    }
    // The arguments, each with its column, for errors that point at the bad word.
    var words: [(text: String, column: Int)] = []
    var current = String.UnicodeScalarView()
    var start = 0
    for j in i...line.count {
      if j == line.count || line[j] == " " {
        if !current.isEmpty { words.append((String(current), start + 1)) }
        current = String.UnicodeScalarView()
      } else {
        if current.isEmpty { start = j }
        current.append(line[j])
      }
    }
    switch keyword {
    case "require": try require(words, number: number)
    case "backends": try backendsDirective(line, from: i, number: number)
    case "pictures": try picturesDirective(words, number: number)
    case "if":
      guard words.count == 1 else {
        throw error(number, 1, "#if takes exactly one feature", fix: "write #if FEATURE, for example #if cgroup2")
      }
      let feature = try parseFeature(words[0], number: number)
      openIfs.append(OpenIf(line: number, feature: feature, then: nil))
      containers.append([])
    case "else":
      try noArguments(keyword, words, number: number)
      guard let open = openIfs.last else {
        throw error(number, 1, "#else without #if", fix: "start the block with #if FEATURE")
      }
      guard open.then == nil else {
        throw error(number, 1, "second #else for the #if at line \(open.line)", fix: "an #if has at most one #else")
      }
      openIfs[openIfs.count - 1].then = containers.removeLast()
      containers.append([])
    case "endif":
      try noArguments(keyword, words, number: number)
      guard let open = openIfs.popLast() else {
        throw error(number, 1, "#endif without #if", fix: "remove it, or start the block with #if FEATURE")
      }
      let last = containers.removeLast()
      let (then, otherwise) = open.then.map { ($0, last) } ?? (last, [])
      append(.conditional(line: open.line, feature: open.feature, then: then, otherwise: otherwise))
    case "pause":
      let caption = words.isEmpty ? "" : String(String.UnicodeScalarView(line[(words[0].column - 1)...]))
      append(.pause(line: number, caption: caption))
    case "sleep":
      guard words.count == 1 else {
        throw error(number, 1, "#sleep takes exactly one duration", fix: "write #sleep 1.5s or #sleep 200ms")
      }
      guard let duration = TranscriptDuration.parse(words[0].text) else {
        throw error(
          number, words[0].column, "bad duration \(TranscriptParseError.quote(words[0].text)) in #sleep",
          fix: "a number and a unit: 200ms, 1.5s, 2m")
      }
      append(.sleep(line: number, duration: duration))
    default:
      let known = ["require", "backends", "pictures", "if", "else", "endif", "pause", "sleep"]
      let near = Nearest.match(keyword, in: known).map { "did you mean #\($0)? " } ?? ""
      throw error(
        number, 2, "unknown directive #\(keyword)",
        fix: near + "directives are #" + known.joined(separator: " #")
          + "; for prose that starts with '#', put a space after it")
    }
  }

  private mutating func require(_ words: [(text: String, column: Int)], number: Int) throws(TranscriptParseError) {
    try atTopLevel("#require", number: number)
    guard !words.isEmpty else {
      throw error(
        number, 1, "#require needs at least one feature",
        fix: "write #require FEATURE..., for example #require root cgroup2")
    }
    for word in words {
      requirements.append(TranscriptRequirement(feature: try parseFeature(word, number: number), line: number))
    }
  }

  /// `#pictures ascii 100`: the charset and the width `draw` draws with in this file, as the
  /// terminal it was recorded in had them (docs/transcripts.md).
  private mutating func picturesDirective(_ words: [(text: String, column: Int)], number: Int)
    throws(TranscriptParseError)
  {
    try atTopLevel("#pictures", number: number)
    if pictures != nil {
      throw error(number, 1, "second #pictures line", fix: "a file draws in one style: keep one #pictures line")
    }
    guard words.count == 2 else {
      throw error(number, 1, "#pictures takes a charset and a width", fix: "write #pictures ascii 80")
    }
    guard let charset = PictureStyle.Charset(rawValue: words[0].text) else {
      throw error(
        number, words[0].column, "unknown charset \(TranscriptParseError.quote(words[0].text)) in #pictures",
        fix: "the charsets are unicode and ascii")
    }
    guard let width = Int(words[1].text), (PictureStyle.minimumWidth...1000).contains(width) else {
      throw error(
        number, words[1].column, "bad width \(TranscriptParseError.quote(words[1].text)) in #pictures",
        fix: "a number of columns from \(PictureStyle.minimumWidth) to 1000")
    }
    pictures = PictureStyle(charset: charset, width: width)
  }

  /// `#backends real, rootless` or `#backends sim real`: commas and spaces both separate names.
  private mutating func backendsDirective(_ line: [Unicode.Scalar], from: Int, number: Int) throws(TranscriptParseError)
  {
    try atTopLevel("#backends", number: number)
    if backends != nil {
      throw error(number, 1, "second #backends line", fix: "list every backend on one #backends line")
    }
    var names: [Backend] = []
    var current = String.UnicodeScalarView()
    var start = from
    for j in from...line.count {
      if j == line.count || line[j] == " " || line[j] == "," {
        if !current.isEmpty {
          let name = String(current)
          guard let backend = Backend(rawValue: name) else {
            let all = Backend.allCases.map(\.rawValue)
            let near = Nearest.match(name, in: all).map { "did you mean \($0)? " } ?? ""
            throw error(
              number, start + 1, "unknown backend \(TranscriptParseError.quote(name)) in #backends",
              fix: near + "backends are " + all.joined(separator: ", "))
          }
          if !names.contains(backend) { names.append(backend) }
        }
        current = String.UnicodeScalarView()
      } else {
        if current.isEmpty { start = j }
        current.append(line[j])
      }
    }
    guard !names.isEmpty else {
      throw error(number, 1, "#backends needs at least one backend", fix: "write #backends real, rootless")
    }
    backends = names
  }

  private func parseFeature(_ word: (text: String, column: Int), number: Int) throws(TranscriptParseError)
    -> TranscriptFeature
  {
    if let feature = TranscriptFeature(rawValue: word.text) { return feature }
    let near = Nearest.match(word.text, in: TranscriptFeature.names).map { "did you mean \($0)? " } ?? ""
    throw error(
      number, word.column, "unknown feature \(TranscriptParseError.quote(word.text))",
      fix: near + "features are " + TranscriptFeature.names.joined(separator: " "))
  }

  /// `#require` and `#backends` decide whether the whole file runs; inside `#if` they would read as
  /// if they applied to the block only, so they are refused there.
  private func atTopLevel(_ directive: String, number: Int) throws(TranscriptParseError) {
    if let open = openIfs.last {
      throw error(
        number, 1, "\(directive) inside the #if at line \(open.line)",
        fix: "\(directive) applies to the whole file; move it above the first step")
    }
  }

  private func noArguments(_ keyword: String, _ words: [(text: String, column: Int)], number: Int)
    throws(TranscriptParseError)
  {
    if let first = words.first {
      throw error(
        number, first.column, "#\(keyword) takes no argument", fix: "remove \(TranscriptParseError.quote(first.text))")
    }
  }

  private func error(_ line: Int, _ column: Int, _ message: String, fix: String? = nil) -> TranscriptParseError {
    TranscriptParseError(path: path, line: line, column: column, message: message, fix: fix)
  }
}
