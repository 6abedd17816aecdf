import Foundation
import Glibc
import Hummingbird
import Kernel
import Logging
import NIOCore
import ServiceLifecycle

/// `boxwalk daemon`: serves lab sessions over HTTP/1.1 on a Unix socket until SIGTERM or SIGINT,
/// then tears every session down and removes its socket (docs/daemon.md).
public struct DaemonServer {
  public let socketPath: String
  /// `--listen`: a loopback TCP port beside the socket, or nil for none (the default: no TCP
  /// listener exists at all).
  public let tcp: TCPListener?
  public let backends: DaemonBackends
  /// Where one line per request goes (standard error for the command line).
  public let log: @Sendable (String) -> Void

  public init(
    socketPath: String, tcp: TCPListener? = nil, backends: DaemonBackends,
    log: @escaping @Sendable (String) -> Void
  ) {
    self.socketPath = socketPath
    self.tcp = tcp
    self.backends = backends
    self.log = log
  }

  /// Why the daemon cannot start, as the lines of a refusal.
  public struct Refusal: Error, Sendable {
    public var lines: [String]
  }

  /// Serves until a signal; `ready` is called once every listener accepts connections, with the
  /// TCP port the kernel gave `--listen` (nil without it).
  public func run(ready: @escaping @Sendable (_ tcpPort: Int?) -> Void = { _ in }) async throws {
    let claim = try SocketClaim.take(socketPath)
    defer { claim.release() }
    let registry = SessionRegistry()
    var logger = Logger(label: "boxwalk-daemon")
    logger.logLevel = .error
    let path = socketPath
    let serverName = "boxwalk/\(DaemonAPI.version)"
    let started = StartCount(listeners: tcp == nil ? 1 : 2, ready: ready)
    var services: [any Service] = [
      Application(
        router: DaemonAPI.router(registry: registry, backends: backends, log: log),
        configuration: .init(address: .unixDomainSocket(path: path), serverName: serverName),
        onServerRunning: { _ in
          // bind(2) made the socket with the process umask; connect(2) needs write permission on
          // it (unix(7)), so 0600 lets only the owner (and root, which skips the check) in. The
          // directory's 0700 already kept everyone else out before this chmod.
          chmod(path, 0o600)
          started.one(port: nil)
        },
        logger: logger)
    ]
    if let tcp {
      // The same sessions behind a second router, whose middleware wants the token instead of
      // peer credentials.
      services.append(
        Application(
          router: DaemonAPI.router(registry: registry, backends: backends, tcp: tcp, log: log),
          configuration: .init(address: .hostname(tcp.host, port: tcp.port), serverName: serverName),
          onServerRunning: { channel in started.one(port: channel.localAddress?.port) },
          logger: logger))
    }
    // SIGTERM and SIGINT start a graceful shutdown of every listener: no new connections,
    // requests in flight finish (a step is never cut in half), then `run` returns.
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    do {
      try await group.run()
    } catch {
      await registry.closeAll()
      throw error
    }
    await registry.closeAll()
  }
}

/// Calls `ready` once, when the last listener is up, with the TCP port if there is one.
private final class StartCount: @unchecked Sendable {
  private let lock = NSLock()
  private var left: Int
  private var port: Int?
  private let ready: @Sendable (Int?) -> Void

  init(listeners: Int, ready: @escaping @Sendable (Int?) -> Void) {
    left = listeners
    self.ready = ready
  }

  func one(port: Int?) {
    let done: Bool = lock.withLock {
      if let port { self.port = port }
      left -= 1
      return left == 0
    }
    if done { ready(lock.withLock { self.port }) }
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
