import Glibc

/// Runs the simulated half of many sessions on worker threads while the tester's own thread
/// runs the real half. The simulator touches nothing on the host and needs neither root nor the
/// real-kernel lock, so its sessions can run ahead, also while the tester waits for the lock:
/// on a machine where the debug build spends most of a session in the simulator's REPL, the two
/// halves overlapping is most of what `--jobs 2` gains.
///
/// Each worker has its own working directory and image store (`Differential.run(slot:)`), and
/// runs at most `window` sessions ahead of the one the tester is comparing, so a long run never
/// holds thousands of finished runs in memory.
final class SimPool: @unchecked Sendable {
  private let differential: Differential
  private let sessions: [[String]]
  private let window: Int
  private var mutex = pthread_mutex_t()
  private var changed = pthread_cond_t()
  /// Guarded by `mutex`.
  private var next = 0
  private var consumed = 0
  private var results: [Int: Differential.Run] = [:]
  private var threads: [pthread_t] = []

  init(differential: Differential, sessions: [[String]], workers: Int, window: Int) {
    self.differential = differential
    self.sessions = sessions
    self.window = max(window, workers)
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&changed, nil)
    for worker in 0..<max(workers, 1) {
      let context = Unmanaged.passRetained(WorkerContext(pool: self, slot: "sim\(worker + 1)")).toOpaque()
      var thread = pthread_t()
      let rc = pthread_create(
        &thread, nil,
        { raw in
          guard let raw else { return nil }
          let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
          context.pool.work(slot: context.slot)
          return nil
        }, context)
      if rc == 0 { threads.append(thread) }
    }
  }

  private final class WorkerContext {
    let pool: SimPool
    let slot: String
    init(pool: SimPool, slot: String) {
      self.pool = pool
      self.slot = slot
    }
  }

  private func work(slot: String) {
    while true {
      pthread_mutex_lock(&mutex)
      while next < sessions.count && next - consumed >= window { pthread_cond_wait(&changed, &mutex) }
      guard next < sessions.count else {
        pthread_mutex_unlock(&mutex)
        return
      }
      let index = next
      next += 1
      pthread_mutex_unlock(&mutex)
      let run = differential.run(sessions[index], on: "sim", slot: slot)
      pthread_mutex_lock(&mutex)
      results[index] = run
      pthread_cond_broadcast(&changed)
      pthread_mutex_unlock(&mutex)
    }
  }

  /// The simulated run of session `index` (waits for it), which lets the workers start the
  /// session `window` places further on.
  func take(_ index: Int) -> Differential.Run {
    pthread_mutex_lock(&mutex)
    while true {
      if let run = results.removeValue(forKey: index) {
        consumed = max(consumed, index + 1)
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        return run
      }
      pthread_cond_wait(&changed, &mutex)
    }
  }

  /// Waits for the workers to finish (every session taken or run).
  func join() {
    for thread in threads { pthread_join(thread, nil) }
  }
}

/// The real-kernel lock: flock(2) on a file every user of the real backend on this machine
/// agrees on (the same lock `flock(1) /tmp/boxwalk-real.lock CMD` takes), so two runs never
/// create namespaces, mounts and cgroups at the same time. Held per batch of sessions, not for
/// the whole run, so others can run their tests between batches.
struct RealKernelLock {
  let path: String
  private var fd: Int32 = -1

  init(path: String) { self.path = path }

  mutating func acquire() throws {
    guard fd < 0 else { return }
    let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
    guard opened >= 0 else { throw DiffTestError("open \(path): \(String(cString: strerror(errno)))") }
    while flock(opened, LOCK_EX) != 0 {
      if errno == EINTR { continue }
      let message = String(cString: strerror(errno))
      close(opened)
      throw DiffTestError("flock \(path): \(message)")
    }
    fd = opened
  }

  mutating func release() {
    guard fd >= 0 else { return }
    // Closing the last descriptor of the open file description releases the lock (flock(2)).
    close(fd)
    fd = -1
    // flock(2) is not a queue: releasing wakes every waiter, and whoever asks first gets the
    // lock, which is this process, already running, when it asks again for its next batch. A
    // run of many batches then kept the lock from everyone else (seen: batch after batch with
    // eight others waiting). A pause lets a woken waiter, which needs the CPU first on a busy
    // machine, take its turn; with nobody waiting it costs two seconds a batch.
    usleep(2_000_000)
  }
}
