/// Every command the current lab session ran, with the prompt before it and what it printed: the
/// material `record` writes as a transcript.
///
/// The log starts empty with each fresh session. When `back` or `reset` rebuilds the lab, the
/// rebuilt session's log holds the replayed commands, so a recording always says exactly how to
/// build the current state from nothing, and `boxwalk test` can replay it.
struct SessionLog {
  enum Entry: Equatable {
    /// A line of prose, written as `# text`.
    case note(String)
    case command(prompt: String, line: String, output: [String])
  }

  private(set) var entries: [Entry] = []

  var commandCount: Int {
    entries.reduce(0) { n, e in
      if case .command = e { return n + 1 }
      return n
    }
  }

  mutating func note(_ text: String) { entries.append(.note(text)) }

  mutating func command(prompt: String, line: String, output: [String]) {
    entries.append(.command(prompt: prompt, line: line, output: output))
  }

  mutating func clear() { entries = [] }
}

/// Turns a session log into transcript text (docs/transcripts.md) that `boxwalk test` accepts:
/// two-space indented input lines after their prompt, output lines under them, prose as `# ` lines.
enum TranscriptWriter {
  static func text(header: [String], log: SessionLog) -> String {
    var lines = header.map { "# " + $0 }
    for entry in log.entries {
      switch entry {
      case .note(let text):
        lines.append("")
        lines.append(text.isEmpty ? "#" : "# " + text)
      case .command(let prompt, let line, let output):
        lines.append("  " + TranscriptNormalizer.trimRight(prompt) + " " + line)
        for out in TranscriptNormalizer.output(output) {
          lines.append(out.isEmpty ? "" : "  " + literal(out))
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// An output line written so the transcript parser reads it back as exactly that text. Only a
  /// few things are special in an expected line: `{{` starts a token, a lone `...` means any
  /// lines, a ` (?)` suffix marks an optional line, and a line that looks like a prompt would
  /// start a new step. Each is written as a `{{re:...}}` token that matches itself.
  static func literal(_ line: String) -> String {
    var text = line.replacingAll("{{", with: "{{re:\\{\\{}}")
    let trimmed = text.drop { $0 == " " }
    if trimmed == "..." { text = String(text.dropLast(3)) + "{{re:\\.\\.\\.}}" }
    if text.hasSuffix(" (?)") { text = String(text.dropLast(4)) + " {{re:\\(\\?\\)}}" }
    if text.hasPrefix("boxwalk") { text = "{{re:b}}" + text.dropFirst() }
    return text
  }
}

extension String {
  /// Every occurrence of `target` replaced (Foundation's replacingOccurrences, which Lab does not
  /// import).
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty, contains(target) else { return self }
    var out = ""
    var rest = self[...]
    while let range = rest.firstRange(of: target) {
      out += rest[..<range.lowerBound]
      out += replacement
      rest = rest[range.upperBound...]
    }
    return out + rest
  }
}
