import Foundation
import Glibc
import Hummingbird
import Kernel
import Logging
import NIOCore

/// `boxwalk daemon`: serves lab sessions over HTTP/1.1 on a Unix socket until SIGTERM or SIGINT,
/// then tears every session down and removes its socket (docs/daemon.md).
public struct DaemonServer {
  public let socketPath: String
  public let backends: DaemonBackends
  /// Where one line per request goes (standard error for the command line).
  public let log: @Sendable (String) -> Void

  public init(socketPath: String, backends: DaemonBackends, log: @escaping @Sendable (String) -> Void) {
    self.socketPath = socketPath
    self.backends = backends
    self.log = log
  }

  /// Why the daemon cannot start, as the lines of a refusal.
  public struct Refusal: Error, Sendable {
    public var lines: [String]
  }

  /// Serves until a signal; `ready` is called once the socket accepts connections.
  public func run(ready: @escaping @Sendable () -> Void = {}) async throws {
    let claim = try SocketClaim.take(socketPath)
    defer { claim.release() }
    let registry = SessionRegistry()
    let router = DaemonAPI.router(registry: registry, backends: backends, log: log)
    var logger = Logger(label: "boxwalk-daemon")
    logger.logLevel = .error
    let path = socketPath
    let app = Application(
      router: router,
      configuration: .init(address: .unixDomainSocket(path: path), serverName: "boxwalk/\(DaemonAPI.version)"),
      onServerRunning: { _ in
        // bind(2) made the socket with the process umask; connect(2) needs write permission on
        // it (unix(7)), so 0600 lets only the owner (and root, which skips the check) in. The
        // directory's 0700 already kept everyone else out before this chmod.
        chmod(path, 0o600)
        ready()
      },
      logger: logger)
    do {
      // SIGTERM and SIGINT start a graceful shutdown: no new connections, requests in flight
      // finish (a step is never cut in half), then `runService` returns.
      try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    } catch {
      await registry.closeAll()
      throw error
    }
    await registry.closeAll()
  }
}

/// The daemon's hold on its socket path: the directory made 0700, a lock file beside the socket
/// held with flock(2) for the daemon's life, and the socket itself checked for a live server.
struct SocketClaim {
  let socketPath: String
  let lockPath: String
  let lockFD: Int32

  static func take(_ socketPath: String) throws(DaemonServer.Refusal) -> SocketClaim {
    guard socketPath.hasPrefix("/"), !socketPath.hasSuffix("/") else {
      throw DaemonServer.Refusal(lines: ["error: --socket takes an absolute path to a file, not \(socketPath)"])
    }
    // sun_path holds 108 bytes with the terminating NUL (unix(7)).
    guard socketPath.utf8.count < 108 else {
      throw DaemonServer.Refusal(lines: [
        "error: the socket path is \(socketPath.utf8.count) bytes; a Unix socket path holds at most 107",
        "  fix:     choose a shorter --socket path",
      ])
    }
    let directory = String(socketPath[..<(socketPath.lastIndex(of: "/") ?? socketPath.startIndex)])
    try makeDirectory(directory.isEmpty ? "/" : directory)

    // The lock says "a daemon owns this path" even in the instant before it binds: two daemons
    // started together cannot both pass. The kernel drops a flock when its holder dies, even on
    // SIGKILL, so a crashed daemon never blocks the next one.
    let lockPath = socketPath + ".lock"
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else {
      throw DaemonServer.Refusal(lines: ["error: open(\(JSON.quote(lockPath))): \(Errno(rawValue: errno))"])
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let owner = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(
        in: .whitespacesAndNewlines)
      close(fd)
      throw DaemonServer.Refusal(lines: [
        "error: another boxwalk daemon is serving on \(socketPath)" + (owner.map { " (pid \($0))" } ?? ""),
        "  rule:    one daemon per socket",
        "  fix:     stop it (kill -TERM PID), or start this one with --socket OTHER_PATH",
        "  state:   nothing was changed",
      ])
    }
    // Not our lock, but something answers there (a server of another program): leave it be.
    if answers(socketPath) {
      close(fd)
      throw DaemonServer.Refusal(lines: [
        "error: a server already answers on \(socketPath)",
        "  rule:    a live socket is never replaced",
        "  fix:     stop that server, or start this daemon with --socket OTHER_PATH",
        "  state:   nothing was changed",
      ])
    }
    // A socket file nothing answers on is stale (a daemon that was SIGKILLed): the server's bind
    // removes it and binds anew.
    ftruncate(fd, 0)
    let pid = "\(getpid())\n"
    _ = pid.withCString { write(fd, $0, strlen($0)) }
    return SocketClaim(socketPath: socketPath, lockPath: lockPath, lockFD: fd)
  }

  /// Removes the socket and the lock file, then drops the lock.
  func release() {
    unlink(socketPath)
    unlink(lockPath)
    close(lockFD)
  }

  /// The directory for the socket: made 0700 if missing. One that exists must be a directory of
  /// ours that no one else can write into (else another user could swap the socket for theirs).
  static func makeDirectory(_ path: String) throws(DaemonServer.Refusal) {
    var info = stat()
    if lstat(path, &info) != 0 {
      guard errno == ENOENT else {
        throw DaemonServer.Refusal(lines: ["error: lstat(\(JSON.quote(path))): \(Errno(rawValue: errno))"])
      }
      let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
      if !parent.isEmpty { try makeDirectory(parent) }
      guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
        throw DaemonServer.Refusal(lines: ["error: mkdir(\(JSON.quote(path)), 0700): \(Errno(rawValue: errno))"])
      }
      return
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw DaemonServer.Refusal(lines: ["error: \(path) is not a directory (a symbolic link is never followed)"])
    }
    if path == "/" || path == "/tmp" || path == "/run" { return }
    guard info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
      throw DaemonServer.Refusal(lines: [
        "error: \(path) is owned by uid \(info.st_uid) or writable by others: refusing to put the socket there",
        "  fix:     choose a --socket in a directory only you can write",
      ])
    }
  }

  /// Whether a server accepts connect(2) on the socket at `path`.
  static func answers(_ path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    return rc == 0
  }
}
