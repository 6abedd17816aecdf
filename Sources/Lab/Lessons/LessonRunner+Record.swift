import Kernel

/// `record FILE`: the session written as a transcript (docs/transcripts.md) after every command, so
/// that `boxwalk test FILE` replays it on the same backend.
extension LessonRunner {
  func recordCommand(_ args: [String]) -> CommandResult {
    switch args.count {
    case 0:
      guard let path = recordingPath else { return .ok(["not recording: record FILE starts"]) }
      return .ok(["recording to \(escapedForTerminal(path)) (\(log.commandCount) commands so far); record stop ends it"]
      )
    case 1 where args[0] == "stop":
      guard let path = recordingPath else { return .ok(["not recording: nothing to stop"]) }
      recordingPath = nil
      return .ok([
        "stopped recording: \(escapedForTerminal(path)) holds \(log.commandCount) commands;"
          + " boxwalk test \(escapedForTerminal(path)) replays them"
      ])
    case 1:
      return startRecording(args[0])
    default:
      return .failed(usage("record", "record takes one file name"))
    }
  }

  /// `boxwalk record FILE` starts the REPL recording: the same as typing `record FILE` first.
  public func startRecording(to path: String) -> [String] {
    finish("record " + path, startRecording(path))
  }

  func startRecording(_ path: String) -> CommandResult {
    let shown = escapedForTerminal(path)
    if json {
      return .failed(
        LabError(
          "record writes text transcripts, and this session prints JSON",
          [("fix", "start boxwalk without --json to record"), ("state", "nothing was changed")]))
    }
    guard let files else {
      return .failed(LabError("this session cannot write files", [("state", "nothing was changed")]))
    }
    if let current = recordingPath {
      return .failed(
        LabError(
          "already recording to \(escapedForTerminal(current))",
          [("fix", "record stop first"), ("state", "nothing was changed")]))
    }
    if files.exists(path) {
      return .failed(
        LabError(
          "\(shown) already exists",
          [
            ("rule", "record never overwrites a file: it may be a transcript someone wrote by hand"),
            ("fix", "pick a new name, or remove the file first"), ("state", "nothing was changed"),
          ]))
    }
    recordingPath = path
    if let error = writeRecording() { return .failed(error) }
    return .ok([
      "recording to \(shown): this session from its start, each command with what it printed;",
      "the file is written after every command. record stop ends it; boxwalk test \(shown) replays it",
    ])
  }

  /// Writes the whole recording again (small files; a crash never leaves half a transcript).
  /// On failure recording stops, and the error says so.
  func writeRecording() -> LabError? {
    guard let path = recordingPath, let files else { return nil }
    do {
      try files.write(path, recordingDirectives() + TranscriptWriter.text(header: recordingHeader(path), log: log))
      return nil
    } catch {
      recordingPath = nil
      return LabError(
        "could not write the recording, so recording stopped",
        [("file", escapedForTerminal(path)), ("error", error.headline)])
    }
  }

  /// `#pictures CHARSET WIDTH` when this terminal draws otherwise than the plain style
  /// `boxwalk test` starts with (ASCII, or not 80 columns), so the pictures recorded replay as
  /// they were drawn (docs/transcripts.md).
  func recordingDirectives() -> String {
    let style = session.pictureStyle
    let plain = PictureStyle.plain
    guard style.charset != plain.charset || style.width != plain.width else { return "" }
    return "#pictures \(style.charset.rawValue) \(style.width)\n"
  }

  func recordingHeader(_ path: String) -> [String] {
    let backend = session.backend.rawValue
    return [
      "Recorded by boxwalk record on the \(backend) backend; replay it with:",
      "  boxwalk test \(path) --backend \(backend)",
      "Output is recorded exactly as printed, values of this machine included (its hostname, PIDs).",
      "To make it pass on other machines, replace them with captures such as {{host:ORIG}} or",
      "{{pid:P1}} (docs/transcripts.md), and add prose as lines that start with '# '.",
    ]
  }
}
