import Glibc
import HelperWire

/// The lab's tiny server: sockets this helper holds in its network namespace (`net listen`) and
/// answers between requests, so a learner's `connect` gets something back. Each TCP connection's
/// first line, and each UDP datagram, is answered with the same line followed by " from ADDR",
/// ADDR being the sender's address as this namespace saw it (accept(2) and recvfrom(2) report
/// it): after a masquerade that is the rewritten source, not the box's own address. The same
/// responder by hand, with socat(1):
///
///     socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'read l; echo "$l from $SOCAT_PEERADDR"'
///
/// The helper is single-threaded: it never blocks on one client. Every socket here is
/// non-blocking, and the request loop polls them beside its channel to boxwalk (Channel.receive),
/// as does the helper's own client while it waits for an answer (NetCalls.swift, connect), so a
/// connection from a namespace to itself is answered too.
enum Responder {
  struct Server {
    var fd: Int32
    var udp: Bool
  }

  /// Sockets of `net listen` (NetCalls.swift): a listening TCP socket, or a bound UDP socket.
  nonisolated(unsafe) static var servers: [Server] = []
  /// Accepted TCP connections whose line has not come yet.
  nonisolated(unsafe) static var connections: [Int32] = []
  /// A client that connects and never writes must not pile up sockets: past this many, the
  /// oldest waiting connection is closed.
  static let maxWaiting = 16
  /// The longest line answered; more is cut (one read, one answer).
  static let maxLine = 256

  /// Close everything (the helper is leaving the network namespace these sockets are in).
  static func closeAll() {
    for s in servers { _ = close(s.fd) }
    for c in connections { _ = close(c) }
    servers = []
    connections = []
  }

  /// What to poll(2) for: every server and waiting connection, readable.
  static var pollSet: [pollfd] {
    (servers.map(\.fd) + connections).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
  }

  /// Answer whatever poll(2) found ready in `ready` (a result of polling `pollSet`).
  static func handle(_ ready: [pollfd]) {
    for entry in ready where entry.revents != 0 {
      if let server = servers.first(where: { $0.fd == entry.fd }) {
        server.udp ? answerDatagram(server.fd) : accept(server.fd)
      } else if connections.contains(entry.fd) {
        answerConnection(entry.fd)
      }
    }
  }

  /// accept(2) every connection the kernel has queued (the handshake is already done), each
  /// made non-blocking and close-on-exec with fcntl(2) (the helper is single-threaded: no
  /// program starts in between).
  static func accept(_ fd: Int32) {
    while true {
      let client = Glibc.accept(fd, nil, nil)
      guard client >= 0 else { return }
      _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
      _ = fcntl(client, F_SETFD, FD_CLOEXEC)
      connections.append(client)
      if connections.count > maxWaiting { _ = close(connections.removeFirst()) }
    }
  }

  /// One read; a line answers and the connection closes. EOF without a line just closes it.
  static func answerConnection(_ fd: Int32) {
    var buffer = [UInt8](repeating: 0, count: maxLine)
    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
    if n > 0 {
      var peer = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let known = withUnsafeMutablePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
      }
      let reply = answer(to: Array(buffer[0..<n]), from: known == 0 ? peer : nil)
      _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
    _ = close(fd)
    connections.removeAll { $0 == fd }
  }

  /// Every datagram waiting: each is answered to the address it came from (sendto(2)).
  static func answerDatagram(_ fd: Int32) {
    var buffer = [UInt8](repeating: 0, count: maxLine)
    while true {
      var peer = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let n = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length)
          }
        }
      }
      guard n >= 0 else { return }
      let reply = answer(to: Array(buffer[0..<n]), from: peer)
      _ = reply.withUnsafeBytes { bytes in
        withUnsafePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length)
          }
        }
      }
    }
  }

  /// "LINE from ADDR\n": the first line of what came, without its line end, and the sender.
  static func answer(to bytes: [UInt8], from peer: sockaddr_in?) -> [UInt8] {
    let line = bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
    var text = Array(line)
    if let peer {
      let a = withUnsafeBytes(of: peer.sin_addr) { Array($0) }
      text += Array(" from \(a[0]).\(a[1]).\(a[2]).\(a[3])".utf8)
    }
    return text + [UInt8(ascii: "\n")]
  }
}
