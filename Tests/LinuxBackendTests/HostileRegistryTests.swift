import CShim
import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend
@testable import OCI

/// What a hostile registry may send: every answer below once killed the process with a trap
/// (an integer overflow or a negative slice is a runtime trap in Swift, SIGILL, exit 132). Each
/// must be a clear error instead.
@Suite struct HostileRegistryTests {
  static func answer(_ text: String) -> [UInt8] { Array(text.utf8) }

  static func parse(_ raw: [UInt8], limit: Int = 1 << 20) throws(RegistryError) -> HTTPClient.Response {
    try HTTPClient.parse(raw, method: "GET", target: "/v2/x/blobs/y", limit: limit)
  }

  @Test func aNegativeContentLengthIsAnError() {
    #expect(throws: RegistryError.self) {
      try Self.parse(Self.answer("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc"))
    }
  }

  @Test func aContentLengthThatIsNotANumberIsAnError() {
    for value in ["+3", " 3x", "0x10", "99999999999999999999999", "3, 4", ""] {
      #expect(throws: RegistryError.self, "Content-Length: \(value)") {
        try Self.parse(Self.answer("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\nabc"))
      }
    }
  }

  @Test func aChunkSizeNearIntMaxIsAnError() {
    for size in ["7fffffffffffffff", "7ffffffffffffffe", "ffffffffffffffff", "10000000000000000", "-1", "+5"] {
      #expect(throws: RegistryError.self, "chunk size \(size)") {
        try Self.parse(
          Self.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n\(size)\r\nabc\r\n0\r\n\r\n"))
      }
    }
  }

  @Test func aWellFormedAnswerParses() throws {
    let plain = try Self.parse(Self.answer("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef"))
    #expect(plain.status == 200)
    #expect(plain.body == Array("abc".utf8))
    let chunked = try Self.parse(
      Self.answer(
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n"))
    #expect(chunked.status == 201)
    #expect(chunked.body == Array("abc0123456789".utf8))
  }

  /// JSON's \u escape is exactly four hex digits (RFC 8259 section 7); UInt32(_:radix:) also took
  /// a sign, so "\u+041" read as "A".
  @Test func aJSONUnicodeEscapeIsFourHexDigits() throws {
    for bad in ["\"\\u+041\"", "\"\\u-041\"", "\"\\u 041\"", "\"\\u04\"", "\"\\u004G\""] {
      #expect(throws: JSONValue.ParseError.self, "\(bad)") { try JSONValue.parse(Array(bad.utf8)) }
    }
    #expect(try JSONValue.parse(Array("\"\\u0041\\u00e9\"".utf8)) == .string("Aé"))
  }

  /// A PAX extended header (pax(1)) whose record length "1" is shorter than the record itself.
  @Test func aPAXRecordShorterThanItsLengthFieldIsAnError() {
    for record in [
      "1 x", "2 x", "0 x", "3 ", "99999999999999999999 path=a\n", "-5 path=a\n", "9223372036854775807 a=b\n",
    ] {
      let tar = Self.tar(pax: Array(record.utf8), then: "etc/hostname")
      #expect(throws: LayerTar.ReadError.self, "PAX record \(JSON.quote(record))") { try LayerTar.read(tar) }
    }
  }

  @Test func aGoodPAXPathIsRead() throws {
    let long = String(repeating: "d/", count: 80) + "file"
    let tar = Self.tar(pax: LayerTar.Header.paxRecord("path", long), then: "short")
    #expect(try LayerTar.read(tar)["/" + long] != nil)
  }

  /// A tar of a PAX header with `pax` as its body, then an empty file named `name`.
  static func tar(pax: [UInt8], then name: String) -> [UInt8] {
    var h = LayerTar.Header(type: "x", mode: 0o644, size: pax.count)
    h.name = "PaxHeaders/x"
    var out = h.encoded() + pax + [UInt8](repeating: 0, count: (512 - pax.count % 512) % 512)
    var file = LayerTar.Header(type: "0", mode: 0o644)
    file.name = name
    out += file.encoded()
    return out + [UInt8](repeating: 0, count: 1024)
  }

  // MARK: Over the wire: one deadline, and Ctrl-C

  static func client(_ port: Int, seconds: Double, interrupted: @escaping () -> Bool = { false }) -> HTTPClient {
    var client = HTTPClient(host: "127.0.0.1", port: port, deadline: NetDeadline(seconds: seconds))
    client.interrupted = interrupted
    return client
  }

  static func piece(_ text: String, pause: Int = 0) -> LoopbackServer.Piece {
    .init(bytes: Array(text.utf8), pauseMilliseconds: pause)
  }

  /// One header line every 200 ms: each read(2) gets something, so a timeout per read never
  /// fires; the deadline for the whole request does.
  @Test func aServerThatTricklesHeadersHitsTheDeadline() throws {
    let server = try LoopbackServer { _ in
      [Self.piece("HTTP/1.1 200 OK\r\n", pause: 200)]
        + Array(repeating: Self.piece("X-Slow: 1\r\n", pause: 200), count: 50)
    }
    defer { server.stop() }
    let start = ContinuousClock.now
    let error = #expect(throws: RegistryError.self) { try Self.client(server.port, seconds: 1).request("GET", "/v2/") }
    #expect(error?.errno == ETIMEDOUT)
    #expect(error?.detail.contains("within 1 s") == true, "\(String(describing: error))")
    let took = ContinuousClock.now - start
    #expect(took >= .milliseconds(900) && took < .seconds(3), "took \(took)")
  }

  /// A server that accepts and then says nothing: Ctrl-C (here: `interrupted` turning true
  /// after 300 ms) ends the wait within a poll slice, long before the deadline.
  @Test func ctrlCEndsAWaitForASilentServer() throws {
    let server = try LoopbackServer { _ in [Self.piece("", pause: 10_000)] }
    defer { server.stop() }
    let start = ContinuousClock.now
    let client = Self.client(server.port, seconds: 60) { ContinuousClock.now - start > .milliseconds(300) }
    let error = #expect(throws: RegistryError.self) { try client.request("GET", "/v2/") }
    #expect(error?.errno == EINTR)
    #expect(ContinuousClock.now - start < .seconds(2))
  }

  /// The same with a real SIGINT, the way Ctrl-C reaches the REPL: the REPL's handler
  /// (interrupt.c) only sets a flag, and the client's default `interrupted` reads it. The signal
  /// goes to this test's own thread (pthread_kill(3)), so no other test's wait sees it.
  @Test func aRealSIGINTEndsARequest() throws {
    let server = try LoopbackServer { _ in [Self.piece("", pause: 10_000)] }
    defer { server.stop() }
    #expect(bw_install_interrupt_handler() == 0)
    defer { signal(SIGINT, SIG_DFL) }
    // The test runner's threads may block SIGINT; the REPL's thread does not.
    var sigint = sigset_t()
    sigemptyset(&sigint)
    sigaddset(&sigint, SIGINT)
    var saved = sigset_t()
    pthread_sigmask(SIG_UNBLOCK, &sigint, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    let wasBlocked = sigismember(&saved, SIGINT) == 1
    _ = bw_interrupt_take()
    let me = pthread_self()
    let signaller = Thread {
      usleep(300_000)
      pthread_kill(me, SIGINT)
    }
    let start = ContinuousClock.now
    signaller.start()
    let client = HTTPClient(host: "127.0.0.1", port: server.port, deadline: NetDeadline(seconds: 60))
    let error = #expect(throws: RegistryError.self) { try client.request("GET", "/v2/") }
    #expect(error?.errno == EINTR, "SIGINT was blocked in this thread: \(wasBlocked)")
    #expect(error?.detail.contains("interrupted (Ctrl-C)") == true)
    #expect(ContinuousClock.now - start < .seconds(2))
  }

  /// A server that answers and then keeps the connection open (ignoring `Connection: close`):
  /// the answer is complete when its Content-Length has arrived, long before the deadline.
  @Test func aCompleteAnswerIsNotWaitedPastWhenTheServerKeepsTheConnection() throws {
    let server = try LoopbackServer { target in
      target == "/head"
        ? [Self.piece("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", pause: 10_000)]
        : [Self.piece("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), Self.piece("lo", pause: 10_000)]
    }
    defer { server.stop() }
    let start = ContinuousClock.now
    let client = Self.client(server.port, seconds: 5)
    #expect(try client.request("GET", "/body").body == Array("hello".utf8))
    #expect(try client.request("HEAD", "/head").status == 200)
    #expect(ContinuousClock.now - start < .seconds(2))
  }

  @Test func hostileLengthsOverTheWireAreErrors() throws {
    let server = try LoopbackServer { target in
      switch target {
      case "/negative": [Self.piece("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc")]
      case "/huge": [Self.piece("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc")]
      case "/chunk": [Self.piece("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc\r\n")]
      default: [Self.piece("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
      }
    }
    defer { server.stop() }
    let client = Self.client(server.port, seconds: 5)
    for target in ["/negative", "/huge", "/chunk"] {
      let error = #expect(throws: RegistryError.self, "\(target)") { try client.request("GET", target) }
      #expect(error?.errno == EPROTO || error?.errno == EFBIG, "\(target): \(String(describing: error))")
    }
    #expect(try client.request("GET", "/fine").body == Array("ok".utf8))
  }

  // MARK: A pull that fails halfway

  /// Every file and directory under `path`, with its size.
  static func tree(_ path: String) throws -> String {
    try TestChild.run(["find", path, "-printf", "%P %s\\n"]).output.split(separator: "\n").sorted().joined(
      separator: "\n")
  }

  /// A two-layer image whose registry serves the manifest, the config and the first layer, then
  /// stalls in the middle of the second: the pull times out, and the store's files are what they
  /// were (so the error's "nothing was changed" is true). The same image from a registry that
  /// answers is pulled.
  @Test(.requiresRoot) func aPullThatStallsHalfwayLeavesTheStoreAsItWas() throws {
    let tars = [
      LayerTar.write(LayerContents([LayerEntry(path: "/a", kind: .file(Array("one".utf8)), mode: 0o644)])),
      LayerTar.write(LayerContents([LayerEntry(path: "/b", kind: .file(Array("two".utf8)), mode: 0o644)])),
    ]
    let blobs = try tars.map { try Gzip.compress($0) }
    let config = ImageConfig(architecture: "amd64", diffIDs: tars.map { SHA256.digest($0) }).json.encoded()
    let manifest = Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: SHA256.digest(config), size: config.count),
      layers: blobs.map { Descriptor(mediaType: MediaType.layerGzip, digest: SHA256.digest($0), size: $0.count) }
    ).json.encoded()
    let stalls = LockedFlag(true)
    let server = try LoopbackServer { target in
      func ok(_ body: [UInt8]) -> [LoopbackServer.Piece] {
        [.init(bytes: Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)]
      }
      if target.contains("/manifests/") { return ok(manifest) }
      if target.hasSuffix(SHA256.digest(config)) { return ok(config) }
      if target.hasSuffix(SHA256.digest(blobs[0])) { return ok(blobs[0]) }
      if target.hasSuffix(SHA256.digest(blobs[1])) {
        guard stalls.value else { return ok(blobs[1]) }
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: \(blobs[1].count)\r\n\r\n".utf8)
        return [.init(bytes: head + blobs[1].prefix(8), pauseMilliseconds: 10_000)]
      }
      return [Self.piece("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")]
    }
    defer { server.stop() }
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    kernel.registryTimeout = 1
    let ref = try RegistryRef.parse("127.0.0.1:\(server.port)/app:v1").get()
    try kernel.images.ensureBusybox()  // what every layer step does first, so not the pull's doing
    let before = try Self.tree(kernel.images.home)
    let error = #expect(throws: KernelError.self) { try kernel.perform(.layer(.imagePull(ref: ref))) }
    #expect(error?.errno == .ETIMEDOUT, "\(String(describing: error))")
    let after = try Self.tree(kernel.images.home)
    #expect(after == before, "before:\n\(before)\nafter:\n\(after)")
    #expect(server.requests.contains { $0.contains(SHA256.digest(blobs[1])) }, "the pull never got to the second layer")

    stalls.value = false
    kernel.registryTimeout = 10
    try kernel.perform(.layer(.imagePull(ref: ref)))
    #expect(try kernel.facts().images.contains { $0.name == ref.localName })
  }
}

/// A Bool two threads may share.
final class LockedFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Bool
  init(_ value: Bool) { stored = value }
  var value: Bool {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
  }
}
