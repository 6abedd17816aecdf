import Kernel

/// What one run of one transcript file on one backend came to.
public struct TranscriptResult: Equatable, Sendable {
  public let path: String
  public let backend: Backend
  public let outcome: TranscriptOutcome
  /// Every step that ran, in order, with what it printed (what `--update` writes back). Empty when
  /// the file was skipped or the session could not start.
  public let steps: [TranscriptStepRun]

  public init(path: String, backend: Backend, outcome: TranscriptOutcome, steps: [TranscriptStepRun]) {
    self.path = path
    self.backend = backend
    self.outcome = outcome
    self.steps = steps
  }
}

/// PASS, FAIL or SKIP. A skip is never counted as a pass: a test that could not run says nothing
/// about the code.
public enum TranscriptOutcome: Equatable, Sendable {
  case pass
  /// Every failing step, in file order (the run goes on after a failure so all of them show).
  case fail([TranscriptStepFailure])
  /// The session could not be started at all; counted as failed.
  case error(String)
  /// Why the file did not run here: a `#require` feature missing, a backend not in `#backends`,
  /// or the backend unavailable on this host.
  case skip(String)
}

/// One step that did not match.
public struct TranscriptStepFailure: Equatable, Sendable {
  /// The line of the step's input.
  public let line: Int
  /// The input line as written: `boxwalk[web]> hostname`.
  public let input: String
  /// The unified diff, expected against actual, headers included.
  public let diff: [String]
  /// The captures bound after this step, `NAME=value ...`, empty when none.
  public let bindings: String
}

/// One step as it ran: enough for the report and for `TranscriptUpdater`.
public struct TranscriptStepRun: Equatable, Sendable {
  public let step: TranscriptStep
  /// The session's prompt just before the command ran.
  public let actualPrompt: String
  /// What the command printed: trailing whitespace and trailing empty lines removed, spacing kept.
  public let actual: [String]
  public let passed: Bool
  /// The captures bound before the step ran.
  public let bindingsBefore: TranscriptBindings
  /// The captures bound after it.
  public let bindingsAfter: TranscriptBindings
}
