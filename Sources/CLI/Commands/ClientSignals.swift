import CShim
import Dispatch
import Foundation
import Glibc

/// What a daemon's client does when it is told to die (docs/daemon.md, "A client that is told to
/// die"): the sessions it made live in the daemon, not in this process, so no kernel teardown
/// would end them. SIGTERM, SIGHUP (and SIGINT where it ends the program) delete every session
/// this process made, then exit 128 + the signal, as the in-process REPL's teardown does.
enum ClientSignals {
  /// The sessions this process made in a daemon and has not deleted yet.
  static let live = LiveSessions()

  final class LiveSessions: @unchecked Sendable {
    private let lock = NSLock()
    private var sessions: [String: DaemonClient] = [:]

    func add(_ id: String, _ client: DaemonClient) { lock.withLock { sessions[id] = client } }
    func remove(_ id: String) { _ = lock.withLock { sessions.removeValue(forKey: id) } }
    func all() -> [(String, DaemonClient)] { lock.withLock { sessions.sorted { $0.key < $1.key } } }
  }

  /// Installs the handlers once. `interrupt`: SIGINT ends the program too (no terminal, or a
  /// command such as `test` that does not read lines; at a terminal the REPL clears the line).
  static func install(interrupt: Bool) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return }
    // Close-on-exec: a program a session starts must not hold the pipe.
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let readEnd = fds[0]
    let thread = Thread {
      var byte: UInt8 = 0
      while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
      end(signal: Int32(byte))
    }
    thread.name = "boxwalk-client-signals"
    thread.start()
    _ = bw_install_client_signal_handlers(fds[1], interrupt ? 1 : 0)
  }

  /// Deletes every live session (DELETE /v1/sessions/{id}: the daemon ends a step that is running
  /// first, then tears the session down) and exits. A daemon that does not answer within 10 s
  /// is left to its own teardown; the exit does not wait longer.
  private static func end(signal: Int32) -> Never {
    DispatchQueue.global().asyncAfter(deadline: .now() + 10) { _exit(128 + signal) }
    for (id, client) in live.all() {
      _ = try? client.call(.DELETE, "/v1/sessions/\(id)")
      live.remove(id)
    }
    // No fflush(nil): it takes the lock of every stream, stdin's too, which the main thread holds
    // while it waits for a line (the exit then waited for the watchdog). Nothing is pending:
    // Terminal.write flushes after every step.
    _exit(128 + signal)
  }
}
