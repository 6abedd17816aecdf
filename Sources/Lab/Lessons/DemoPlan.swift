import Kernel

/// What `boxwalk replay` shows, in order, for a transcript (lessons/README.md, "A lesson as a
/// demo"): captions from the narrative, `#pause` and `#sleep` points, and the commands to type and
/// run. Pure: the CLI does the typing, the waiting and the terminal; this decides what comes when.
///
/// `--from N` / `--to M` pick commands by number (the Nth input line the host's features select,
/// counting from 1). Commands before N still run, quietly, because later commands depend on the
/// state they build; narrative and pauses around them are left out. Nothing after M runs.
public struct DemoPlan: Equatable, Sendable {
  public enum Event: Equatable, Sendable {
    /// A narrative line, without its leading `# `.
    case caption(String)
    /// `#pause [caption]`.
    case pause(String)
    /// `#sleep DURATION`.
    case sleep(Duration)
    /// A command: `number` counts from 1; a `quiet` one sets the stage before `--from`.
    case command(number: Int, step: TranscriptStep, quiet: Bool)
  }

  public let events: [Event]
  /// How many commands the file has for these features.
  public let commandCount: Int

  public init(file: TranscriptFile, features: Set<String>, from: Int? = nil, to: Int? = nil) throws(LabError) {
    let items = file.selectedItems(features: features)
    let total = items.reduce(0) { n, item in
      if case .step = item { return n + 1 }
      return n
    }
    let first = from ?? 1
    let last = to ?? total
    func rangeError(_ headline: String) -> LabError {
      LabError(
        headline,
        [
          ("file", "\(file.path) has \(total) command\(total == 1 ? "" : "s") on this backend, numbered from 1"),
          ("fix", "pick --from and --to between 1 and \(total), --from not after --to"),
        ])
    }
    guard total > 0 else { throw LabError("\(file.path) has no commands to replay on this backend") }
    guard first >= 1, first <= total else { throw rangeError("--from \(first) is not a command of the file") }
    guard last >= 1, last <= total else { throw rangeError("--to \(last) is not a command of the file") }
    guard first <= last else { throw rangeError("--from \(first) comes after --to \(last)") }

    var events: [Event] = []
    // Captions and pauses wait for the next command: they belong to it, and go if it is quiet.
    var pending: [Event] = []
    var number = 0
    for item in items {
      switch item {
      case .narrative(_, let text): pending.append(.caption(Self.caption(text)))
      case .pause(_, let caption): pending.append(.pause(caption))
      case .sleep(_, let duration): pending.append(.sleep(duration))
      case .step(let step):
        number += 1
        if number > last { break }
        if number < first {
          pending = []
          events.append(.command(number: number, step: step, quiet: true))
        } else {
          events += pending
          pending = []
          events.append(.command(number: number, step: step, quiet: false))
        }
      case .conditional:
        break  // selectedItems never returns one
      }
      if number > last { break }
    }
    if last == total { events += pending }
    self.events = events
    self.commandCount = total
  }

  /// `# Some prose` -> `Some prose`; `#` alone -> an empty line.
  static func caption(_ text: String) -> String {
    guard text.hasPrefix("#") else { return text }
    let rest = text.dropFirst()
    return String(rest.hasPrefix(" ") ? rest.dropFirst() : rest)
  }

  /// Why the file cannot be replayed on this backend (its `#backends` or `#require`), or nil.
  public static func unavailableReason(_ file: TranscriptFile, backend: Backend, features: Set<String>) -> String? {
    if let wanted = file.backends, !wanted.contains(backend) {
      return "#backends \(wanted.map(\.rawValue).joined(separator: ", ")) does not include \(backend.rawValue)"
    }
    let missing = file.requirements.filter { !features.contains($0.feature.rawValue) }
    guard let first = missing.first else { return nil }
    return "#require \(missing.map(\.feature.rawValue).joined(separator: " ")) (line \(first.line)):"
      + " not available on backend \(backend.rawValue) here"
  }
}

/// Compares what a live demo printed with what the file says, step by step, with the same
/// matcher and captures as `boxwalk test`: a divergence is marked, and the demo goes on.
public final class DemoChecker {
  private let matcher = TranscriptMatcher()
  private var bindings = TranscriptBindings()

  public init() {}

  /// nil when the step matched; otherwise the unified diff, expected against actual.
  public func divergence(_ step: TranscriptStep, prompt: String, printed: [String]) -> [String]? {
    let actual = TranscriptNormalizer.output(printed)
    let result = TranscriptRunner.check(step, prompt: prompt, actual: actual, bindings: bindings, matcher: matcher)
    bindings = result.bindings
    return result.diff
  }
}
