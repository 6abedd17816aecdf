import Kernel

/// A parsed transcript (docs/transcripts.md): the text a teacher wrote, as a tree of items the
/// runner, the updater and the demo player walk. Parse one with `TranscriptFile.parse(path:text:)`.
///
/// The source lines are kept as well, because `--update` must write back every line it did not
/// change byte for byte: prose, directives and the author's layout belong to the author.
public struct TranscriptFile: Equatable, Sendable {
  /// The path to show in messages (`transcripts/03-uts.transcript`); never opened by this module.
  public let path: String
  /// The source lines, CRLF already turned into LF, without their line terminators.
  public let sourceLines: [String]
  /// Whether the source ended with a newline, so an update writes it back the same way.
  public let endsWithNewline: Bool
  /// The top-level items in file order; `#if` blocks are nested `.conditional` items.
  public let items: [TranscriptItem]
  /// Every `#require` feature with the line that asked for it. They apply to the whole file.
  public let requirements: [TranscriptRequirement]
  /// The backends from `#backends`, or nil when the file runs on every backend.
  public let backends: [Backend]?
  /// How `draw` draws in this file, from `#pictures CHARSET WIDTH` (a recording made in an ASCII
  /// or narrow terminal says so); nil for the plain style every session starts with.
  public let pictures: PictureStyle?

  public init(
    path: String, sourceLines: [String], endsWithNewline: Bool, items: [TranscriptItem],
    requirements: [TranscriptRequirement], backends: [Backend]?, pictures: PictureStyle? = nil
  ) {
    self.pictures = pictures
    self.path = path
    self.sourceLines = sourceLines
    self.endsWithNewline = endsWithNewline
    self.items = items
    self.requirements = requirements
    self.backends = backends
  }

  /// The items a run with these features walks through: each `#if` block replaced by the branch
  /// the features select, recursively. The result never contains `.conditional`.
  public func selectedItems(features: Set<String>) -> [TranscriptItem] {
    Self.select(items, features)
  }

  /// Every step in the file, in every branch of every `#if` (for lint and tooling).
  public var allSteps: [TranscriptStep] {
    Self.steps(in: items)
  }

  private static func select(_ items: [TranscriptItem], _ features: Set<String>) -> [TranscriptItem] {
    var out: [TranscriptItem] = []
    for item in items {
      if case .conditional(_, let feature, let then, let otherwise) = item {
        out += select(features.contains(feature.rawValue) ? then : otherwise, features)
      } else {
        out.append(item)
      }
    }
    return out
  }

  private static func steps(in items: [TranscriptItem]) -> [TranscriptStep] {
    items.flatMap { item -> [TranscriptStep] in
      switch item {
      case .step(let step): return [step]
      case .conditional(_, _, let then, let otherwise): return steps(in: then) + steps(in: otherwise)
      default: return []
      }
    }
  }
}

/// One `#require` feature and the line it was written on (for the SKIP reason).
public struct TranscriptRequirement: Equatable, Sendable {
  public let feature: TranscriptFeature
  public let line: Int
}

/// What a transcript is made of. Line numbers are 1-based, as editors show them.
public enum TranscriptItem: Equatable, Sendable {
  /// An unindented line of prose: the lesson text around the commands.
  case narrative(line: Int, text: String)
  /// A command and the output it must print.
  case step(TranscriptStep)
  /// `#pause [caption]`: the demo player waits here; tests ignore it.
  case pause(line: Int, caption: String)
  /// `#sleep DURATION`: a fixed, cosmetic demo pause; tests ignore it.
  case sleep(line: Int, duration: Duration)
  /// `#if FEATURE` ... `#else` ... `#endif`: which branch runs depends on the host.
  case conditional(line: Int, feature: TranscriptFeature, then: [TranscriptItem], otherwise: [TranscriptItem])
}

/// An input line (`  boxwalk[web]> hostname`) with the expected output lines under it.
public struct TranscriptStep: Equatable, Sendable {
  /// The line of the input.
  public let line: Int
  /// The prompt as the REPL prints it, with its trailing space: `boxwalk[web]> `.
  public let prompt: String
  /// The command after the prompt, sent to the session as one line.
  public let command: String
  /// The input line as written, without the indent: `boxwalk[web]> hostname`.
  public let input: String
  /// The expected output. Empty means the command must print nothing.
  public let expected: [TranscriptExpectedLine]
  /// The last source line that belongs to the step (its input line when it expects no output).
  public let lastLine: Int

  public init(
    line: Int, prompt: String, command: String, input: String, expected: [TranscriptExpectedLine],
    lastLine: Int
  ) {
    self.line = line
    self.prompt = prompt
    self.command = command
    self.input = input
    self.expected = expected
    self.lastLine = lastLine
  }
}

/// One expected output line: a pattern for exactly one actual line, or `...` for any number.
public struct TranscriptExpectedLine: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    /// `...`: zero or more lines of any text (cram's and doctest's ellipsis, on a line of its own
    /// so it can never be confused with output).
    case anyLines
    /// A whole-line pattern. An `optional` line (` (?)` suffix) may be missing from the output.
    case pattern([TranscriptPatternPart], optional: Bool)
  }

  /// The source line.
  public let line: Int
  /// The text as written after the two-space indent, trailing whitespace removed (so the failure
  /// diff and `--update` show the author's own pattern, `{{host:ORIG}}`, not a regex).
  public let text: String
  public let kind: Kind
  /// The pattern's parts as they are compared (`TranscriptMatcher`): each literal piece with its
  /// runs of spaces collapsed (`TranscriptNormalizer.literal`). Done once here, when the line is
  /// read, rather than on every match: many lines are aligned tables, and collapsing them again
  /// for every run of every step cost more than comparing them. Empty for `...`.
  let comparableParts: [TranscriptPatternPart]

  public init(line: Int, text: String, kind: Kind) {
    self.line = line
    self.text = text
    self.kind = kind
    guard case .pattern(let parts, _) = kind else {
      comparableParts = []
      return
    }
    comparableParts = parts.map { part in
      guard case .literal(let literal) = part else { return part }
      return .literal(TranscriptNormalizer.literal(literal))
    }
  }
}

/// A piece of an expected line: literal text, or a `{{...}}` token.
public enum TranscriptPatternPart: Equatable, Sendable {
  case literal(String)
  case token(TranscriptToken)
}

/// A `{{...}}` token: the only places where an expected line is not literal text.
public enum TranscriptToken: Equatable, Sendable {
  /// `{{*}}`: any text within the line, as little as possible.
  case anyText
  /// `{{class}}` (name nil) or `{{class:NAME}}`, a capture bound at its first match.
  case value(TranscriptClass, name: String?)
  /// `{{re:REGEX}}`: a Swift `Regex`, for what no class covers (and for literal `{{`).
  case regex(String)
}
