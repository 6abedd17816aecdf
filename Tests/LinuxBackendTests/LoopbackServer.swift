import Foundation
import Glibc

/// A registry that is not one, for tests: a thread that listens on 127.0.0.1 (a port the kernel
/// picks) and answers each connection with what `answer` returns for the request's target, one
/// piece at a time, with a pause after each piece. It never runs longer than its pieces and
/// pauses, and `stop()` ends it at once: the test's network traffic stays on loopback, and the
/// thread ends with the test.
final class LoopbackServer: @unchecked Sendable {
  struct Piece: Sendable {
    var bytes: [UInt8]
    var pauseMilliseconds = 0
  }

  let port: Int
  private let listener: Int32
  private let lock = NSLock()
  private var stopped = false
  private let done = DispatchSemaphore(value: 0)
  /// The request line of every request seen ("GET /v2/... HTTP/1.1").
  private var seen: [String] = []

  init(_ answer: @escaping @Sendable (_ target: String) -> [Piece]) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard ready else {
      close(fd)
      throw POSIXError(.EADDRNOTAVAIL)
    }
    listener = fd
    port = Int(UInt16(bigEndian: address.sin_port))
    let thread = Thread { [self] in
      serve(answer)
      done.signal()
    }
    thread.start()
  }

  var requests: [String] { lock.withLock { seen } }

  private var isStopped: Bool { lock.withLock { stopped } }

  private func serve(_ answer: (String) -> [Piece]) {
    while !isStopped {
      let fd = accept(listener, nil, nil)
      if fd < 0 {
        if errno == EINTR { continue }
        return  // shutdown(2) of the listener by stop()
      }
      // Read the request head (a test request has no body worth reading), for at most 2 s.
      var timeout = timeval(tv_sec: 2, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var head: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 4096)
      while !head.suffix(4).elementsEqual([13, 10, 13, 10]) && head.count < 1 << 16 {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        head += buffer.prefix(n)
      }
      let requestLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
      lock.withLock { seen.append(requestLine) }
      let target = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? ""
      pieces: for piece in answer(target) {
        if !piece.bytes.isEmpty {
          let sent = piece.bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
          if sent < 0 { break }
        }
        // Pause, but not past stop() or the client closing its end (the socket turns readable).
        var left = piece.pauseMilliseconds
        while left > 0 {
          if isStopped { break pieces }
          var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
          if poll(&waiting, 1, Int32(min(left, 20))) > 0 { break pieces }
          left -= 20
        }
      }
      close(fd)
    }
  }

  /// Stops accepting, ends the answer under way, and waits for the thread (at most 5 s).
  func stop() {
    lock.withLock { stopped = true }
    shutdown(listener, Int32(SHUT_RDWR))
    _ = done.wait(timeout: .now() + 5)
    close(listener)
  }
}
