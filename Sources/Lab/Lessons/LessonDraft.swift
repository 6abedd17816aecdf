import Kernel

/// `boxwalk lesson new ID --from FILE.transcript`: a first draft of a lesson from a recorded
/// session (docs/lessons.md, "Drafting a lesson from a session"). Each command of the transcript
/// becomes a step: a `lab` block with the command, a `shell` block with the equivalent shell
/// command the recording shows for it, and an `expect` block with the state paths the command
/// changed, at the values they had after it. The teacher then writes the text and turns steps
/// into exercises.
///
/// The values come from replaying the commands on `session` (the simulator, in the CLI): a
/// transcript holds the printed text, and the printed diff abbreviates values, while the session
/// gives every changed path with its exact value, the same on every backend. A command the session
/// refuses is kept as a step without an expect block and with a note, for the teacher to decide.
public enum LessonDraft {
  /// Lesson commands cannot stand in a lab block (they would drive the lesson from inside it);
  /// `record` and `quit` in a recording belong to the recording, not to the lab.
  static let skipped: Set<String> = LessonParser.forbiddenInLab

  /// The most assertions one step's expect block gets: a step that changes more (an overlay lists
  /// every file) keeps the first ones, with a comment saying how many were left out.
  static let maxAssertions = 12

  /// The `#if` branches a draft takes: the simulator's, which the values come from.
  static let simFeatures = Set(
    TranscriptFeature.allCases.map(\.rawValue).filter {
      $0 != "real" && $0 != "rootless" && $0 != "root" && $0 != "client"
    })

  public static func make(id: String, title: String, transcript: TranscriptFile, session: Session) -> String {
    var out = [
      "---", "id: \(id)", "title: \(title)", "format: 1",
    ]
    if !transcript.requirements.isEmpty {
      let features = transcript.requirements.map(\.feature.rawValue)
      out.append(
        "requires: "
          + features.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: " "))
    }
    out += [
      "---", "",
      "Drafted by boxwalk lesson new from \(transcript.path). Write the introduction here: what the learner",
      "builds, and which docker or runc behaviour it explains.",
    ]
    var prose: [String] = []
    var usedIDs: Set<String> = []
    var number = 0
    for item in transcript.selectedItems(features: Self.simFeatures) {
      switch item {
      case .narrative(_, let text):
        let body = text.hasPrefix("#") ? String(text.drop { $0 == "#" }.drop { $0 == " " }) : text
        prose.append(body)
      case .pause(_, let caption) where !caption.isEmpty:
        prose.append(caption)
      case .step(let step):
        let words = (try? WordSplitter.split(step.command)) ?? []
        guard let first = words.first, !skipped.contains(first) else { continue }
        number += 1
        let stepID = uniqueID(for: words, number: number, used: &usedIDs)
        out += [""] + draftStep(step, id: stepID, prose: prose, session: session)
        prose = []
      default: continue
      }
    }
    if number == 0 {
      out += ["", "## Nothing recorded yet {#empty}", "", "The recording had no lab commands: add steps here."]
    }
    return out.joined(separator: "\n") + "\n"
  }

  static func draftStep(_ step: TranscriptStep, id: String, prose: [String], session: Session) -> [String] {
    var out = ["## \(title(step.command)) {#\(id)}", ""]
    let text = trimBlank(prose)
    let before = session.tree
    let failuresBefore = session.failures
    let printed = session.execute(step.command)
    if session.failures > failuresBefore {
      // A refusal the recording staged (a classic mistake): a step of text, since a lab block
      // whose command fails stops the lesson. The teacher may make it an exercise's pitfall.
      out += text.isEmpty ? [] : text + [""]
      out += [
        "The recording ran `\(step.command)` here, and boxwalk refused it:", "",
        "    " + (printed.first.map(escapedForTerminal) ?? "(no output)"), "",
        "(boxwalk lesson new: a refused command cannot stand in a lab block; ask the learner to try it.)",
      ]
      return out
    }
    out += text.isEmpty ? ["Say what this step does and why."] : text
    out += ["", "```lab", step.command, "```"]
    // Every lab block has a shell block: a command that only looks (hostname, ns, show) printed
    // none, so the draft says what to write there.
    let shell =
      shellLines(step.expected.map(\.text)) ?? shellLines(printed)
      ?? ["# boxwalk lesson new: this command only looks at the lab; write what a shell user would type"]
    out += ["", "```shell"] + shell + ["```"]
    let assertions = StateDiff.between(before, session.tree).compactMap(assertion)
    if !assertions.isEmpty {
      out += ["", "```expect"] + assertions.prefix(maxAssertions)
      if assertions.count > maxAssertions {
        out.append("# and \(assertions.count - maxAssertions) more paths changed; show them with diff")
      }
      out.append("```")
    }
    return out
  }

  /// `PATH == VALUE` for a scalar, `PATH exists` for a list or map that appeared or changed,
  /// `PATH absent` for one that went.
  static func assertion(_ change: StateChange) -> String? {
    let path = change.path.description
    switch change.new {
    case nil: return path + " absent"
    case .string(let s)?: return path + " == " + JSON.quote(s)
    case .int(let n)?: return path + " == " + String(n)
    case .bool(let b)?: return path + " == " + (b ? "true" : "false")
    default: return path + " exists"
    }
  }

  /// The shell commands among printed lines (`  shell    CMD`), or nil when there are none.
  static func shellLines(_ lines: [String]) -> [String]? {
    let label = "shell    "
    let found = lines.compactMap { line -> String? in
      let trimmed = line.trimmingLeadingSpaces
      return trimmed.hasPrefix(label) ? String(trimmed.dropFirst(label.count)) : nil
    }
    return found.isEmpty ? nil : found
  }

  /// A step title from its command, for the teacher to rewrite.
  static func title(_ command: String) -> String {
    "Run " + command.replacingAll("{", "(").replacingAll("}", ")")
  }

  /// A step id from the command's first words (`box new web` -> `box-new`), numbered when taken.
  static func uniqueID(for words: [String], number: Int, used: inout Set<String>) -> String {
    let base = words.prefix(2).joined(separator: "-").lowercased().unicodeScalars
      .map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-" }
    var id = String(base).split(separator: "-").joined(separator: "-")
    if id.isEmpty { id = "step" }  // after the split, it starts with a letter or digit
    id = String(id.prefix(30))
    var candidate = id
    var n = 2
    while used.contains(candidate) {
      candidate = "\(id)-\(n)"
      n += 1
    }
    used.insert(candidate)
    return candidate
  }
}

extension String {
  fileprivate func replacingAll(_ target: Character, _ replacement: Character) -> String {
    String(map { $0 == target ? replacement : $0 })
  }
}
