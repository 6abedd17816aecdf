import Daemon
import Dispatch
import Foundation
import Kernel
import Lab
import NIOCore
import NIOHTTP1
import NIOPosix

/// The client side of `--host unix:///PATH` or `--host tcp://127.0.0.1:PORT` (or BOXWALK_HOST):
/// HTTP/1.1 requests to a boxwalk daemon. SwiftNIO connects (connect(2) on an AF_UNIX stream
/// socket, or on a TCP socket to a loopback port) and its HTTP/1.1 codec writes the request and
/// parses the response; this file only says what to send. The command line is synchronous, so
/// each request waits for its answer. No request is ever retried, so a step is never sent twice.
struct DaemonClient: Sendable {
  /// Where the daemon listens.
  enum Endpoint: Sendable, Equatable {
    case unix(path: String)
    /// `--listen`'s loopback port; every request carries the token (docs/daemon.md).
    case tcp(host: String, port: Int, token: String)
  }

  let endpoint: Endpoint

  /// `unix:///run/boxwalk/boxwalk.sock`, or `tcp://127.0.0.1:2375` with BOXWALK_TOKEN.
  static func parse(host: String, token: String? = ProcessInfo.processInfo.environment["BOXWALK_TOKEN"])
    throws(ExitError) -> DaemonClient
  {
    if host.hasPrefix("unix:///") {
      return DaemonClient(endpoint: .unix(path: String(host.dropFirst("unix://".count))))
    }
    guard host.hasPrefix("tcp://") else {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: --host takes unix:///PATH (a daemon's Unix socket) or tcp://127.0.0.1:PORT, not \(host)",
          "  fix:     boxwalk --host unix:///run/boxwalk/boxwalk.sock test FILE",
        ])
    }
    let address = String(host.dropFirst("tcp://".count))
    let listener: (host: String, port: Int)
    do throws(TCPListener.Refusal) {
      listener = try TCPListener.loopbackAddress(address)
    } catch {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: --host tcp:// takes a loopback ADDRESS:PORT (127.0.0.1:PORT or [::1]:PORT), not \(address)",
          "  rule:    a daemon listens on TCP only on loopback (boxwalk daemon --listen)",
          "  state:   nothing was changed",
        ])
    }
    guard let token, !token.isEmpty else {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: --host \(host) needs the daemon's token in BOXWALK_TOKEN",
          "  rule:    every request to a daemon's TCP port carries the token it printed at start",
          "  fix:     BOXWALK_TOKEN=TOKEN boxwalk --host \(host)",
          "  state:   nothing was changed",
        ])
    }
    return DaemonClient(endpoint: .tcp(host: listener.host, port: listener.port, token: token))
  }

  /// The daemon's address as `--host` takes it.
  var hostDescription: String {
    switch endpoint {
    case .unix(let path): return "unix://" + path
    case .tcp(let host, let port, _): return "tcp://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }
  }

  /// The host from `--host`, else from BOXWALK_HOST, else nil (no daemon: run in-process).
  static func host(option: String?) -> String? {
    if let option { return option }
    guard let env = ProcessInfo.processInfo.environment["BOXWALK_HOST"], !env.isEmpty else { return nil }
    return env
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// One request: the status and the JSON object of the answer.
  func call(_ method: HTTPMethod, _ path: String, body: [String: String]? = nil) throws(Failure) -> (
    status: Int, object: [String: Any]
  ) {
    let (status, object, _) = try callRaw(method, path, body: body.map { $0.mapValues { $0 as Any } })
    return (status, object)
  }

  /// One request: the status, the JSON object of the answer, and its bytes as they came.
  func callRaw(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) throws(Failure) -> (
    status: Int, object: [String: Any], raw: [UInt8]
  ) {
    let payload = body.flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
    let result = Self.wait { [endpoint] in try await Self.exchange(endpoint, method, path, payload) }
    switch result {
    case .success(let (status, bytes)):
      let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] ?? [:]
      return (status, object, Array(bytes))
    case .failure(let error):
      throw Failure(description: "daemon at \(hostDescription): " + Self.reason(error))
    }
  }

  /// Why an exchange failed, with the errno named as boxwalk names every other one
  /// (`connect(2): ENOENT: no such file or directory`) and what the usual cause is, instead of
  /// NIO's own description, which names a Swift function (`connect(descriptor:addr:size:)`).
  /// 17-client-daemon teaches these errors, so the learner must be able to read them here.
  static func reason(_ error: any Error) -> String {
    if let failed = error as? NIOConnectionError, let first = failed.connectionErrors.first?.error {
      return reason(first)
    }
    guard let io = error as? IOError else { return "\(error)" }
    let errno = Errno(rawValue: io.errnoCode)
    let call = "\(io)".hasPrefix("connect(") ? "connect(2): " : ""
    let cause: String
    switch errno {
    case .ENOENT: cause = "; no socket at that path: is boxwalk daemon running, on this path?"
    case .ECONNREFUSED: cause = "; a socket file nothing listens on: did its daemon stop?"
    case .EACCES: cause = "; the socket is another user's: the daemon makes it 0600, in a 0700 directory"
    default: cause = ""
    }
    return call + errno.name + ": " + errno.meaning + cause
  }

  /// GET /v1/ping, or the error to stop on: a daemon that cannot be reached, or that refuses
  /// this client (401 for a missing or wrong token), must fail a test run, not turn every
  /// transcript into a SKIP for "backend unavailable".
  func ping() throws(ExitError) {
    let answer: (status: Int, object: [String: Any])
    do throws(Failure) {
      answer = try call(.GET, "/v1/ping")
    } catch {
      throw ExitError(ExitStatus.precondition, ["error: \(error.description)"])
    }
    guard answer.status == 200 else {
      throw ExitError(
        ExitStatus.precondition, ["error: daemon at \(hostDescription): " + Self.message(answer.status, answer.object)])
    }
  }

  /// POST /v1/sessions: a new session in the daemon, drawing pictures in `pictures`.
  func makeSession(backend: Backend, pictures: PictureStyle) throws(Failure) -> RemoteSession {
    let style: [String: Any] = [
      "charset": pictures.charset.rawValue, "width": pictures.width, "ansi": pictures.ansi,
    ]
    let (status, object, _) = try callRaw(
      .POST, "/v1/sessions", body: ["backend": backend.rawValue, "pictures": style])
    guard status == 201, let id = object["id"] as? String, let prompt = object["prompt"] as? String else {
      throw Failure(description: DaemonClient.message(status, object))
    }
    let session = RemoteSession(client: self, id: id, backend: backend, prompt: prompt)
    // Until it is closed, a signal to this process deletes it (ClientSignals).
    ClientSignals.live.add(id, self)
    session.pictureStyle = pictures
    return session
  }

  /// The features and the unavailability of `backend` on the daemon's host.
  func backendInfo(_ backend: Backend) -> (features: Set<String>, unavailable: String?) {
    do {
      let (status, object) = try call(.GET, "/v1/backends/\(backend.rawValue)")
      guard status == 200 else { return ([], DaemonClient.message(status, object)) }
      let features = Set((object["features"] as? [String]) ?? [])
      return (features, object["unavailable"] as? String)
    } catch {
      return ([], error.description)
    }
  }

  /// One connection, one request, one response (Connection: close).
  static func exchange(_ endpoint: Endpoint, _ method: HTTPMethod, _ path: String, _ body: Data?) async throws -> (
    Int, Data
  ) {
    let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    let setUp:
      @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> =
        { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
              wrappingChannelSynchronously: channel)
          }
        }
    let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    var token: String?
    switch endpoint {
    case .unix(let path):
      channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: setUp)
    case .tcp(let host, let port, let secret):
      channel = try await bootstrap.connect(host: host, port: port, channelInitializer: setUp)
      token = secret
    }
    return try await channel.executeThenClose { inbound, outbound in
      var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
      head.headers.add(name: "Host", value: "boxwalk")
      if let token { head.headers.add(name: "Authorization", value: "Bearer " + token) }
      head.headers.add(name: "Connection", value: "close")
      if let body {
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
      }
      // The whole request in one write: a GET is complete at its head, so the daemon may answer
      // and close (Connection: close) before a separate write of the end runs, and that write
      // then fails with "I/O on closed channel" although the answer is already on its way (seen
      // in 2 of 328 runs of the load test, and in the transcripts through a daemon).
      var parts: [HTTPClientRequestPart] = [.head(head)]
      if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
      parts.append(.end(nil))
      try await outbound.write(contentsOf: parts)
      var status = 0
      var received = Data()
      for try await part in inbound {
        switch part {
        case .head(let response): status = Int(response.status.code)
        case .body(let buffer): received.append(contentsOf: buffer.readableBytesView)
        case .end: return (status, received)
        }
      }
      throw Failure(description: "the connection closed before the response ended")
    }
  }

  /// Runs `body` to completion from synchronous code (the command line's thread, never a task).
  static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
      do {
        box.result = .success(try await body())
      } catch {
        box.result = .failure(error)
      }
      done.signal()
    }
    done.wait()
    return box.result ?? .failure(Failure(description: "no result"))
  }

  /// `{"error": {"message": ...}}` of a refusal, or the status.
  static func message(_ status: Int, _ object: [String: Any]) -> String {
    let error = object["error"] as? [String: Any]
    return "daemon answered \(status): " + ((error?["message"] as? String) ?? "no error message")
  }
}

/// Where a task leaves its result for the thread waiting on the semaphore; written once, before
/// the signal, and read after the wait, so the semaphore orders the two.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
  var result: Result<T, any Error>?
}

/// Makes the transcript runner's sessions in a daemon: `boxwalk test --host ...` runs the same
/// runner and prints the same report, only every line goes over the socket.
struct RemoteSessionFactory: TranscriptSessionFactory {
  let client: DaemonClient

  /// The daemon's host's features, and `client`: this run is a daemon's client.
  func features(for backend: Backend) -> Set<String> { client.backendInfo(backend).features.union(["client"]) }

  func unavailableReason(for backend: Backend) -> String? { client.backendInfo(backend).unavailable }

  func makeSession(backend: Backend) throws -> any TranscriptSession {
    try client.makeSession(backend: backend, pictures: .plain)
  }

  /// The style goes with the request that makes the session: a remote session's is fixed then.
  func makeSession(backend: Backend, pictures: PictureStyle) throws -> any TranscriptSession {
    try client.makeSession(backend: backend, pictures: pictures)
  }
}

/// A lab session that lives in the daemon: each line is one POST, answered with the lines the
/// REPL would print, the prompt after it, and what the REPL loop and the lesson engine need
/// (whether it was `quit`, the count of failed commands). The tree lesson checks read is fetched
/// only when asked for, once per step.
final class RemoteSession: LabSession {
  let client: DaemonClient
  let id: String
  let backend: Backend
  private(set) var prompt: String
  var jsonMode = false
  private(set) var quitRequested = false
  private(set) var failures = 0
  /// The tree of the last step, once fetched; any line run since makes it stale.
  private var cachedTree: StateValue?
  /// The style was sent when the session was made; a later change (a replay's plain style) is
  /// sent with the next session this client makes, not to this one, so it is set here only.
  var pictureStyle = PictureStyle.plain

  init(client: DaemonClient, id: String, backend: Backend, prompt: String) {
    self.client = client
    self.id = id
    self.backend = backend
    self.prompt = prompt
  }

  /// `wire on`: each line's HTTP request and response are shown under its output, the way
  /// `docker --debug` shows the client's side of the conversation with dockerd.
  private(set) var wire = false

  func execute(_ line: String) -> [String] {
    let words = try? WordSplitter.split(line)
    if let words, words.first == "wire" { return wireCommand(Array(words.dropFirst())) }
    let output = send(line)
    // `explain` is answered by the daemon's session, which knows the step but not that it came
    // over a socket; the client adds who did what.
    guard words == ["explain"], !jsonMode, let at = output.firstIndex(where: { $0.hasPrefix("last step: ") }) else {
      return output
    }
    let end = output[at...].firstIndex { $0.hasPrefix("  wire  ") } ?? output.endIndex
    return Array(output[..<end]) + whoDidWhat(String(output[at].dropFirst("last step: ".count)))
      + output[end...]
  }

  /// `explain`'s account of the split between this client and the daemon, for the last step.
  func whoDidWhat(_ step: String) -> [String] {
    let kernel: String
    switch backend {
    case .sim:
      kernel = "the system calls above were simulated in the daemon's process (sim); no kernel ran them"
    case .real, .rootless:
      kernel =
        "the system calls above were made by the daemon: by its process, or by the boxwalk-helper it forked for the box"
    }
    return [
      "  who did what: this REPL is a client; the daemon at \(client.hostDescription) did the work",
      "    client   sent `\(step)` as POST /v1/sessions/\(id)/commands, then printed the answer's text",
      "    daemon   ran the step in session \(id), on that session's own thread, once",
      "    kernel   " + kernel,
      "    client   made no system call for the step: only connect(2), write(2) and read(2) on the socket",
    ]
  }

  /// One line to the daemon: the lines to print, and the state the answer carries.
  private func send(_ line: String) -> [String] {
    cachedTree = nil
    do {
      let path = "/v1/sessions/\(id)/commands"
      let (status, object, raw) = try client.callRaw(.POST, path, body: ["line": line])
      // The body exactly as `callRaw` encoded it.
      let sent = (try? JSONSerialization.data(withJSONObject: ["line": line], options: [.sortedKeys])) ?? Data()
      let shown = wire ? Self.wireLines("POST", path, body: String(decoding: sent, as: UTF8.self), status, raw) : []
      guard status == 200, let text = object["text"] as? [String] else {
        failures += 1
        return ["error: " + DaemonClient.message(status, object)] + shown
      }
      if wire {
        if let next = object["prompt"] as? String { prompt = next }
        if let quit = object["quit"] as? Bool { quitRequested = quit }
        if let count = object["failures"] as? Int { failures = count }
        return (jsonMode ? Self.stepJSON(raw).map { [$0] } ?? [] : text) + shown
      }
      if let next = object["prompt"] as? String { prompt = next }
      if let quit = object["quit"] as? Bool { quitRequested = quit }
      if let count = object["failures"] as? Int { failures = count }
      guard jsonMode else { return text }
      // `--json`: the object the session printed, exactly as it encoded it.
      guard let step = Self.stepJSON(raw) else { return ["error: the daemon's answer has no step object"] }
      return [step]
    } catch {
      failures += 1
      return ["error: \(error.description)"]
    }
  }

  /// `wire on` / `wire off` / `wire`: answered here, in the client; the daemon never sees it.
  private func wireCommand(_ args: [String]) -> [String] {
    switch args {
    case ["on"]:
      wire = true
      return [
        "wire on: each command's HTTP request to the daemon and its response are shown under it",
        "  daemon  \(client.hostDescription), session \(id)",
      ]
    case ["off"]:
      wire = false
      return ["wire off"]
    case []:
      return ["wire is \(wire ? "on" : "off"): this REPL is a client of the daemon at \(client.hostDescription)"]
    default:
      failures += 1
      return [
        "error: wire takes on or off",
        "  usage:   wire on | wire off",
        "  state:   nothing was changed",
      ]
    }
  }

  /// The request line and body sent, and the status line and size of the answer: what went
  /// over the socket for one step.
  static func wireLines(_ method: String, _ path: String, body: String, _ status: Int, _ raw: [UInt8]) -> [String] {
    let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
    return [
      "  wire  > \(method) \(path) HTTP/1.1",
      "  wire  > Content-Type: application/json, \(body.utf8.count) bytes: \(body)",
      "  wire  < HTTP/1.1 \(status) \(reason), \(raw.count) bytes of JSON (text, prompt, quit, failures, step)",
    ]
  }

  /// The `step` member of a command's answer, byte for byte: the daemon writes it last, as the
  /// session encoded it, after members whose strings are all quoted; inside a JSON string every
  /// `"` is escaped, so the first `,"step":{` in the answer is the member itself.
  static func stepJSON(_ raw: [UInt8]) -> String? {
    let text = String(decoding: raw, as: UTF8.self)
    guard let range = text.range(of: #","step":{"#) else { return nil }
    var member = text[text.index(before: range.upperBound)...]
    while member.last == "\n" { member = member.dropLast() }
    guard member.hasSuffix("}}") else { return nil }
    return String(member.dropLast())
  }

  /// The next read of `tree` asks the daemon again: another client may have run lines since.
  func forgetCachedTree() { cachedTree = nil }

  var tree: StateValue {
    if let cachedTree { return cachedTree }
    var fetched = StateValue.map(StateMap())
    if let (status, _, raw) = try? client.callRaw(.GET, "/v1/sessions/\(id)/tree"), status == 200 {
      let text = String(decoding: raw, as: UTF8.self)
      let prefix = #"{"tree":"#
      if text.hasPrefix(prefix) {
        var inner = text.dropFirst(prefix.count)
        while inner.last == "\n" { inner = inner.dropLast() }
        if inner.hasSuffix("}"), let value = try? StateTreeWire.decode(String(inner.dropLast())) { fetched = value }
      }
    }
    cachedTree = fetched
    return fetched
  }

  /// As `Session.boxNames`: every top-level key of the tree but `host` and the lab's `outside`.
  var boxNames: [String] {
    guard case .map(let m) = tree else { return [] }
    return m.keys.filter { $0 != "host" && $0 != OutsideNet.name }
  }

  func completions(before line: String, word: String) -> [String] {
    guard
      let (status, object, _) = try? client.callRaw(
        .POST, "/v1/sessions/\(id)/completions", body: ["line": line, "word": word]),
      status == 200
    else { return [] }
    return object["completions"] as? [String] ?? []
  }

  func close() {
    _ = try? client.call(.DELETE, "/v1/sessions/\(id)")
    ClientSignals.live.remove(id)
  }
}
