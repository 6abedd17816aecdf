import ArgumentParser
import Daemon
import Dispatch
import Foundation
import Glibc
import Kernel
import Lab
import LinuxBackend

/// `boxwalk daemon [--socket PATH] [--listen 127.0.0.1:PORT]`: serves lab sessions over HTTP/1.1
/// on a Unix socket (and, with `--listen`, on a loopback TCP port with a token), in the foreground, one log line per request on standard error, until SIGTERM or SIGINT, which tear
/// every session down (docs/daemon.md).
struct DaemonCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "daemon",
    abstract: "Serve lab sessions over a REST API on a Unix socket until SIGTERM or SIGINT.")

  @Option(
    help: ArgumentHelp(
      "The socket (default: /run/boxwalk/boxwalk.sock as root, else $XDG_RUNTIME_DIR/boxwalk/boxwalk.sock).",
      valueName: "path"))
  var socket: String?

  @Option(
    help: ArgumentHelp(
      "Also listen on a loopback TCP port (127.0.0.1:PORT or [::1]:PORT; port 0 picks one). Every request there needs the token printed at start, as Authorization: Bearer TOKEN, and acts as the daemon's uid.",
      valueName: "address:port"))
  var listen: String?

  /// Root's socket lives in the real backend's state root; a user's in their runtime directory
  /// (which systemd makes 0700 for them), else in the rootless backend's state root.
  static func defaultSocketPath() -> String {
    if geteuid() == 0 { return "/run/boxwalk/boxwalk.sock" }
    if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
      return runtime + "/boxwalk/boxwalk.sock"
    }
    return LinuxKernel.rootlessStateRoot() + "/boxwalk.sock"
  }

  func run() throws {
    let path = socket ?? Self.defaultSocketPath()
    // A bad --listen is refused before anything happens: no cleanup, no socket, no port.
    let tcp: TCPListener?
    do throws(TCPListener.Refusal) {
      tcp = try listen.map { (text) throws(TCPListener.Refusal) in try TCPListener.parse(text) }
    } catch {
      throw ExitError(ExitStatus.usage, error.lines)
    }
    // The daemon keeps the usual umask. Its own files are private by their modes: the socket's
    // directory is made 0700, the lock 0600, and the socket is chmod'ed 0600 once bound. A umask
    // of 077 here would also apply to everything its sessions make, since they run in this
    // process and their helpers inherit it (umask(2)): the layers of a session's image store
    // came out 0700, and a box that had switched to an unprivileged uid could no longer run
    // /bin/id from them (execvp ENOENT in 05-user through a daemon, while `boxwalk test` passed).
    signal(SIGPIPE, SIG_IGN)
    let terminal = Terminal(colour: false)
    // A daemon, like the REPL, starts by cleaning up after sessions that crashed (their helpers,
    // mounts and host objects, from their ledgers).
    if geteuid() == 0 { LabStartup.cleanUpAfterCrashes(.real, terminal: terminal) }
    let factory = LabSessionFactory()
    let backends = DaemonBackends(
      makeSession: { backend in
        do throws(ExitError) {
          return try LabStartup.session(backend, json: false, ephemeralImages: true)
        } catch {
          throw DaemonClient.Failure(description: error.lines.joined(separator: " "))
        }
      },
      features: { factory.features(for: $0).sorted() },
      unavailableReason: { factory.unavailableReason(for: $0) })
    let server = DaemonServer(socketPath: path, tcp: tcp, backends: backends) { line in
      writeStandardError("boxwalk daemon: " + line + "\n")
    }
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome()
    Task {
      do {
        try await server.run { port in
          var lines = ["boxwalk daemon: listening on unix://\(path) (pid \(getpid())); SIGTERM or Ctrl-C stops it"]
          if let tcp, let port {
            let address = tcp.host.contains(":") ? "[\(tcp.host)]:\(port)" : "\(tcp.host):\(port)"
            lines += [
              "boxwalk daemon: listening on tcp://\(address) too; every request there needs this token",
              "  token:   \(tcp.token)",
              "  header:  Authorization: Bearer \(tcp.token)",
              "  client:  BOXWALK_TOKEN=\(tcp.token) boxwalk --host tcp://\(address)",
              "  note:    a request with the token acts as uid \(geteuid()), this daemon's user (TCP carries no peer credentials)",
            ]
          }
          terminal.write(lines)
        }
      } catch let refusal as DaemonServer.Refusal {
        outcome.set(ExitError(ExitStatus.precondition, refusal.lines))
      } catch {
        outcome.set(ExitError(ExitStatus.failed, ["error: the daemon stopped: \(error)"]))
      }
      done.signal()
    }
    done.wait()
    if let error = outcome.get() { throw error }
    terminal.write(["boxwalk daemon: stopped; every session was torn down"])
  }

  /// The error the server task ended with, handed to the waiting main thread.
  final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var error: ExitError?
    func set(_ e: ExitError) { lock.withLock { error = e } }
    func get() -> ExitError? { lock.withLock { error } }
  }
}
