import Glibc
import Kernel
import OCI

/// Just enough HTTP/1.1 (RFC 9112) to talk to a registry on loopback: one request per
/// connection (`Connection: close`), a body by Content-Length or chunked, bounded reads and
/// 30-second timeouts. boxwalk talks only to 127.0.0.1 (RegistryRef refuses other hosts), so there
/// is no TLS and no name lookup.
struct HTTPClient {
  let host: String
  let port: Int

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
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw RegistryError(errno: errno, detail: "socket(AF_INET, SOCK_STREAM)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)  // 127.0.0.1: loopback only
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw RegistryError(errno: errno, detail: "connect(127.0.0.1:\(port))") }
    var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: boxwalk\r\nConnection: close\r\n"
    for (k, v) in headers { head += "\(k): \(v)\r\n" }
    if method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    do {
      try FileDescriptors.writeAll(fd, Array(head.utf8) + body, shown: "\(method) \(target)")
    } catch {
      throw RegistryError(errno: error.errno, detail: "send \(method) \(target)")
    }
    let raw: [UInt8]
    do {
      raw = try FileDescriptors.readAll(fd, shown: "\(method) \(target)", limit: limit + 64 * 1024)
    } catch {
      throw RegistryError(errno: error.errno, detail: "read the answer to \(method) \(target)")
    }
    return try Self.parse(raw, method: method, target: target, limit: limit)
  }

  static func parse(_ raw: [UInt8], method: String, target: String, limit: Int) throws(RegistryError) -> Response {
    let bad = RegistryError(errno: EPROTO, detail: "a malformed HTTP answer to \(method) \(target)")
    guard let end = find([13, 10, 13, 10], in: raw) else { throw bad }
    let lines = String(decoding: raw[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
    guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."), statusLine.count >= 12,
      let status = Int(statusLine.dropFirst(9).prefix(3))
    else { throw bad }
    var headers: [(String, String)] = []
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces))
    }
    var response = Response(status: status, headers: headers, body: [])
    var body = Array(raw[(end + 4)...])
    if method == "HEAD" { return response }
    if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
      body = try dechunk(body, bad)
    } else if let length = response.header("Content-Length").flatMap({ Int($0) }) {
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

  static func dechunk(_ data: [UInt8], _ bad: RegistryError) throws(RegistryError) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while true {
      guard let lineEnd = find([13, 10], in: data, from: i) else { throw bad }
      let sizeText =
        String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
      guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw bad }
      i = lineEnd + 2
      if size == 0 { return out }
      guard i + size <= data.count else { throw bad }
      out += data[i..<i + size]
      i += size + 2
    }
  }

  static func find(_ needle: [UInt8], in data: [UInt8], from start: Int = 0) -> Int? {
    guard data.count >= needle.count, start <= data.count - needle.count else { return nil }
    for i in start...(data.count - needle.count)
    where data[i] == needle[0] && Array(data[i..<i + needle.count]) == needle {
      return i
    }
    return nil
  }
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
