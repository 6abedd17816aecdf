import Kernel

/// What the transcript runner drives: one REPL session fed one line at a time, in-process (no
/// PTY, no readline), so golden tests see exactly the text a piped REPL prints.
public protocol TranscriptSession: AnyObject {
  /// The prompt the REPL shows now: `boxwalk> `, or `boxwalk[web]> ` with box web current.
  var prompt: String { get }
  /// Runs one input line; returns the printed output lines without newlines.
  func execute(_ line: String) -> [String]
  /// Tears everything down (kills boxes, removes host objects).
  func close()
}

/// Makes fresh sessions for the runner, and says what this host offers for `#require`.
public protocol TranscriptSessionFactory {
  /// Features this host has for the backend: root, real, sim, rootless, cgroup1, cgroup2, overlay, busybox.
  func features(for backend: Backend) -> Set<String>
  /// nil with a reason when the backend cannot run here.
  func unavailableReason(for backend: Backend) -> String?
  func makeSession(backend: Backend) throws -> any TranscriptSession
  /// A fresh session whose `draw` draws in `pictures` (a transcript's `#pictures`).
  func makeSession(backend: Backend, pictures: PictureStyle) throws -> any TranscriptSession
}

extension TranscriptSessionFactory {
  /// A session made as usual, its style set after: right for sessions in this process.
  public func makeSession(backend: Backend, pictures: PictureStyle) throws -> any TranscriptSession {
    let session = try makeSession(backend: backend)
    (session as? any LabSession)?.pictureStyle = pictures
    return session
  }
}
