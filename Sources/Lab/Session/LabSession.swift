import Kernel

/// What the lesson engine, recordings and demos need of a lab session. A `Session` in this
/// process is one; so is a session that lives in a `boxwalk daemon` and is driven over its API
/// (the command line's client), which is how the REPL, `lesson`, `record` and `replay` print the
/// same text whether the lab runs here or in the daemon.
public protocol LabSession: TranscriptSession {
  /// One JSON object per executed line instead of text (`--json`).
  var jsonMode: Bool { get set }
  /// Set by `quit`: the REPL stops reading and tears down.
  var quitRequested: Bool { get }
  /// How many commands failed so far.
  var failures: Int { get }
  /// The state tree after the last step, which lesson checks read.
  var tree: StateValue { get }
  /// Box names in creation order.
  var boxNames: [String] { get }
  /// The backend the session's kernel is.
  var backend: Backend { get }
  /// How `draw` draws.
  var pictureStyle: PictureStyle { get set }
  /// The words that may complete `word` after `line` (for the REPL's Tab key).
  func completions(before line: String, word: String) -> [String]
  /// Forgets any copy of the tree kept since the last line, so the next read of `tree` sees what
  /// others did in between: a daemon's session may also be driven by another client (curl, a
  /// second REPL). Called before each command the learner types.
  func forgetCachedTree()
}

extension LabSession {
  /// An in-process session's tree is its own: no one else changes it between lines.
  public func forgetCachedTree() {}
}

extension Session: LabSession {
  public var backend: Backend { kernel.backend }
}
