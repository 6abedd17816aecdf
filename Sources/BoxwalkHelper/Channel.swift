import Glibc
import HelperWire

/// The helper's end of the socketpair: one message per send(2) and recv(2).
struct Channel {
  let fd: Int32

  enum Message {
    case request(HelperRequest)
    case undecodable(String)
  }

  /// getsockopt(2) SO_TYPE: is fd 3 the SOCK_SEQPACKET socket boxwalk gives us?
  var isSeqpacketSocket: Bool {
    var type: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return false }
    return type == Int32(SOCK_SEQPACKET.rawValue)
  }

  /// The next request; nil at end of file (boxwalk closed its end or died) or on a read error.
  ///
  /// Between requests the helper also reaps its children as they exit (`box`'s signalfd): a box
  /// that joined another box's pid namespace has its programs there, and when that namespace's
  /// PID 1 dies the kernel kills them and holds PID 1's exit until their parent, this helper,
  /// has reaped them (zap_pid_ns_processes in kernel/pid_namespace.c). Waiting for the next
  /// request to reap them left the other box's `kill 1` waiting for ever.
  func receive(reaping box: BoxOperations? = nil) -> Message? {
    var buffer = [UInt8](repeating: 0, count: Framing.maxMessage)
    // Between requests the helper answers its lab server's sockets (Responder): poll(2) for the
    // channel and for them, and read the channel only when it has a message.
    let children = box?.childEventsFD ?? -1
    while true {
      var set =
        [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: children, events: Int16(POLLIN), revents: 0)]
        + Responder.pollSet
      let ready = poll(&set, nfds_t(set.count), -1)
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { break }
      if set[1].revents != 0 { box?.reapExited() }
      Responder.handle(Array(set.dropFirst(2)))
      if set[0].revents != 0 { break }
    }
    while true {
      // MSG_TRUNC makes recv return the real length even when the message did not fit.
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return nil }
      guard n <= buffer.count else { return .undecodable("message of \(n) bytes, the limit is \(buffer.count)") }
      do {
        let fields = try Framing.decode(Array(buffer[0..<n]))
        guard let request = HelperRequest(fields: fields) else {
          return .undecodable("unknown request \(Framing.string(fields[0])) with \(fields.count - 1) argument(s)")
        }
        return .request(request)
      } catch {
        return .undecodable("\(error)")
      }
    }
  }

  /// Send a reply. MSG_NOSIGNAL: if boxwalk is gone we get EPIPE instead of dying of SIGPIPE, and
  /// the next receive() sees end of file.
  func send(_ reply: HelperReply) {
    let bytes =
      reply.encoded() ?? HelperReply.err(errno: EPROTO, call: .protocolError, note: "reply too large").encoded() ?? []
    while true {
      let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n < 0 && errno == EINTR { continue }
      return
    }
  }
}
