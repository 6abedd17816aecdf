import Glibc

/// `boxwalk daemon --listen 127.0.0.1:PORT`: a second, optional listener on a loopback TCP port,
/// for programs that cannot open a Unix socket (docs/daemon.md, "TCP on loopback").
///
/// TCP has no SO_PEERCRED: the kernel records no uid for the other end of a TCP connection, so
/// the daemon cannot tell who is asking. Instead every request must carry the token the daemon
/// printed at start (`Authorization: Bearer TOKEN`, RFC 6750), and a request that does acts as the
/// daemon's own uid: whoever holds the token has the daemon's power, as whoever may open
/// /var/run/docker.sock has dockerd's. Only loopback addresses are taken, so the port is never
/// reachable from another machine, where the token would cross the network in clear text.
public struct TCPListener: Sendable, Equatable {
  /// The address as given, for bind(2): an IPv4 literal in 127.0.0.0/8, or ::1.
  public var host: String
  /// 0 lets the kernel choose a free port; the daemon prints the one it got.
  public var port: Int
  /// 32 bytes from the system's random source, as 64 hex digits.
  public var token: String

  public init(host: String, port: Int, token: String) {
    self.host = host
    self.port = port
    self.token = token
  }

  /// Why `--listen` was refused, as the lines of the refusal; nothing has been started.
  public struct Refusal: Error, Sendable, Equatable {
    public var lines: [String]
  }

  /// `127.0.0.1:8080` or `[::1]:8080`: a loopback address and a port, with a fresh token.
  public static func parse(_ text: String) throws(Refusal) -> TCPListener {
    let (host, port) = try loopbackAddress(text)
    return TCPListener(host: host, port: port, token: newToken())
  }

  /// The host and port of `127.0.0.1:8080` or `[::1]:8080`, refused unless it is loopback. The
  /// client (`--host tcp://...`) reads its address with this too.
  public static func loopbackAddress(_ text: String) throws(Refusal) -> (host: String, port: Int) {
    let (host, port) = try split(text)
    guard isLoopback(host) else {
      throw Refusal(lines: [
        "error: --listen takes a loopback address (127.0.0.1 or ::1), not \(host)",
        "  rule:    the API runs labs as the daemon's user; it is never offered beyond this machine",
        "  fix:     boxwalk daemon --listen 127.0.0.1:\(port)",
        "  state:   nothing was started",
      ])
    }
    return (host, port)
  }

  private static func split(_ text: String) throws(Refusal) -> (String, Int) {
    let usage = Refusal(lines: [
      "error: --listen takes ADDRESS:PORT (127.0.0.1:2375 or [::1]:2375), not \(text)",
      "  fix:     boxwalk daemon --listen 127.0.0.1:2375",
      "  state:   nothing was started",
    ])
    let host: Substring
    let portText: Substring
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw usage }
      host = text[text.index(after: text.startIndex)..<close]
      portText = text[text.index(close, offsetBy: 2)...]
    } else {
      guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw usage }
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    }
    guard !host.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port) else {
      throw usage
    }
    return (String(host), port)
  }

  /// Whether `host` is a numeric loopback address: inet_pton(3) must read it, as 127.0.0.0/8 or
  /// ::1. Names (`localhost`) are not looked up: what a name resolves to is the resolver's choice.
  static func isLoopback(_ host: String) -> Bool {
    var v4 = in_addr()
    if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, host, &v6) == 1 {
      return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
    }
    return false
  }

  /// 256 bits from SystemRandomNumberGenerator, which reads getrandom(2): the kernel's CSPRNG,
  /// the source /dev/urandom reads too.
  static func newToken() -> String {
    var g = SystemRandomNumberGenerator()
    return (0..<4).map { _ in
      let hex = String(g.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }

  /// Whether an Authorization header carries this token. Compared in time that does not depend
  /// on where the first difference is, so the token cannot be guessed a byte at a time.
  func accepts(_ authorization: String?) -> Bool {
    guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
    let given = Array(authorization.utf8.dropFirst("Bearer ".utf8.count))
    let want = Array(token.utf8)
    guard given.count == want.count else { return false }
    var difference: UInt8 = 0
    for (a, b) in zip(given, want) { difference |= a ^ b }
    return difference == 0
  }
}
