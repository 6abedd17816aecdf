import Glibc
import HelperWire
import NetWire

/// The network area's plan entries, made by the helper in its own network namespace
/// (Calls.swift). A socket made by one entry is kept under "socket" for the entries after it;
/// a listener's last entry gives it to the Responder, which answers from it between requests.
extension NetOperations {
  static func make(_ call: NetCall, _ state: inout CallState) -> Calls.Outcome {
    switch call {
    case .rtnetlink(let message): return request(message)
    case .writeIPForward(let on): return setForward(on)
    case .nft(let arguments): return nft(arguments.map { String(decoding: $0, as: UTF8.self) })
    case .socket(let kind): return openSocket(kind, &state)
    case .sendEcho(let address): return sendEcho(to: address, state)
    case .receiveEchoReply(let address, let timeout): return receiveEchoReply(from: address, timeout, state)
    case .bind(let port, let serve): return bind(port, serve: serve, &state)
    case .listen: return listen(&state)
    case .connect(let address, let port, let timeout): return connect(address, port, timeout, &state)
    case .send(let line): return send(line, &state)
    case .receive: return receive(&state)
    }
  }

  /// socket(2): AF_INET of the kind asked, in this helper's network namespace (a socket stays in
  /// the namespace it was made in, network_namespaces(7)). A raw ICMP socket needs CAP_NET_RAW
  /// in the user namespace owning that network namespace (raw(7)); TCP and UDP need nothing.
  /// SOCK_CLOEXEC keeps it out of the programs the helper runs; SOCK_NONBLOCK keeps every later
  /// call from blocking the single-threaded helper (it polls instead).
  static func openSocket(_ kind: String, _ state: inout CallState) -> Calls.Outcome {
    let (type, proto): (__socket_type, Int32) =
      switch kind {
      case "icmp": (SOCK_RAW, ICMPEcho.protocolNumber)
      case "udp": (SOCK_DGRAM, 0)
      default: (SOCK_STREAM, 0)
      }
    let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    let fd = Glibc.socket(AF_INET, Int32(type.rawValue) | flags, proto)
    guard fd >= 0 else { return .failed(errno: errno) }
    state.keep(fd, as: "socket")
    return .made()
  }

  /// sockaddr_in for an IPv4 address (4 bytes, network order) and port.
  static func socketAddress(_ address: [UInt8], port: Int32 = 0) -> sockaddr_in {
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
    withUnsafeMutableBytes(of: &a.sin_addr) { $0.copyBytes(from: address) }
    return a
  }

  /// sendto(2) of an ICMP echo request (icmp(7)). Its identifier is the helper's pid, its
  /// sequence the next of the helper's: the reply carries both back.
  static func sendEcho(to address: [UInt8], _ state: CallState) -> Calls.Outcome {
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    sequenceNumber &+= 1
    let packet = ICMPEcho.request(identifier: echoIdentifier, sequence: sequenceNumber)
    var destination = socketAddress(address)
    let sent = withUnsafePointer(to: &destination) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
        packet.withUnsafeBytes {
          sendto(fd, $0.baseAddress, $0.count, 0, to, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    // No route from here: the kernel refuses at once (ENETUNREACH), nothing leaves.
    return sent >= 0 ? .made() : .failed(errno: errno)
  }

  static var echoIdentifier: UInt16 { UInt16(truncatingIfNeeded: getpid()) }

  /// recvfrom(2) until the reply comes: a raw socket gets a copy of every ICMP packet that
  /// arrives in this namespace (raw(7)), so the reply is picked out by identifier, sequence and
  /// source. No reply within `timeout` milliseconds is an answer too (silence).
  static func receiveEchoReply(from address: [UInt8], _ timeout: Int32, _ state: CallState) -> Calls.Outcome {
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    let deadline = monotonicMilliseconds() + Int64(timeout)
    var buffer = [UInt8](repeating: 0, count: 2048)
    while true {
      let left = deadline - monotonicMilliseconds()
      guard left > 0 else { return .made(EchoOutcome.silence.fields) }
      var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&waiting, 1, Int32(left))
      guard ready > 0 else { continue }
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        return .failed(errno: errno)
      }
      if let received = ICMPEcho.parse(Array(buffer[0..<n])),
        ICMPEcho.isReply(received, to: address, identifier: echoIdentifier, sequence: sequenceNumber)
      {
        return .made(EchoOutcome.reply.fields)
      }
    }
  }

  /// bind(2) to `port` of any address. A port below 1024 needs CAP_NET_BIND_SERVICE (ip(7)); a
  /// port another socket of the namespace has is EADDRINUSE. A UDP listener ends here: the
  /// Responder answers its datagrams from now on.
  static func bind(_ port: Int32, serve: Bool, _ state: inout CallState) -> Calls.Outcome {
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    var address = socketAddress([0, 0, 0, 0], port: port)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0 else { return .failed(errno: errno) }
    if serve { Responder.servers.append(Responder.Server(fd: state.handOver("socket"), udp: true)) }
    return .made()
  }

  /// listen(2): the bound TCP socket takes connections; the Responder accepts and answers them.
  static func listen(_ state: inout CallState) -> Calls.Outcome {
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    guard Glibc.listen(fd, SOMAXCONN) == 0 else { return .failed(errno: errno) }
    Responder.servers.append(Responder.Server(fd: state.handOver("socket"), udp: false))
    return .made()
  }
}

/// `connect`'s entries: connect(2), send(2) of a line, recv(2) of one back, within one time
/// limit for all three (kept in the CallState as "deadline"). How the exchange ends without a
/// line is an answer, not an error: refused (a TCP reset, or for UDP an ICMP port unreachable
/// that a connected socket reports as ECONNREFUSED on the next call, udp(7)) or nothing within
/// the time. The entries after one that ended the exchange are made as nothing. While waiting,
/// the helper keeps answering its own listeners (Responder), so a namespace reaches itself.
extension NetOperations {
  /// End the exchange with `result` (the entries after this one do nothing).
  static func end(_ result: ExchangeResult, _ state: inout CallState) -> Calls.Outcome {
    state.numbers["ended"] = 1
    return .made(result.fields)
  }

  /// Wait for `events` on `fd` until `deadline`, answering the Responder meanwhile; false when
  /// the time is up.
  static func wait(_ fd: Int32, _ events: Int32, until deadline: Int64) -> Bool {
    while true {
      let left = deadline - monotonicMilliseconds()
      guard left > 0 else { return false }
      var set = [pollfd(fd: fd, events: Int16(events), revents: 0)] + Responder.pollSet
      let ready = poll(&set, nfds_t(set.count), Int32(left))
      guard ready > 0 else { continue }
      Responder.handle(Array(set.dropFirst()))
      if set[0].revents != 0 { return true }
    }
  }

  /// connect(2). TCP: the handshake (the non-blocking socket becomes writable when it ends, and
  /// SO_ERROR says how). UDP: only fixes the peer; nothing is sent yet.
  static func connect(_ address: [UInt8], _ port: Int32, _ timeout: Int32, _ state: inout CallState)
    -> Calls.Outcome
  {
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    let deadline = monotonicMilliseconds() + Int64(timeout)
    state.numbers["deadline"] = deadline
    var destination = socketAddress(address, port: port)
    let rc = withUnsafePointer(to: &destination) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc != 0 else { return .made() }
    guard errno == EINPROGRESS else {
      return errno == ECONNREFUSED ? end(.refused, &state) : .failed(errno: errno)
    }
    guard wait(fd, Int32(POLLOUT), until: deadline) else { return end(.timeout, &state) }
    var error: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
      return .failed(errno: errno, note: "getsockopt(SO_ERROR)")
    }
    if error == ECONNREFUSED { return end(.refused, &state) }
    return error == 0 ? .made() : .failed(errno: error)
  }

  /// send(2) of the line and a newline; MSG_NOSIGNAL: a reset peer is EPIPE, not SIGPIPE.
  static func send(_ line: [UInt8], _ state: inout CallState) -> Calls.Outcome {
    guard state.numbers["ended"] == nil else { return .made() }
    guard let fd = state.descriptors["socket"] else { return .failed(errno: EBADF, note: "no socket") }
    let bytes = line + [UInt8(ascii: "\n")]
    let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard sent < 0 else { return .made() }
    return errno == ECONNREFUSED ? end(.refused, &state) : .failed(errno: errno)
  }

  /// recv(2) until one line (a stream) or one datagram comes, the peer closes, or the time is up.
  static func receive(_ state: inout CallState) -> Calls.Outcome {
    guard state.numbers["ended"] == nil else { return .made() }
    guard let fd = state.descriptors["socket"], let deadline = state.numbers["deadline"] else {
      return .failed(errno: EBADF, note: "no connected socket")
    }
    var type: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    _ = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length)
    let udp = type == Int32(SOCK_DGRAM.rawValue)
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 512)
    while wait(fd, Int32(POLLIN), until: deadline) {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 {
        if errno == EAGAIN || errno == EINTR { continue }
        return errno == ECONNREFUSED ? end(.refused, &state) : .failed(errno: errno)
      }
      answer += buffer[0..<n]
      // A datagram is the whole answer; a stream's answer ends with its line or the close.
      if udp || n == 0 || answer.contains(UInt8(ascii: "\n")) || answer.count >= Responder.maxLine { break }
    }
    if answer.isEmpty { return end(udp ? .timeout : .connected, &state) }
    let line = answer.prefix { $0 != UInt8(ascii: "\n") }
    return end(.answered(String(decoding: line, as: UTF8.self)), &state)
  }
}
