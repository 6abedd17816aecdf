import Kernel

/// Replays transcripts as golden tests (`boxwalk test`; docs/transcripts.md).
///
/// Each file runs in a fresh session per backend, so one file's boxes never leak into the next
/// and captures are scoped to file × backend. Commands go to `TranscriptSession.execute` in
/// process, never through readline or a terminal, so there is no prompt sniffing and no escape
/// sequence to strip: the step ends when `execute` returns.
public struct TranscriptRunner {
  public let factory: any TranscriptSessionFactory

  public init(factory: any TranscriptSessionFactory) {
    self.factory = factory
  }

  /// Runs every step the host's features select, and reports pass, fail (every failing step, not
  /// just the first: the run goes on so the whole file is exercised) or skip with the reason.
  /// `#pause` and `#sleep` are for demos and are ignored here.
  public func run(file: TranscriptFile, backend: Backend) -> TranscriptResult {
    if let reason = skipReason(file, backend) {
      return TranscriptResult(path: file.path, backend: backend, outcome: .skip(reason), steps: [])
    }
    let session: any TranscriptSession
    do {
      session =
        try file.pictures.map { try factory.makeSession(backend: backend, pictures: $0) }
        ?? factory.makeSession(backend: backend)
    } catch {
      return TranscriptResult(
        path: file.path, backend: backend, outcome: .error("could not start a \(backend.rawValue) session: \(error)"),
        steps: [])
    }
    // Close even when steps fail: a real-backend session holds boxes and host objects.
    defer { session.close() }

    let matcher = TranscriptMatcher()
    var bindings = TranscriptBindings()
    var runs: [TranscriptStepRun] = []
    var failures: [TranscriptStepFailure] = []
    for item in file.selectedItems(features: features(backend)) {
      guard case .step(let step) = item else { continue }
      let prompt = session.prompt
      let actual = TranscriptNormalizer.output(session.execute(step.command))
      let before = bindings
      let outcome = Self.check(step, prompt: prompt, actual: actual, bindings: bindings, matcher: matcher)
      bindings = outcome.bindings
      if let diff = outcome.diff {
        failures.append(
          TranscriptStepFailure(line: step.line, input: step.input, diff: diff, bindings: bindings.summary))
      }
      runs.append(
        TranscriptStepRun(
          step: step, actualPrompt: prompt, actual: actual, passed: outcome.diff == nil, bindingsBefore: before,
          bindingsAfter: bindings))
    }
    let outcome: TranscriptOutcome = failures.isEmpty ? .pass : .fail(failures)
    return TranscriptResult(path: file.path, backend: backend, outcome: outcome, steps: runs)
  }

  /// The features `#require` and `#if` see: the factory's, plus the backend's own name, so that
  /// `#if sim` holds on the sim backend whatever the factory says.
  func features(_ backend: Backend) -> Set<String> {
    factory.features(for: backend).union([backend.rawValue])
  }

  /// Why the file must not run on this backend, or nil. Order: the file's own `#backends` first
  /// (a file for `real` is not "unavailable" on sim, it is simply not for sim), then the host.
  func skipReason(_ file: TranscriptFile, _ backend: Backend) -> String? {
    if let wanted = file.backends, !wanted.contains(backend) {
      return "#backends \(wanted.map(\.rawValue).joined(separator: ", ")) does not include \(backend.rawValue)"
    }
    if let reason = factory.unavailableReason(for: backend) {
      return "backend \(backend.rawValue) unavailable: \(reason)"
    }
    let have = features(backend)
    let missing = file.requirements.filter { !have.contains($0.feature.rawValue) }
    guard !missing.isEmpty else { return nil }
    var names: [String] = []
    var lines: [String] = []
    for requirement in missing {
      if !names.contains(requirement.feature.rawValue) { names.append(requirement.feature.rawValue) }
      if !lines.contains(String(requirement.line)) { lines.append(String(requirement.line)) }
    }
    return "#require \(names.joined(separator: " ")) (line \(lines.joined(separator: ", "))): "
      + "not available on backend \(backend.rawValue) here"
  }

  /// The result of checking one step: the bindings afterwards, and the diff when it failed.
  struct StepCheck {
    var bindings: TranscriptBindings
    var diff: [String]?
  }

  /// Checks one step: the prompt shown before the command, then the output. The prompt is part of
  /// the expectation (docs/transcripts.md): `boxwalk[web]> ` says which box the command acted on,
  /// and a step that ran in the wrong box must not pass just because it printed the same text.
  static func check(
    _ step: TranscriptStep, prompt: String, actual: [String], bindings: TranscriptBindings,
    matcher: TranscriptMatcher
  ) -> StepCheck {
    let normalized = actual.map(TranscriptNormalizer.line)
    let promptMatches = TranscriptNormalizer.trimRight(prompt) == TranscriptNormalizer.trimRight(step.prompt)
    if promptMatches, let after = matcher.matchStep(step.expected, normalized, bindings) {
      return StepCheck(bindings: after, diff: nil)
    }
    let ops = TranscriptAlignment.align(step.expected, normalized, bindings, matcher)
    let after = TranscriptAlignment.bindings(ops, step.expected, normalized, bindings, matcher)
    var lines: [UnifiedDiff.Line] = []
    if promptMatches {
      lines.append(.context(indent(step.input)))
    } else {
      lines.append(.removed(indent(step.input)))
      lines.append(.added(indent(inputLine(prompt: prompt, command: step.command))))
    }
    for op in ops {
      switch op {
      case .matched(let i, _), .anyLines(let i, _), .skippedOptional(let i):
        // Lines that matched show the author's pattern, not the output (cram does the same).
        lines.append(.context(indent(step.expected[i].text)))
      case .removed(let i):
        lines.append(.removed(indent(step.expected[i].text)))
      case .added(let j):
        lines.append(.added(indent(actual[j])))
      }
    }
    return StepCheck(bindings: after, diff: UnifiedDiff.render(lines))
  }

  /// An input line as the session would have shown it: `boxwalk[web]> hostname`.
  static func inputLine(prompt: String, command: String) -> String {
    let shown = TranscriptNormalizer.trimRight(prompt)
    return command.isEmpty ? shown : shown + " " + command
  }

  /// A line as it appears in the file: two spaces of indent, none for an empty line.
  static func indent(_ text: String) -> String {
    text.isEmpty ? "" : "  " + text
  }
}
