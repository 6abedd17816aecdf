import Glibc
import Kernel
import NIOCore
import NIOEmbedded
import NIOHTTP1
import OCI

/// One HTTP/1.1 request and its answer, written and read by SwiftNIO's HTTP/1.1 codec
/// (`HTTPRequestEncoder`, and `HTTPResponseDecoder` on llhttp) on an `EmbeddedChannel`: a
/// channel that does no I/O and runs no thread, so the codec works on the bytes HTTPClient moves
/// with its own poll(2) loop, which keeps its deadline and its Ctrl-C. The hand-written parser
/// this replaces was where a hostile server could crash boxwalk (docs/architecture.md, "The
/// registry client"); the codec is the one the daemon's server and client already use.
final class HTTPExchange {
  private let channel = EmbeddedChannel()
  let method: String
  let target: String
  /// The most body bytes this answer may have.
  let limit: Int
  /// The request, as the encoder wrote it.
  private(set) var request: [UInt8] = []
  private var head: HTTPResponseHead?
  private var body: [UInt8] = []
  private var ended = false

  init(
    _ method: String, _ target: String, host: String, port: Int, headers: [(String, String)], body: [UInt8],
    limit: Int
  ) throws(RegistryError) {
    self.method = method
    self.target = target
    self.limit = limit
    var fields = HTTPHeaders([("Host", "\(host):\(port)"), ("User-Agent", "boxwalk"), ("Connection", "close")])
    fields.add(contentsOf: headers)
    if method == "PUT" || method == "POST" { fields.add(name: "Content-Length", value: String(body.count)) }
    let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: fields)
    do {
      try channel.pipeline.syncOperations.addHTTPClientHandlers()
      // The decoder sees the request go out, so it knows that an answer to HEAD has no body.
      try channel.writeOutbound(HTTPClientRequestPart.head(head))
      if !body.isEmpty { try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body)))) }
      try channel.writeOutbound(HTTPClientRequestPart.end(nil))
      while let part = try channel.readOutbound(as: IOData.self) {
        guard case .byteBuffer(let buffer) = part else { continue }
        request += buffer.readableBytesView
      }
    } catch {
      throw RegistryError(errno: EINVAL, detail: "\(method) \(target): \(error)")
    }
  }

  deinit { _ = try? channel.finish(acceptAlreadyClosed: true) }

  var malformed: RegistryError {
    RegistryError(errno: EPROTO, detail: "a malformed HTTP answer to \(method) \(target)")
  }

  /// Takes the next bytes from the server; true once the answer is whole. Bytes after a whole
  /// answer (a server that ignores `Connection: close`) are not read.
  func take(_ bytes: some Collection<UInt8>) throws(RegistryError) -> Bool {
    if ended { return true }
    do {
      try channel.writeInbound(ByteBuffer(bytes: bytes))
    } catch {
      try drain()
      guard ended else { throw malformed }
      return true
    }
    try drain()
    return ended
  }

  /// The server closed the connection: the answer, if it is whole (a body that no length
  /// delimits ends here).
  func closed() throws(RegistryError) -> HTTPClient.Response {
    if !ended {
      channel.pipeline.fireChannelInactive()
      let failed: Bool
      do {
        try channel.throwIfErrorCaught()
        failed = false
      } catch {
        failed = true
      }
      try drain()
      guard ended, !failed else { throw malformed }
    }
    return try response()
  }

  /// The whole answer.
  func response() throws(RegistryError) -> HTTPClient.Response {
    guard ended, let head else { throw malformed }
    return HTTPClient.Response(
      status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: body)
  }

  /// The parts the decoder produced so far, checked against the limit as they come: a length
  /// the server claims is refused before its body is waited for.
  private func drain() throws(RegistryError) {
    while !ended {
      let part: HTTPClientResponsePart?
      do {
        part = try channel.readInbound(as: HTTPClientResponsePart.self)
      } catch {
        throw malformed
      }
      guard let part else { return }
      switch part {
      case .head(let h):
        guard (100...999).contains(h.status.code) else { throw malformed }
        // An answer to HEAD names the length of a body it does not send.
        for value in h.headers["Content-Length"] where method != "HEAD" {
          guard let length = ParsedNumber.decimal(Array(value.utf8), max: Int(Int32.max)), length <= limit else {
            throw tooLarge
          }
        }
        head = h
      case .body(let buffer):
        guard head != nil, buffer.readableBytes <= limit - body.count else { throw tooLarge }
        body += buffer.readableBytesView
      case .end:
        guard head != nil else { throw malformed }
        ended = true
      }
    }
  }

  private var tooLarge: RegistryError {
    RegistryError(errno: EFBIG, detail: "\(method) \(target): more than \(limit) bytes")
  }
}
