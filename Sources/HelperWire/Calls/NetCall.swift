/// The network area's plan entries as the helper makes them (HelperCall.swift). Each is made in
/// the helper's own network namespace; a socket one entry opens is kept for the next ones of the
/// same request under the name "socket" (boxwalk-helper's NetCalls.swift).
package enum NetCall: Equatable, Sendable {
  /// One rtnetlink(7) request, built by boxwalk (NetWire) with NLM_F_ACK, sent on a NETLINK_ROUTE
  /// socket opened for it; the kernel's NLMSG_ERROR answer is the entry's errno.
  case rtnetlink([UInt8])
  /// The write of net.ipv4.ip_forward ("1" or "0") to /proc/sys/net/ipv4/ip_forward.
  case writeIPForward(Bool)
  /// nft(8) with these arguments, run by the helper and waited for. Answer: ToolRun.
  case nft(arguments: [[UInt8]])
  /// socket(2) of `kind` ("icmp" a raw ICMP socket, "tcp", "udp"), non-blocking, kept as "socket".
  case socket(kind: String)
  /// sendto(2) of one ICMP echo request to the IPv4 address (4 bytes).
  case sendEcho(address: [UInt8])
  /// recvfrom(2) until the reply to that echo comes, or `timeout` milliseconds pass.
  /// Answer: EchoOutcome.
  case receiveEchoReply(address: [UInt8], timeout: Int32)
  /// bind(2) to `port` of any address. `serve`: the socket is the helper's to answer from now on
  /// (a UDP listener, whose last entry this is).
  case bind(port: Int32, serve: Bool)
  /// listen(2); the socket is the helper's to answer from now on.
  case listen
  /// connect(2) to address:port, the exchange that follows given `timeout` milliseconds in all.
  /// Answer: nothing, or the ExchangeResult that ends the exchange here (refused, timeout).
  case connect(address: [UInt8], port: Int32, timeout: Int32)
  /// send(2) of the line and a newline. Answer: nothing, or ExchangeResult.refused.
  case send(line: [UInt8])
  /// recv(2) of one line. Answer: the ExchangeResult (nothing if an earlier entry ended it).
  case receive

  package var fields: [[UInt8]] {
    let t = Framing.text
    let n = { (v: Int32) in Framing.number(v) }
    switch self {
    case .rtnetlink(let message): return [t("rtnetlink"), message]
    case .writeIPForward(let on): return [t("write-ip-forward"), t(on ? "1" : "0")]
    case .nft(let arguments): return [t("nft")] + arguments
    case .socket(let kind): return [t("socket"), t(kind)]
    case .sendEcho(let address): return [t("send-echo"), address]
    case .receiveEchoReply(let address, let timeout): return [t("receive-echo-reply"), address, n(timeout)]
    case .bind(let port, let serve): return [t("bind"), n(port), t(serve ? "serve" : "keep")]
    case .listen: return [t("listen")]
    case .connect(let address, let port, let timeout): return [t("connect"), address, n(port), n(timeout)]
    case .send(let line): return [t("send"), line]
    case .receive: return [t("receive")]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    let int = { (field: [UInt8]) in Framing.integer(field, as: Int32.self) }
    switch (name, args.count) {
    case ("rtnetlink", 1): self = .rtnetlink(args[0])
    case ("write-ip-forward", 1):
      switch Framing.string(args[0]) {
      case "1": self = .writeIPForward(true)
      case "0": self = .writeIPForward(false)
      default: return nil
      }
    case ("nft", _): self = .nft(arguments: args)
    case ("socket", 1):
      let kind = Framing.string(args[0])
      guard ["icmp", "tcp", "udp"].contains(kind) else { return nil }
      self = .socket(kind: kind)
    case ("send-echo", 1) where args[0].count == 4: self = .sendEcho(address: args[0])
    case ("receive-echo-reply", 2) where args[0].count == 4:
      guard let timeout = int(args[1]) else { return nil }
      self = .receiveEchoReply(address: args[0], timeout: timeout)
    case ("bind", 2):
      guard let port = int(args[0]), (0...65535).contains(port), ["serve", "keep"].contains(Framing.string(args[1]))
      else { return nil }
      self = .bind(port: port, serve: Framing.string(args[1]) == "serve")
    case ("listen", 0): self = .listen
    case ("connect", 3) where args[0].count == 4:
      guard let port = int(args[1]), (1...65535).contains(port), let timeout = int(args[2]) else { return nil }
      self = .connect(address: args[0], port: port, timeout: timeout)
    case ("send", 1): self = .send(line: args[0])
    case ("receive", 0): self = .receive
    default: return nil
    }
  }
}
