import CShim
import Glibc
import Kernel
import OCI

// Why not async-http-client: the registry boxwalk talks to is on loopback, without TLS, one
// request per connection, and the code that calls it is synchronous kernel work run one step at a
// time. async-http-client would add TLS (swift-nio-ssl's BoringSSL) and HTTP/2 to every clean
// build, and an event loop to bridge back to blocking code (the measured cost is in
// docs/architecture.md, "The registry client"). The bytes are SwiftNIO's HTTP/1.1 codec's
// (HTTPExchange.swift), the same codec as the daemon's; this file moves them: a non-blocking
// socket, poll(2) in slices, one deadline for the whole exchange, and Ctrl-C.

/// HTTP/1.1 (RFC 9112) to a registry on loopback: one request per connection (`Connection:
/// close`), bounded reads; SwiftNIO's codec writes the request and reads the answer. boxwalk
/// talks only to 127.0.0.1 (RegistryRef refuses other hosts), so there is no TLS and no name
/// lookup.
///
/// Every wait is a poll(2) of at most `slice`: between two polls the client checks the overall
/// deadline and whether the learner pressed Ctrl-C. A timeout per read(2) (SO_RCVTIMEO) would not
/// do: a server that sends one byte every few seconds restarts it forever.
struct HTTPClient {
  let host: String
  let port: Int
  /// When the whole operation (every request of one pull or push) must be over.
  let deadline: NetDeadline
  /// Whether to stop now: by default, whether SIGINT (Ctrl-C) arrived since the last look
  /// (interrupt.c sets a flag and, installed without SA_RESTART, makes poll(2) return EINTR).
  var interrupted: () -> Bool = { bw_interrupt_take() != 0 }
  /// The longest single poll(2), so Ctrl-C is seen within this many milliseconds.
  static let slice: Int32 = 100

  struct Response {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
      headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
  }

  func request(
    _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [], limit: Int = 1 << 20
  ) throws(RegistryError) -> Response {
    let what = "\(method) \(target)"
    // SOCK_NONBLOCK: connect(2), write(2) and read(2) never block; poll(2) does the waiting.
    let fd = socket(
      AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw RegistryError(errno: errno, detail: "socket(AF_INET, SOCK_STREAM)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)  // 127.0.0.1: loopback only
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    if connected != 0 {
      // A non-blocking connect(2) that cannot finish at once says EINPROGRESS; the socket turns
      // writable when it is done, and SO_ERROR then holds its outcome (connect(2), EINPROGRESS).
      guard errno == EINPROGRESS else { throw RegistryError(errno: errno, detail: "connect(127.0.0.1:\(port))") }
      try wait(fd, for: POLLOUT, "connect(127.0.0.1:\(port))")
      var failure: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
      guard failure == 0 else { throw RegistryError(errno: failure, detail: "connect(127.0.0.1:\(port))") }
    }
    let exchange = try HTTPExchange(
      method, target, host: host, port: port, headers: headers, body: body, limit: limit)
    try send(fd, exchange.request, what)
    return try receive(fd, exchange, cap: limit + 128 * 1024, what)
  }

  /// The answer in `raw`, as if a server sent these bytes and closed the connection.
  static func parse(_ raw: [UInt8], method: String, target: String, limit: Int) throws(RegistryError) -> Response {
    let exchange = try HTTPExchange(method, target, host: "127.0.0.1", port: 80, headers: [], body: [], limit: limit)
    return try exchange.take(raw) ? exchange.response() : exchange.closed()
  }

  /// Waits until `fd` is ready for `events`, in slices: a deadline that passed is ETIMEDOUT, a
  /// Ctrl-C is EINTR.
  private func wait(_ fd: Int32, for events: Int32, _ what: String) throws(RegistryError) {
    while true {
      if interrupted() { throw RegistryError(errno: EINTR, detail: "\(what): interrupted (Ctrl-C)") }
      let left = deadline.millisecondsLeft
      guard left > 0 else {
        throw RegistryError(errno: ETIMEDOUT, detail: "\(what): no complete answer within \(deadline.shown)")
      }
      var waiting = pollfd(fd: fd, events: Int16(events), revents: 0)
      let ready = poll(&waiting, 1, min(left, Self.slice))
      if ready > 0 { return }
      if ready < 0 && errno != EINTR { throw RegistryError(errno: errno, detail: "poll(\(what))") }
    }
  }

  private func send(_ fd: Int32, _ bytes: [UInt8], _ what: String) throws(RegistryError) {
    var written = 0
    while written < bytes.count {
      // MSG_NOSIGNAL: a server that closed its end is EPIPE here, not a SIGPIPE that kills us.
      let n = bytes.withUnsafeBytes {
        Glibc.send(fd, $0.baseAddress.map { $0 + written }, $0.count - written, Int32(MSG_NOSIGNAL))
      }
      if n > 0 {
        written += n
      } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
        try wait(fd, for: POLLOUT, "send \(what)")
      } else {
        throw RegistryError(errno: n < 0 ? errno : EPIPE, detail: "send \(what)")
      }
    }
  }

  /// Reads until the answer is whole or the server closes the connection; at most `cap` bytes
  /// (the body's limit and room for the head).
  private func receive(_ fd: Int32, _ exchange: HTTPExchange, cap: Int, _ what: String) throws(RegistryError)
    -> Response
  {
    var received = 0
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        received += n
        if try exchange.take(chunk.prefix(n)) { return try exchange.response() }
        guard received <= cap else { throw RegistryError(errno: EFBIG, detail: "\(what): more than \(cap) bytes") }
      } else if n == 0 {
        return try exchange.closed()
      } else if errno == EAGAIN || errno == EINTR {
        try wait(fd, for: POLLIN, "read the answer to \(what)")
      } else {
        throw RegistryError(errno: errno, detail: "read the answer to \(what)")
      }
    }
  }
}

/// When a network operation must be over, on the monotonic clock (clock_gettime(2),
/// CLOCK_MONOTONIC): setting the wall clock cannot stretch or cut it.
struct NetDeadline {
  let end: ContinuousClock.Instant
  let seconds: Double

  init(seconds: Double) {
    self.seconds = seconds
    end = .now + .milliseconds(Int64(seconds * 1000))
  }

  /// What is left, in milliseconds for poll(2); 0 once it passed.
  var millisecondsLeft: Int32 {
    let left = ContinuousClock.now.duration(to: end).components
    guard left.seconds >= 0 else { return 0 }
    return Int32(clamping: left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)
  }

  var shown: String { seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s" }
}

/// A registry server, through the OCI distribution API (distribution-spec, spec.md): blobs are
/// checked with HEAD, uploaded with POST then PUT (a "monolithic" upload), fetched with GET;
/// manifests are put and got by tag.
struct ServerRegistry: Registry {
  let client: HTTPClient
  let repository: String
  let notFound: String

  static let accept = [MediaType.manifest, MediaType.dockerManifest].joined(separator: ", ")

  func hasBlob(_ digest: String) throws(RegistryError) -> Bool {
    let r = try client.request("HEAD", "/v2/\(repository)/blobs/\(digest)")
    switch r.status {
    case 200: return true
    case 404: return false
    default: throw Self.failure(r, "HEAD /v2/\(repository)/blobs/\(digest.prefix(19))")
    }
  }

  func putBlob(_ digest: String, _ bytes: [UInt8]) throws(RegistryError) {
    let start = try client.request("POST", "/v2/\(repository)/blobs/uploads/")
    guard start.status == 202, let location = start.header("Location") else {
      throw Self.failure(start, "POST /v2/\(repository)/blobs/uploads/")
    }
    let target = try Self.path(of: location) + (location.contains("?") ? "&" : "?") + "digest=" + digest
    let put = try client.request(
      "PUT", target, headers: [("Content-Type", "application/octet-stream")], body: bytes, limit: 64 * 1024)
    guard put.status == 201 else { throw Self.failure(put, "PUT <location>?digest=\(digest.prefix(19))") }
  }

  func blob(_ digest: String, limit: Int) throws(RegistryError) -> [UInt8] {
    var r = try client.request("GET", "/v2/\(repository)/blobs/\(digest)", limit: limit)
    if [301, 302, 307, 308].contains(r.status), let location = r.header("Location") {
      r = try client.request("GET", try Self.path(of: location), limit: limit)
    }
    guard r.status == 200 else { throw Self.failure(r, "GET /v2/\(repository)/blobs/\(digest.prefix(19))") }
    guard SHA256.digest(r.body) == digest else {
      throw RegistryError(errno: EBADMSG, detail: "the blob the registry sent is not \(digest.prefix(19))")
    }
    return r.body
  }

  func manifest(_ tag: String) throws(RegistryError) -> [UInt8] {
    let r = try client.request(
      "GET", "/v2/\(repository)/manifests/\(tag)", headers: [("Accept", Self.accept)], limit: JSONValue.maxDocument)
    if r.status == 404 { throw RegistryError(errno: ENOENT, detail: notFound) }
    guard r.status == 200 else { throw Self.failure(r, "GET /v2/\(repository)/manifests/\(tag)") }
    return r.body
  }

  func putManifest(_ tag: String, _ bytes: [UInt8]) throws(RegistryError) {
    let r = try client.request(
      "PUT", "/v2/\(repository)/manifests/\(tag)", headers: [("Content-Type", MediaType.manifest)], body: bytes,
      limit: 64 * 1024)
    guard r.status == 201 else { throw Self.failure(r, "PUT /v2/\(repository)/manifests/\(tag)") }
  }

  /// The path of a Location header, which may be absolute (http://127.0.0.1:5000/v2/...): only
  /// this registry's own paths are followed.
  static func path(of location: String) throws(RegistryError) -> String {
    if location.hasPrefix("/") { return location }
    guard location.hasPrefix("http://"), let slash = location.dropFirst(7).firstIndex(of: "/") else {
      throw RegistryError(
        errno: EPROTO, detail: "the registry sent a Location boxwalk does not follow: \(location.prefix(80))")
    }
    let authority = location[location.index(location.startIndex, offsetBy: 7)..<slash]
    let host = authority.split(separator: ":").first.map(String.init) ?? ""
    guard RegistryRef.loopbackHosts.contains(host) else {
      throw RegistryError(errno: EPROTO, detail: "the registry sent a Location off loopback: \(location.prefix(80))")
    }
    return String(location[slash...])
  }

  /// An error answer, with the distribution spec's error code when the body has one.
  static func failure(_ r: HTTPClient.Response, _ what: String) -> RegistryError {
    var code = ""
    if let json = try? JSONValue.parse(r.body), let first = json["errors"]?.array?.first, let c = first["code"]?.string
    {
      code = " " + c
    }
    let errno: Int32 = r.status == 404 ? ENOENT : r.status == 401 || r.status == 403 ? EACCES : EPROTO
    return RegistryError(errno: errno, detail: "\(what): HTTP \(r.status)\(code)")
  }
}
