import Lab

/// What the REPL loop drives: a session it feeds lines to, that says when to stop and how many
/// commands failed. A bare `Session` is one; so is the `LessonRunner` that wraps it with lessons.
public protocol ReplSession: TranscriptSession {
  /// Set by `quit`: the loop stops reading.
  var quitRequested: Bool { get }
  /// Failed commands, for the exit status of a piped session.
  var failures: Int { get }
  /// Whether every line prints one JSON object (then commands are not echoed).
  var jsonMode: Bool { get }
}

extension Session: ReplSession {}
extension LessonRunner: ReplSession {}
