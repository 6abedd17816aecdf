import Foundation
import Lab

/// One thread that owns one lab session: every command of the session runs on it, one at a time,
/// in the order the requests arrived.
///
/// Why a thread of its own rather than the server's tasks: the real backend spawns one helper
/// process per box with PR_SET_PDEATHSIG (prctl(2)), and the kernel sends that signal when the
/// *thread* that forked the helper exits, not the process. A session's helpers must live exactly
/// as long as the session, so they are all forked from this thread, which ends only after the
/// session is torn down. The queue also makes a session serial: two clients posting to one
/// session never run two steps at once, and every posted line runs exactly once, to the end, even
/// if its client hangs up half way (the reply is then simply not read).
final class LabWorker: @unchecked Sendable {
  private let condition = NSCondition()
  /// Guarded by `condition`.
  private var jobs: [() -> Void] = []
  private var stopping = false
  /// Touched only on the worker thread.
  private var session: Session?

  /// Starts the thread and makes the session on it; throws what `make` threw.
  init(name: String, make: @escaping @Sendable () throws -> Session) async throws {
    let thread = Thread { self.loop() }
    thread.name = name
    // The lab renders state trees recursively; give it the main thread's usual 8 MiB, not the
    // smaller default of secondary threads.
    thread.stackSize = 8 << 20
    thread.start()
    do {
      try await perform({ _ in () }, setUp: make)
    } catch {
      // The session could not start: let the thread end rather than idle forever.
      await close()
      throw error
    }
  }

  /// Runs `body` with the session on the worker thread and returns its result.
  func run<T: Sendable>(_ body: @escaping @Sendable (Session) -> T) async throws -> T {
    try await perform(body, setUp: nil)
  }

  private func perform<T: Sendable>(
    _ body: @escaping @Sendable (Session) -> T, setUp: (@Sendable () throws -> Session)?
  ) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      let job: () -> Void = {
        do {
          if let setUp { self.session = try setUp() }
          guard let session = self.session else { throw LabWorkerError.closed }
          continuation.resume(returning: body(session))
        } catch {
          continuation.resume(throwing: error)
        }
      }
      condition.lock()
      defer { condition.unlock() }
      guard !stopping else {
        continuation.resume(throwing: LabWorkerError.closed)
        return
      }
      jobs.append(job)
      condition.signal()
    }
  }

  /// Tears the session down on its thread (every box and host object it made), then lets the
  /// thread end. Jobs queued before it still run first; later ones are refused.
  func close() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      condition.lock()
      defer { condition.unlock() }
      guard !stopping else {
        continuation.resume()
        return
      }
      stopping = true
      jobs.append {
        self.session?.close()
        self.session = nil
        continuation.resume()
      }
      condition.signal()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty && !stopping { condition.wait() }
      if jobs.isEmpty {
        condition.unlock()
        return
      }
      let job = jobs.removeFirst()
      condition.unlock()
      job()
    }
  }
}

enum LabWorkerError: Error, CustomStringConvertible {
  case closed
  var description: String { "the session was closed" }
}
