import Foundation
import Hummingbird
import Kernel
import Lab
import NIOCore
import OCI
import ServiceLifecycle

/// What each route does. Every answer is JSON; every refusal is an `APIError` and changes nothing.
struct Handlers: Sendable {
  let registry: SessionRegistry
  let backends: DaemonBackends

  /// The answer to one request, by route (`METHOD /path` as the router matched it; docs/daemon.md
  /// lists them). Each route that does more than a line has a function of its own below.
  func handle(_ route: String, _ request: Request, _ context: DaemonContext, _ peer: PeerCredentials) async throws
    -> Response
  {
    switch route {
    case "GET /v1/version":
      return .json(object(["version": .string(DaemonAPI.version), "api": .string("v1")]))
    case "GET /v1/ping":
      return .json(object(["ok": .bool(true)]))
    case "GET /v1/openapi.json":
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text + "\n")))
    case "GET /v1/backends/{backend}":
      return try backendInfo(context)
    case "POST /v1/sessions":
      return try await createSession(request, context, peer)
    case "GET /v1/sessions":
      return await listSessions(peer)
    case "DELETE /v1/sessions/{id}":
      return try await closeSession(context, peer)
    case "POST /v1/sessions/{id}/commands":
      return try await runCommand(request, context, peer)
    case "GET /v1/sessions/{id}/events":
      return try await followEvents(context, peer)
    case "GET /v1/sessions/{id}/tree":
      // The tree of the last step, not read again: what the session's own diffs and checks see.
      let entry = try await owned(context, peer)
      let text = try await entry.worker.run { session in StateTreeWire.encode(session.tree) }
      return .json(#"{"tree":"# + text + "}")
    case "POST /v1/sessions/{id}/completions":
      return try await completions(request, context, peer)
    case "GET /v1/sessions/{id}/state":
      return try await readState(context, peer)
    case _ where LiveView.routes.contains(where: { "\($0.method.rawValue) \($0.path)" == route }):
      return try await live(route, context, peer)
    default:
      throw APIError(
        .notFound, "no route \(route)", field: "path", fix: "the routes are listed by GET /v1/openapi.json")
    }
  }

  /// `GET /v1/backends/{backend}`: what a session on that backend can do (its features), and why
  /// a session on it cannot start on this host when it cannot.
  private func backendInfo(_ context: DaemonContext) throws -> Response {
    let backend = try backendParameter(context.parameters.get("backend") ?? "", field: "backend")
    var m = StateMap()
    m["backend"] = .string(backend.rawValue)
    m["features"] = .list(backends.features(backend).sorted().map { .string($0) })
    if let reason = backends.unavailableReason(backend) { m["unavailable"] = .string(reason) }
    return .json(JSON.encode(.map(m)))
  }

  /// `GET /v1/sessions`: the sessions the peer may use (its uid's; root sees all), each with its
  /// prompt, asked of the session on its own thread.
  private func listSessions(_ peer: PeerCredentials) async -> Response {
    var list: [StateValue] = []
    for entry in await registry.visible(to: peer) {
      let prompt = (try? await entry.worker.run { $0.prompt }) ?? ""
      list.append(Self.describe(entry, prompt: prompt))
    }
    return .json(JSON.encode(.map(StateMap([("sessions", .list(list))]))))
  }

  /// `DELETE /v1/sessions/{id}`: the session leaves the registry, its worker closes it (the
  /// kernel tears its boxes down) and its followers' event streams end.
  private func closeSession(_ context: DaemonContext, _ peer: PeerCredentials) async throws -> Response {
    let entry = try await owned(context, peer)
    guard let removed = await registry.remove(entry.id) else { throw Self.noSession(entry.id) }
    await removed.worker.close()
    removed.events.finish()
    return .json(object(["id": .string(entry.id), "closed": .bool(true)]))
  }

  /// `POST /v1/sessions/{id}/commands`: one command line, run on the session's thread as if
  /// typed at its prompt. The answer carries the text the REPL would print and the step as
  /// `--json` prints it; followers of the session's events get the same step.
  private func runCommand(_ request: Request, _ context: DaemonContext, _ peer: PeerCredentials) async throws
    -> Response
  {
    let entry = try await owned(context, peer)
    let body = try await jsonBody(request, context)
    try onlyMembers(body, ["line"])
    guard let line = body["line"] as? String else {
      throw APIError(
        .badRequest, "`line` must be a string: the command line to run", field: "line",
        fix: #"send {"line": "hostname"}"#)
    }
    let events = entry.events
    let answer: String
    do {
      answer = try await entry.worker.run { session in
        let reply = session.executeForAPI(line)
        var m = StateMap()
        m["ok"] = .bool(reply.ok)
        m["text"] = .list(reply.text.map { .string($0) })
        m["prompt"] = .string(session.prompt)
        // What a client needs to behave as the REPL does: whether the line was `quit`, and the
        // session's count of failed commands (a piped session's exit status).
        m["quit"] = .bool(session.quitRequested)
        m["failures"] = .int(session.failures)
        // The step's JSON form comes already encoded by the session (the object `--json`
        // prints, which holds the prompt the line was typed at and the line): it goes in as
        // the last member, as it is.
        let head = JSON.encode(.map(m))
        let answer = String(head.dropLast()) + #","step":"# + reply.json + "}"
        // Followers get the step here, on the session's thread, so in the order steps ran,
        // and even if the client that sent the line hangs up before its answer.
        events.publish(step: answer)
        LiveView.publish(line: line, reply: reply, session: session, to: events)
        return answer
      }
    } catch {
      throw APIError(
        .conflict, "session \(entry.id) was closed while the command waited", field: "id", fix: "make a new session")
    }
    return .json(answer)
  }

  /// `GET /v1/sessions/{id}/events`: a server-sent event stream (text/event-stream, the WHATWG
  /// HTML standard's EventSource) of every step the session runs from now on.
  private func followEvents(_ context: DaemonContext, _ peer: PeerCredentials) async throws -> Response {
    let entry = try await owned(context, peer)
    let (_, stream) = entry.events.follow(opening: ": following session \(entry.id)\n\n")
    // A graceful shutdown (SIGTERM) waits for the responses in flight; this one would never
    // end by itself, so the shutdown ends it (the stream's last chunk is then written, and the
    // follower sees the response end).
    return Response(
      status: .ok,
      headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
      body: ResponseBody(asyncSequence: stream.cancelOnGracefulShutdown()))
  }

  /// `POST /v1/sessions/{id}/completions`: the words that complete `word` after `line`, as the
  /// REPL's tab completion offers them.
  private func completions(_ request: Request, _ context: DaemonContext, _ peer: PeerCredentials) async throws
    -> Response
  {
    let entry = try await owned(context, peer)
    let body = try await jsonBody(request, context)
    try onlyMembers(body, ["line", "word"])
    guard let line = body["line"] as? String, let word = body["word"] as? String else {
      throw APIError(
        .badRequest, "`line` and `word` must be strings: the line before the word, and the word",
        field: body["line"] is String ? "word" : "line", fix: #"send {"line": "use ", "word": "w"}"#)
    }
    let words = try await entry.worker.run { session in session.completions(before: line, word: word) }
    return .json(JSON.encode(.map(StateMap([("completions", .list(words.map { .string($0) }))]))))
  }

  /// `GET /v1/sessions/{id}/state`: the kernel state read now (what `state --json` prints); a
  /// read that fails is a 409, as the session can no longer say what its boxes are.
  private func readState(_ context: DaemonContext, _ peer: PeerCredentials) async throws -> Response {
    let entry = try await owned(context, peer)
    let result: Result<String, any Error> = try await entry.worker.run { session in
      Result { try session.stateJSONNow() }
    }
    switch result {
    case .success(let text): return .json(text)
    case .failure(let error):
      throw APIError(
        .conflict, "could not read the kernel state: \(error)", fix: "delete the session and make a new one")
    }
  }

  private func createSession(_ request: Request, _ context: DaemonContext, _ peer: PeerCredentials) async throws
    -> Response
  {
    let (body, bytes) = try await jsonBodyAndBytes(request, context)
    try onlyMembers(body, ["backend", "pictures"])
    guard let name = body["backend"] as? String else {
      throw APIError(
        .badRequest, "`backend` must be a string: sim, real or rootless", field: "backend",
        fix: #"send {"backend": "sim"}"#)
    }
    let backend = try backendParameter(name, field: "backend")
    // A session on the real or the rootless backend acts with the daemon's own credentials: its
    // file commands, `image import DIR` and the programs it runs read and write what the daemon's
    // user may. For another uid that would be the daemon's user's power (a root daemon's rootless
    // session imported a 0600 root file for nobody, who then read it in a box). So only that user,
    // and root, get one; everyone else gets the simulator, which touches nothing.
    if backend != .sim && !peer.isRoot && peer.uid != geteuid() {
      throw APIError(
        .forbidden,
        "the \(backend.rawValue) backend runs as uid \(geteuid()), the daemon's user: uid \(peer.uid) may not start one",
        field: "backend", fix: "ask for sim, or run your own daemon (boxwalk daemon) as yourself")
    }
    if let reason = backends.unavailableReason(backend) {
      throw APIError(
        .conflict, "backend \(backend.rawValue) is unavailable: \(reason)", field: "backend", fix: "ask for sim")
    }
    guard await registry.count(ownedBy: peer.uid) < DaemonAPI.maxSessionsPerUID else {
      throw APIError(
        .conflict, "uid \(peer.uid) already holds \(DaemonAPI.maxSessionsPerUID) sessions",
        fix: "delete a session first")
    }
    let style = try Self.pictureStyle((try? JSONValue.parse(bytes))?["pictures"])
    let id = SessionRegistry.newID()
    let make = backends.makeSession
    let worker: LabWorker
    do {
      worker = try await LabWorker(name: "boxwalk-session-\(id)") {
        let session = try make(backend)
        // The client's terminal decides how `draw` draws, never the daemon's.
        session.pictureStyle = style
        return session
      }
    } catch {
      throw APIError(
        .conflict, "could not start a \(backend.rawValue) session: \(error)", field: "backend", fix: "ask for sim")
    }
    let entry = SessionRegistry.Entry(id: id, owner: peer.uid, backend: backend, worker: worker)
    await registry.add(entry)
    let prompt = (try? await worker.run { $0.prompt }) ?? ""
    return .json(JSON.encode(Self.describe(entry, prompt: prompt)), status: .created)
  }

  /// `pictures`: how the client's terminal wants `draw` to draw, `{"charset": "unicode" or
  /// "ascii", "width": columns, "ansi": highlights}`; absent, the plain style transcripts use.
  static func pictureStyle(_ member: JSONValue?) throws -> PictureStyle {
    guard let member else { return .plain }
    let fix = #"send {"charset": "unicode", "width": 80, "ansi": false}"#
    guard case .object(let entries) = member else {
      throw APIError(.badRequest, "`pictures` must be an object", field: "pictures", fix: fix)
    }
    if let unknown = entries.map(\.0).sorted().first(where: { !["charset", "width", "ansi"].contains($0) }) {
      throw APIError(.badRequest, "unknown member \(JSON.quote(unknown))", field: "pictures." + unknown, fix: fix)
    }
    guard let name = member["charset"]?.string, let charset = PictureStyle.Charset(rawValue: name) else {
      throw APIError(
        .badRequest, "`pictures.charset` must be unicode or ascii", field: "pictures.charset", fix: fix)
    }
    guard let width = member["width"]?.int, (1...1000).contains(width) else {
      throw APIError(
        .badRequest, "`pictures.width` must be a number of columns from 1 to 1000", field: "pictures.width",
        fix: fix)
    }
    guard case .bool(let ansi)? = member["ansi"] else {
      throw APIError(.badRequest, "`pictures.ansi` must be true or false", field: "pictures.ansi", fix: fix)
    }
    return PictureStyle(charset: charset, width: width, ansi: ansi)
  }

  static func describe(_ entry: SessionRegistry.Entry, prompt: String) -> StateValue {
    .map(
      StateMap([
        ("id", .string(entry.id)), ("backend", .string(entry.backend.rawValue)), ("owner", .int(Int(entry.owner))),
        ("prompt", .string(prompt)),
      ]))
  }

  /// The session named by the path, if `peer` may use it: 404 when there is none, 403 when it
  /// belongs to another uid (root may use every session).
  func owned(_ context: DaemonContext, _ peer: PeerCredentials) async throws -> SessionRegistry.Entry {
    let id = context.parameters.get("id") ?? ""
    guard let entry = await registry.entry(id) else { throw Self.noSession(id) }
    guard entry.owner == peer.uid || peer.isRoot else {
      throw APIError(
        .forbidden, "session \(id) belongs to uid \(entry.owner), not to uid \(peer.uid)", field: "id",
        fix: "use a session you made (GET /v1/sessions lists yours)")
    }
    return entry
  }

  static func noSession(_ id: String) -> APIError {
    APIError(.notFound, "no session \(JSON.quote(id))", field: "id", fix: "GET /v1/sessions lists your sessions")
  }

  private func backendParameter(_ name: String, field: String) throws -> Backend {
    guard let backend = Backend(rawValue: name) else {
      throw APIError(
        .badRequest, "unknown backend \(JSON.quote(name))", field: field, fix: "use sim, real or rootless")
    }
    return backend
  }

  /// The request body as a JSON object: 413 past the size limit, 400 if it is not an object.
  private func jsonBody(_ request: Request, _ context: DaemonContext) async throws -> [String: Any] {
    try await jsonBodyAndBytes(request, context).object
  }

  /// The body as a JSON object and as its bytes, for a member whose JSON types must be told apart
  /// exactly (JSONSerialization reads `true` as the number 1).
  private func jsonBodyAndBytes(_ request: Request, _ context: DaemonContext) async throws -> (
    object: [String: Any], bytes: [UInt8]
  ) {
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: context.maxUploadSize)
    } catch is NIOTooManyBytesError {
      throw APIError(
        .contentTooLarge, "the body is larger than \(context.maxUploadSize) bytes", field: "body",
        fix: "send one command line per request")
    }
    let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [])
    guard let object = parsed as? [String: Any] else {
      throw APIError(
        .badRequest, "the body must be a JSON object", field: "body",
        fix: "send Content-Type: application/json with an object")
    }
    return (object, Array(buffer.readableBytesView))
  }

  /// Refuses members the route does not know: a misspelt field must not be ignored silently.
  private func onlyMembers(_ body: [String: Any], _ known: [String]) throws {
    if let unknown = body.keys.sorted().first(where: { !known.contains($0) }) {
      throw APIError(
        .badRequest, "unknown member \(JSON.quote(unknown))", field: unknown,
        fix: "this route takes only " + known.map { "`\($0)`" }.joined(separator: ", "))
    }
  }

  private func object(_ members: KeyValuePairs<String, StateValue>) -> String {
    JSON.encode(.map(StateMap(members.map { ($0.key, $0.value) })))
  }
}
