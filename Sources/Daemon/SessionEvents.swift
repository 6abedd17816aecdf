import Foundation
import NIOCore

/// A session's followers: every client that holds GET /v1/sessions/{id}/events open gets each
/// step of the session as it happens, as a server-sent event (the `text/event-stream` format of
/// the HTML standard: `event:` and `data:` lines, a blank line after each event).
///
/// Steps are published on the session's own thread right after they run, so followers see them
/// in the order they ran. A follower that reads slowly gets a bounded buffer: past it, the oldest
/// events are dropped for that follower alone, never the session's progress.
final class SessionEvents: @unchecked Sendable {
  private let lock = NSLock()
  /// Guarded by `lock`.
  private var followers: [Int: AsyncStream<ByteBuffer>.Continuation] = [:]
  private var nextFollower = 0
  private var finished = false

  /// Events one slow follower may have waiting before the oldest go.
  static let buffer = 256

  /// A new follower's stream of events; it ends when the session closes (or at once if it did).
  /// `opening` comes first: a comment line (the format ignores lines that start with a colon),
  /// so the follower knows it is following before the first step comes.
  func follow(opening: String) -> (id: Int, events: AsyncStream<ByteBuffer>) {
    let (stream, continuation) = AsyncStream.makeStream(
      of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(Self.buffer))
    continuation.yield(ByteBuffer(string: opening))
    let id: Int = lock.withLock {
      nextFollower += 1
      if finished {
        continuation.finish()
      } else {
        followers[nextFollower] = continuation
      }
      return nextFollower
    }
    continuation.onTermination = { [weak self] _ in self?.unfollow(id) }
    return (id, stream)
  }

  /// Ends one follower's stream (it hung up, or the daemon is stopping).
  func unfollow(_ id: Int) {
    let continuation = lock.withLock { followers.removeValue(forKey: id) }
    continuation?.finish()
  }

  var followerCount: Int { lock.withLock { followers.count } }

  /// One step, as the JSON object a POST of the line was answered with.
  func publish(step json: String) { publish("step", data: json) }

  /// One event of `kind` with `data` (one line of JSON) to every follower.
  func publish(_ kind: String, data json: String) {
    let event = ByteBuffer(string: "event: \(kind)\ndata: " + json + "\n\n")
    let all = lock.withLock { Array(followers.values) }
    for continuation in all { continuation.yield(event) }
  }

  /// The session closed: every stream ends with a last `closed` event.
  func finish() {
    let all: [AsyncStream<ByteBuffer>.Continuation] = lock.withLock {
      finished = true
      defer { followers = [:] }
      return Array(followers.values)
    }
    for continuation in all {
      continuation.yield(ByteBuffer(string: "event: closed\ndata: {}\n\n"))
      continuation.finish()
    }
  }
}
