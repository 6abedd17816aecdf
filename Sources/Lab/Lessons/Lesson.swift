import Kernel

/// A lesson (lessons/README.md): a Markdown file with a front matter and one `## Title {#step-id}`
/// heading per step. Parse one with `Lesson.parse(path:text:)`; run one with `LessonRunner`.
///
/// A lesson teaches by doing: each step explains one idea, its `lab` block shows it on the lab,
/// its `expect` block says what must be true afterwards, and a `check` block turns the step into
/// an exercise the learner solves with their own commands.
public struct Lesson: Equatable, Sendable {
  /// The path to show in messages (`lessons/01-uts.md`); never opened by this module.
  public let path: String
  /// `id:` from the front matter: what `lesson ID` takes, and the name of the progress file.
  public let id: String
  /// The line of `id:`, for "ids are unique" findings.
  public let idLine: Int
  public let title: String
  /// `requires:` features (the names of `#require`, docs/transcripts.md): the lesson needs them on
  /// the backend it runs on.
  public let requires: [TranscriptFeature]
  /// `no-rootless:` why the lesson cannot run on the rootless backend (nil: it can). A lesson
  /// that needs the machine's root says so with the reason, so `lint --backend all` and
  /// `lesson ID` on rootless print the reason rather than fail halfway.
  public let rootlessReason: String?
  /// The prose between the front matter and the first step.
  public let intro: [String]
  public let steps: [LessonStep]

  public init(
    path: String, id: String, idLine: Int, title: String, requires: [TranscriptFeature], intro: [String],
    steps: [LessonStep], rootlessReason: String? = nil
  ) {
    self.path = path
    self.id = id
    self.idLine = idLine
    self.title = title
    self.requires = requires
    self.rootlessReason = rootlessReason
    self.intro = intro
    self.steps = steps
  }
}

/// One `## Title {#id}` section of a lesson.
public struct LessonStep: Equatable, Sendable {
  public let id: String
  public let title: String
  /// The line of the heading.
  public let line: Int
  /// Prose shown when the learner arrives at the step (everything before the `lab` block).
  public let before: [String]
  /// Prose shown once the `lab` block ran (everything after it).
  public let after: [String]
  /// The commands `next` runs.
  public let lab: LessonCommandBlock?
  /// The same thing on a real Linux machine: shown, never run.
  public let shell: LessonTextBlock?
  /// What must hold right after the lab block.
  public let expect: LessonAssertionBlock?
  /// What the learner's own work must achieve.
  public let check: LessonAssertionBlock?
  /// Progressive hints, one block per `hint`.
  public let hints: [LessonTextBlock]
  /// Commands that satisfy `check`.
  public let solution: LessonCommandBlock?

  public init(
    id: String, title: String, line: Int, before: [String], after: [String], lab: LessonCommandBlock?,
    shell: LessonTextBlock?, expect: LessonAssertionBlock?, check: LessonAssertionBlock?, hints: [LessonTextBlock],
    solution: LessonCommandBlock?
  ) {
    self.id = id
    self.title = title
    self.line = line
    self.before = before
    self.after = after
    self.lab = lab
    self.shell = shell
    self.expect = expect
    self.check = check
    self.hints = hints
    self.solution = solution
  }

  /// A step with a `check` block is an exercise: the learner works until it passes.
  public var isExercise: Bool { check != nil }
}

/// The kinds of fenced block a lesson may hold (lessons/README.md).
public enum LessonBlockKind: String, CaseIterable, Sendable {
  case lab, shell, expect, check, hint, solution
}

/// A `lab` or `solution` block: REPL command lines.
public struct LessonCommandBlock: Equatable, Sendable {
  /// The line of the opening fence.
  public let line: Int
  public let commands: [LessonCommand]
}

/// One command line of a `lab` or `solution` block, with its line for messages.
public struct LessonCommand: Equatable, Sendable {
  public let line: Int
  public let text: String
}

/// A `shell` or `hint` block: text shown as it is.
public struct LessonTextBlock: Equatable, Sendable {
  public let line: Int
  public let lines: [String]
}

/// An `expect` or `check` block: assertions on the state tree.
public struct LessonAssertionBlock: Equatable, Sendable {
  public let line: Int
  public let assertions: [LessonAssertion]
}

/// Why a lesson file could not be parsed: the same shape as a transcript's (`path:line:col:
/// message`, then a fix), so the CLI reports both kinds of bad input file the same way
/// (docs/architecture.md, "Errors").
public typealias LessonParseError = TranscriptParseError
