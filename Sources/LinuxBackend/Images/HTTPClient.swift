import CShim
import Glibc
import Kernel
import OCI

// Why a hand-written client and not async-http-client: the registry boxwalk talks to is on
// loopback, without TLS, one request per connection, and the code that calls it is synchronous
// kernel work run one step at a time. async-http-client would bring SwiftNIO and NIOSSL (minutes
// more of every clean build on a small machine) and an event loop to bridge back to blocking
// code. The price of writing it here is that every byte from the server is hostile input: every
// number below is parsed with checked arithmetic (ParsedNumber), every length is checked against
// what arrived before anything is sliced, and the whole exchange has one deadline and stops at
// Ctrl-C. Moving to async-http-client is planned with the daemon, which has an event loop anyway.

/// Just enough HTTP/1.1 (RFC 9112) to talk to a registry on loopback: one request per
/// connection (`Connection: close`), a body by Content-Length or chunked, bounded reads. boxwalk
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
    var head = "\(what) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: boxwalk\r\nConnection: close\r\n"
    for (k, v) in headers { head += "\(k): \(v)\r\n" }
    if method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    try send(fd, Array(head.utf8) + body, what)
    let raw = try receive(fd, cap: limit + 64 * 1024, method: method, what)
    return try Self.parse(raw, method: method, target: target, limit: limit)
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

  /// Everything the server sends until it closes the connection, or `cap` bytes, or a whole
  /// answer (`complete`).
  private func receive(_ fd: Int32, cap: Int, method: String, _ what: String) throws(RegistryError) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while out.count < cap {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        out += chunk.prefix(n)
        if Self.complete(out, method: method) { break }
      } else if n == 0 {
        break
      } else if errno == EAGAIN || errno == EINTR {
        try wait(fd, for: POLLIN, "read the answer to \(what)")
      } else {
        throw RegistryError(errno: errno, detail: "read the answer to \(what)")
      }
    }
    return out
  }

  /// Whether `raw` already holds a whole answer: its head and, for a HEAD request, nothing
  /// more, or as many body bytes as a valid Content-Length says. A server that keeps the
  /// connection open after answering, despite `Connection: close`, is then not waited for until
  /// the deadline. A chunked body is complete only when the server closes.
  static func complete(_ raw: [UInt8], method: String) -> Bool {
    guard let end = find([13, 10, 13, 10], in: raw) else { return false }
    if method == "HEAD" { return true }
    var length: Int?
    for line in raw[..<end].split(separator: [13, 10]) {
      let text = String(decoding: line, as: UTF8.self).lowercased()
      if text.hasPrefix("transfer-encoding:") { return false }
      if text.hasPrefix("content-length:") {
        length = ParsedNumber.decimal(Array(text.dropFirst(15).trimmingSpaces.utf8), max: Int(Int32.max))
      }
    }
    guard let length else { return false }
    return raw.count - (end + 4) >= length
  }

  /// The status, headers and body of one answer. Only what arrived is sliced: a length the
  /// server claims is checked against the bytes first.
  static func parse(_ raw: [UInt8], method: String, target: String, limit: Int) throws(RegistryError) -> Response {
    let bad = RegistryError(errno: EPROTO, detail: "a malformed HTTP answer to \(method) \(target)")
    guard let end = find([13, 10, 13, 10], in: raw) else { throw bad }
    let lines = raw[..<end].split(separator: [13, 10], omittingEmptySubsequences: false)
    // "HTTP/1.1 200 OK": the status is exactly three digits (RFC 9112 section 4).
    guard let statusLine = lines.first, statusLine.starts(with: Array("HTTP/1.".utf8)), statusLine.count >= 12,
      statusLine[statusLine.startIndex + 8] == UInt8(ascii: " "),
      let status = ParsedNumber.decimal(statusLine.dropFirst(9).prefix(3), max: 999), status >= 100
    else { throw bad }
    var headers: [(String, String)] = []
    for line in lines.dropFirst() {
      let text = String(decoding: line, as: UTF8.self)
      guard let colon = text.firstIndex(of: ":") else { continue }
      headers.append((String(text[..<colon]), text[text.index(after: colon)...].trimmingSpaces))
    }
    var response = Response(status: status, headers: headers, body: [])
    if method == "HEAD" { return response }
    var body = Array(raw[(end + 4)...])
    if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
      body = try dechunk(body, limit: limit, bad)
    } else if let text = response.header("Content-Length") {
      // 1*DIGIT (RFC 9110 section 8.6): no sign, no list. A length past `limit` is refused
      // before anything is sliced by it.
      let lengths = headers.filter { $0.0.lowercased() == "content-length" }.map(\.1)
      guard Set(lengths).count == 1, let length = ParsedNumber.decimal(Array(text.utf8), max: Int(Int32.max)) else {
        throw bad
      }
      guard length <= limit else {
        throw RegistryError(errno: EFBIG, detail: "\(method) \(target): more than \(limit) bytes")
      }
      guard body.count >= length else {
        throw RegistryError(errno: EPROTO, detail: "\(method) \(target): the answer ended early")
      }
      body = Array(body.prefix(length))
    }
    guard body.count <= limit else {
      throw RegistryError(errno: EFBIG, detail: "\(method) \(target): more than \(limit) bytes")
    }
    response.body = body
    return response
  }

  /// The body of a chunked answer (RFC 9112 section 7.1): "SIZE[;ext]\r\n" (SIZE in hex), SIZE
  /// bytes, "\r\n", ..., and a chunk of size 0. No chunk, and not all of them together, may be
  /// larger than `limit`, which also keeps every offset far from overflowing.
  static func dechunk(_ data: [UInt8], limit: Int, _ bad: RegistryError) throws(RegistryError) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while true {
      guard let lineEnd = find([13, 10], in: data, from: i) else { throw bad }
      let sizeField = data[i..<lineEnd].prefix { $0 != UInt8(ascii: ";") }
      let digits = Array(String(decoding: sizeField, as: UTF8.self).trimmingSpaces.utf8)
      guard let size = ParsedNumber.hexadecimal(digits, max: limit - out.count) else {
        // Hex digits that are too large are a body past the limit; anything else is garbage.
        guard ParsedNumber.hexadecimal(digits, max: Int.max) != nil || digits.allSatisfy(\.isHexDigit) else {
          throw bad
        }
        throw RegistryError(errno: EFBIG, detail: "\(bad.detail): more than \(limit) bytes")
      }
      i = lineEnd + 2
      if size == 0 { return out }
      guard size <= data.count - i else { throw bad }
      out += data[i..<i + size]
      i += size
      guard data.count - i >= 2, data[i] == 13, data[i + 1] == 10 else { throw bad }
      i += 2
    }
  }

  static func find(_ needle: [UInt8], in data: [UInt8], from start: Int = 0) -> Int? {
    guard data.count >= needle.count, start >= 0, start <= data.count - needle.count else { return nil }
    for i in start...(data.count - needle.count)
    where data[i] == needle[0] && Array(data[i..<i + needle.count]) == needle {
      return i
    }
    return nil
  }
}

extension UInt8 {
  fileprivate var isHexDigit: Bool {
    (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
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

extension Substring {
  var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }
}

extension String {
  var trimmingSpaces: String { Substring(self).trimmingSpaces }
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
