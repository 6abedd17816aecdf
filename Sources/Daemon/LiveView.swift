import Foundation
import Hummingbird
import Kernel
import Lab
import NIOCore

/// The live view (docs/daemon.md, "The live view"): pages a browser opens to watch sessions, each
/// step drawn as `boxwalk export --html` draws it (Lab's LivePage renders both). The routes are
/// GETs only and follow the same ownership rules as the API: a page shows the sessions of the uid
/// that connected (read with SO_PEERCRED), all of them for root.
enum LiveView {
  static let routes: [(method: HTTPRequest.Method, path: String)] = [
    (.get, "/"),
    (.get, "/v1/sessions/{id}/view"),
    (.get, "/v1/sessions/{id}/pictures"),
  ]

  /// After a step, on the session's thread: the `view` event for the session's followers (the
  /// step and the lab now, drawn). Drawn only when someone follows: no one pays for pictures that
  /// no page shows.
  static func publish(line: String, reply: Session.APIReply, session: Session, to events: SessionEvents) {
    guard events.followerCount > 0 else { return }
    events.publish("view", data: LivePage.stepEvent(line: line, reply: reply, session: session))
  }

  /// A page, with headers that keep it to itself: its one script is the one with `nonce`; it
  /// connects only to its own origin; nothing frames it; no other site learns where it was.
  static func html(_ page: String, nonce: String?) -> Response {
    let script = nonce.map { "'nonce-\($0)'" } ?? "'none'"
    var headers: HTTPFields = [
      .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
    ]
    headers[.contentSecurityPolicy] =
      "default-src 'none'; script-src \(script); style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
      + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    if let name = FieldName("Referrer-Policy") { headers[name] = "no-referrer" }
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
  }

  /// 128 bits from the system's random source, in hex: a script nonce no page can guess.
  static func nonce() -> String {
    var g = SystemRandomNumberGenerator()
    return (0..<2).map { _ in
      let hex = String(g.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }
}

extension Handlers {
  /// The live view's routes (LiveView.routes).
  func live(_ route: String, _ context: DaemonContext, _ peer: PeerCredentials) async throws -> Response {
    switch route {
    case "GET /":
      var rows: [(id: String, backend: String, prompt: String)] = []
      for entry in await registry.visible(to: peer) {
        let prompt = (try? await entry.worker.run { $0.prompt }) ?? ""
        rows.append((entry.id, entry.backend.rawValue, prompt))
      }
      return LiveView.html(LivePage.index(sessions: rows), nonce: nil)
    case "GET /v1/sessions/{id}/view":
      let entry = try await owned(context, peer)
      let (id, backend, nonce) = (entry.id, entry.backend.rawValue, LiveView.nonce())
      let page = try await onSession(entry) { session in
        LivePage.page(
          id: id, backend: backend, session: session, events: "/v1/sessions/\(id)/events",
          current: "/v1/sessions/\(id)/pictures", nonce: nonce)
      }
      return LiveView.html(page, nonce: nonce)
    default:
      let entry = try await owned(context, peer)
      return .json(try await onSession(entry) { LivePage.current($0) })
    }
  }

  /// `body` on the session's thread; a 409 when the session closed meanwhile.
  private func onSession<T: Sendable>(_ entry: SessionRegistry.Entry, _ body: @escaping @Sendable (Session) -> T)
    async throws -> T
  {
    do {
      return try await entry.worker.run(body)
    } catch {
      throw APIError(.conflict, "session \(entry.id) was closed", field: "id", fix: "make a new session")
    }
  }
}

/// Keeps web pages of other sites from using the daemon through a browser (docs/security.md).
///
/// A browser is reached by any site its user visits, and it will send requests wherever a page
/// points it: to the daemon too, once a port is bridged to its socket. Two attacks follow, and
/// each is refused here before any route runs:
/// - cross-site requests (CSRF): a page elsewhere posts a form or fetches. Browsers name the page's
///   origin in `Origin` (on every POST, and on cross-origin requests) and say in `Sec-Fetch-Site`
///   whether the request is the page's own. Any request from another origin is refused, but for
///   following a link to a page (a top-level GET, whose answer only the browser's user sees);
///   and a browser, even on the daemon's own page, may only read (GET): the pages never drive a
///   session.
/// - DNS rebinding: a name the attacker controls is pointed at 127.0.0.1, and the browser then
///   thinks the daemon is that site. Its requests still carry that name in `Host`, so only
///   loopback names are served: `localhost` (and names under it), 127.0.0.0/8, `[::1]`, and
///   `boxwalk`, the name the command line's client and the documentation's curl lines use.
struct BrowserGuard: RouterMiddleware {
  typealias Context = DaemonContext

  func handle(
    _ request: Request, context: DaemonContext, next: (Request, DaemonContext) async throws -> Response
  ) async throws -> Response {
    if let refusal = Self.refusal(request.head) { return refusal.response }
    return try await next(request, context)
  }

  /// The values of the fields named `name` (case-insensitive, as HTTP field names are).
  static func values(_ head: HTTPRequest, _ name: String) -> [String] {
    head.headerFields.filter { $0.name.canonicalName == name }.map(\.value)
  }

  /// Why `head` is refused, or nil.
  static func refusal(_ head: HTTPRequest) -> APIError? {
    // A second Host field (the first one became `authority`) would leave two answers to "which
    // site is this": refused rather than guessed.
    if !values(head, "host").isEmpty {
      return APIError(
        .badRequest, "the request has more than one Host field", field: "Host", fix: "send one Host field")
    }
    if let authority = head.authority, !isLoopback(authority) {
      return APIError(
        .forbidden, "Host \(JSON.quote(authority)) is not a name of this machine's loopback", field: "Host",
        fix: "use http://localhost:PORT/ or http://127.0.0.1:PORT/ (curl --unix-socket: http://boxwalk/)")
    }
    let origin = values(head, "origin").first
    if let origin {
      // Same origin: the page was served by this daemon under the very name and port asked for.
      guard let authority = head.authority, origin == "http://" + authority else {
        return APIError(
          .forbidden, "a page of \(JSON.quote(origin)) may not use the daemon", field: "Origin",
          fix: "open the live view at the daemon's own address (GET /)")
      }
    }
    let site = values(head, "sec-fetch-site").first
    // A link on another site's page to the view is followed as a top-level navigation: the
    // browser shows the answer to its user alone, and a GET changes nothing, so that is served.
    let navigation =
      head.method == .get && values(head, "sec-fetch-mode") == ["navigate"]
      && values(head, "sec-fetch-dest") == ["document"]
    if let site, site != "same-origin", site != "none", !navigation {
      return APIError(
        .forbidden, "a request from another site (Sec-Fetch-Site: \(site)) may not use the daemon",
        field: "Sec-Fetch-Site", fix: "open the live view at the daemon's own address (GET /)")
    }
    if (origin != nil || site != nil), head.method != .get {
      return APIError(
        .forbidden, "a browser may only view sessions (GET), not \(head.method.rawValue)", field: "Origin",
        fix: "drive the session from boxwalk --host or curl --unix-socket")
    }
    return nil
  }

  /// Whether `authority` (host, with or without a port) names this machine's loopback.
  static func isLoopback(_ authority: String) -> Bool {
    var host = Substring(authority.lowercased())
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]") else { return false }
      let rest = host[host.index(after: close)...]
      guard rest.isEmpty || isPort(rest) else { return false }
      return host[..<host.index(after: close)] == "[::1]"
    }
    if let colon = host.firstIndex(of: ":") {
      guard isPort(host[colon...]) else { return false }
      host = host[..<colon]
    }
    if host == "localhost" || host == "boxwalk" || host.hasSuffix(".localhost") { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127"
      && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) && (Int($0) ?? 256) <= 255 }
  }

  /// `:` and 1 to 5 digits.
  private static func isPort(_ s: Substring) -> Bool {
    s.first == ":" && (2...6).contains(s.count) && s.dropFirst().allSatisfy(\.isASCIIDigit)
  }
}

/// A header field's name (HTTPTypes' `HTTPField.Name`, which Hummingbird does not export by name).
typealias FieldName = HTTPFields.Element.Name

extension Character {
  fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
