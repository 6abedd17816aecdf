import Foundation
import Glibc
import Hummingbird
import Kernel
import Lab
import NIOCore

/// The context each request is handled in: Hummingbird's, plus the connection it came on and
/// the peer credentials the logging middleware read from it.
public struct DaemonContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  let channel: (any Channel)?
  var peer: PeerCredentials?

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
  }

  /// Bodies larger than this are refused with 413 before they are parsed.
  public var maxUploadSize: Int { DaemonAPI.maxBodyBytes }
}

/// What the daemon needs from the command line to make sessions: the same backends, features and
/// reasons `boxwalk test` uses. Injected, so this module never starts a kernel itself.
public struct DaemonBackends: Sendable {
  public var makeSession: @Sendable (Backend) throws -> Session
  public var features: @Sendable (Backend) -> [String]
  public var unavailableReason: @Sendable (Backend) -> String?

  public init(
    makeSession: @escaping @Sendable (Backend) throws -> Session,
    features: @escaping @Sendable (Backend) -> [String],
    unavailableReason: @escaping @Sendable (Backend) -> String?
  ) {
    self.makeSession = makeSession
    self.features = features
    self.unavailableReason = unavailableReason
  }
}

/// The REST API under /v1 (docs/daemon.md; the OpenAPI document is docs/api/openapi.json).
public enum DaemonAPI {
  public static let version = "0.1.0"
  /// A command line is at most a few hundred bytes; 64 KiB leaves room and bounds memory.
  public static let maxBodyBytes = 64 * 1024
  /// Sessions one uid may hold at once.
  public static let maxSessionsPerUID = 32

  /// Every route, as method and path with `{id}` for a parameter. The router is built from this
  /// list alone, so a test that checks the list against the OpenAPI document checks the router.
  public static let routes: [(method: HTTPRequest.Method, path: String)] =
    [
      (.get, "/v1/version"),
      (.get, "/v1/ping"),
      (.get, "/v1/openapi.json"),
      (.get, "/v1/backends/{backend}"),
      (.post, "/v1/sessions"),
      (.get, "/v1/sessions"),
      (.delete, "/v1/sessions/{id}"),
      (.post, "/v1/sessions/{id}/commands"),
      (.get, "/v1/sessions/{id}/state"),
      (.get, "/v1/sessions/{id}/tree"),
      (.post, "/v1/sessions/{id}/completions"),
      (.get, "/v1/sessions/{id}/events"),
    ] + LiveView.routes

  /// The router for `registry`, every route of `routes` and the request log. With `tcp`, the
  /// router of the loopback TCP listener: every request needs its token and acts as the daemon's
  /// own uid (TCP carries no peer credentials; docs/daemon.md, "TCP on loopback").
  public static func router(
    registry: SessionRegistry, backends: DaemonBackends, tcp: TCPListener? = nil,
    log: @escaping @Sendable (String) -> Void
  ) -> Router<DaemonContext> {
    let router = Router(context: DaemonContext.self)
    router.add(middleware: PeerAndLogMiddleware(tcp: tcp, log: log))
    router.add(middleware: BrowserGuard())
    let handlers = Handlers(registry: registry, backends: backends)
    for route in routes {
      let hbPath = route.path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
      let key = "\(route.method.rawValue) \(route.path)"
      router.on(RouterPath(hbPath), method: route.method) { request, context in
        do {
          guard let peer = context.peer else {
            throw APIError(
              .forbidden, "could not read the peer credentials of this connection",
              fix: "connect over the daemon's Unix socket")
          }
          return try await handlers.handle(key, request, context, peer)
        } catch let error as APIError {
          return error.response
        }
      }
    }
    return router
  }
}

/// Says who is asking, once per request, and writes the one log line per request. On the Unix
/// socket, who is asking is SO_PEERCRED; on the TCP listener, a request with the token acts as
/// the daemon's own uid, and one without is answered 401 before any route sees it.
struct PeerAndLogMiddleware: RouterMiddleware {
  typealias Context = DaemonContext
  let tcp: TCPListener?
  let log: @Sendable (String) -> Void

  func handle(
    _ request: Request, context: DaemonContext, next: (Request, DaemonContext) async throws -> Response
  ) async throws -> Response {
    var context = context
    let who: String
    if let tcp {
      let remote = context.channel?.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
      guard tcp.accepts(request.headers[.authorization]) else {
        log("tcp \(remote) \(request.method.rawValue) \(request.uri.path) -> 401 (no valid token)")
        let refusal = APIError(
          .unauthorized,
          request.headers[.authorization] == nil
            ? "this TCP listener needs the daemon's token on every request"
            : "the token is not the one this daemon printed at start",
          field: "Authorization",
          fix:
            "send Authorization: Bearer TOKEN with the token `boxwalk daemon --listen` printed (BOXWALK_TOKEN for boxwalk --host tcp://...)"
        )
        var response = refusal.response
        response.headers[.wwwAuthenticate] = #"Bearer realm="boxwalk""#
        return response
      }
      context.peer = PeerCredentials(pid: 0, uid: geteuid(), gid: getegid())
      who = "tcp \(remote) token (uid \(geteuid()))"
    } else {
      if let channel = context.channel { context.peer = try? await PeerCredentials.of(channel) }
      who = context.peer.map { "uid \($0.uid) pid \($0.pid)" } ?? "uid ?"
    }
    let start = ContinuousClock.now
    func line(_ status: Int) {
      let ms = (ContinuousClock.now - start).components
      let millis = Double(ms.seconds) * 1000 + Double(ms.attoseconds) / 1e15
      log("\(who) \(request.method.rawValue) \(request.uri.path) -> \(status) (\(String(format: "%.1f", millis)) ms)")
    }
    do {
      let response = try await next(request, context)
      line(response.status.code)
      return response
    } catch let error as any HTTPResponseError {
      // The router's own refusals (no such route: 404; a method the path does not take: 405)
      // answer in the API's JSON error form too.
      line(error.status.code)
      let message =
        error.status == .notFound
        ? "no route \(request.method.rawValue) \(request.uri.path)"
        : "\(error.status.code) \(error.status.reasonPhrase)"
      return APIError(error.status, message, field: "path", fix: "the routes are listed by GET /v1/openapi.json")
        .response
    } catch {
      line(500)
      throw error
    }
  }
}
