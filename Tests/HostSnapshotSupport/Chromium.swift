import Foundation
import Glibc

/// Headless Chromium for the browser tests (docs/pictures.md): where it is, what it said on its
/// console, and a page driven through the DevTools protocol while it stays open.
public enum Chromium {
  /// Debian's `chromium` (or `chromium-browser`) on PATH; scripts/deps and .ci/run install it.
  public static let path: String? = {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
      for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)")
      {
        return "\(dir)/\(name)"
      }
    }
    return nil
  }()

  /// Chromium logs each console message, whatever its level, as `INFO:CONSOLE` (console.error
  /// too), and an uncaught exception as one with "Uncaught". Pages whose script never logs must
  /// leave none.
  public static func consoleMessages(_ stderr: String) -> [Substring] {
    stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
  }

  /// The flags every run takes: headless, no sandbox (the tests run as root), no GPU, nothing
  /// fetched in the background, a throwaway profile, and the console on standard error.
  public static func flags(profile: String) -> [String] {
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
      "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
    ]
  }
}

/// One page of a running headless Chromium, driven over the DevTools protocol: JSON messages on a
/// WebSocket (RFC 6455) to 127.0.0.1, which a few lines of sockets speak well enough for a test.
public final class DevToolsPage {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }

  private let fd: Int32
  private var nextID = 0
  private var pending: [UInt8] = []

  /// Connects to `url`, a page's `webSocketDebuggerUrl` (ws://127.0.0.1:PORT/devtools/page/ID).
  public init(url: String) throws {
    guard url.hasPrefix("ws://127.0.0.1:"), let slash = url.dropFirst(15).firstIndex(of: "/"),
      let port = UInt16(url.dropFirst(15)[..<slash])
    else { throw Failure("not a loopback DevTools URL: \(url)") }
    let path = String(url[slash...])
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else {
      close(fd)
      throw Failure("connect to 127.0.0.1:\(port): errno \(errno)")
    }
    try send(
      Array(
        ("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: Ym94d2Fsay1kZXZ0b29scw==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
    let end = Array("\r\n\r\n".utf8)
    var found: Int?
    while found == nil {
      try receive()
      found = pending.indices.dropLast(3).first { Array(pending[$0..<$0 + 4]) == end }
    }
    let cut = found ?? 0
    let head = String(decoding: pending[..<cut], as: UTF8.self)
    pending.removeFirst(cut + 4)
    guard head.hasPrefix("HTTP/1.1 101") else { throw Failure("the WebSocket handshake was refused: \(head)") }
  }

  deinit { close(fd) }

  /// Calls `method` and returns its `result` (events that arrive meanwhile are passed over).
  @discardableResult
  public func call(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
    nextID += 1
    let id = nextID
    let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
    try sendFrame(Array(message))
    while true {
      let text = try readMessage()
      guard let object = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any],
        object["id"] as? Int == id
      else { continue }
      if let error = object["error"] { throw Failure("\(method): \(error)") }
      return object["result"] as? [String: Any] ?? [:]
    }
  }

  /// The value of a JavaScript expression in the page (an exception is a failure).
  public func evaluate(_ expression: String) throws -> Any? {
    let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
    if let exception = result["exceptionDetails"] { throw Failure("\(expression): \(exception)") }
    return (result["result"] as? [String: Any])?["value"]
  }

  /// Polls `expression` until it is true, for up to `seconds` (while the page still loads, what
  /// it names may not exist yet: an exception counts as false).
  public func wait(until expression: String, seconds: Double = 20) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try evaluate("(() => { try { return (\(expression)) === true; } catch (e) { return false; } })()") as? Bool
        == true
      {
        return true
      }
      usleep(50_000)
    }
    return false
  }

  private func send(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      guard n > 0 else { throw Failure("write: errno \(errno)") }
      offset += n
    }
  }

  private func receive() throws {
    var chunk = [UInt8](repeating: 0, count: 65536)
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { throw Failure(n == 0 ? "DevTools closed the connection" : "read: errno \(errno)") }
    pending += chunk[..<n]
  }

  private func take(_ count: Int) throws -> [UInt8] {
    while pending.count < count { try receive() }
    defer { pending.removeFirst(count) }
    return Array(pending[..<count])
  }

  /// A client's frame: FIN, text, masked (RFC 6455 §5.3 requires a client to mask).
  private func sendFrame(_ payload: [UInt8]) throws {
    var frame: [UInt8] = [0x81]
    if payload.count < 126 {
      frame.append(0x80 | UInt8(payload.count))
    } else if payload.count <= 0xffff {
      frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
    } else {
      frame.append(0x80 | 127)
      frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
    }
    let mask: [UInt8] = [0x5a, 0x13, 0xc7, 0x2e]
    frame += mask
    frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    try send(frame)
  }

  /// The next whole text message (continuation frames joined; a ping answered).
  private func readMessage() throws -> [UInt8] {
    var message: [UInt8] = []
    while true {
      let head = try take(2)
      var length = Int(head[1] & 0x7f)
      if length == 126 {
        length = try take(2).reduce(0) { $0 << 8 | Int($1) }
      } else if length == 127 {
        length = try take(8).reduce(0) { $0 << 8 | Int($1) }
      }
      let masked = head[1] & 0x80 != 0
      let mask = masked ? try take(4) : []
      var payload = try take(length)
      if masked { payload = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } }
      switch head[0] & 0x0f {
      case 0x8: throw Failure("DevTools closed the WebSocket")
      case 0x9: continue
      default: message += payload
      }
      if head[0] & 0x80 != 0 { return message }
    }
  }
}
