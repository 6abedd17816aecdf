/// Would a TCP connect(2) from one lab namespace to `address:port` complete its handshake? The
/// ping model's walk (PingModel) for the SYN and its answer, plus the two things TCP adds:
///
/// 1. Destination NAT. A SYN that arrives in a namespace for one of its own addresses passes that
///    namespace's prerouting rules first (hook NF_INET_PRE_ROUTING, before the routing decision):
///    a published port's rule (NetRule.publish) gives it the box's address and port as its
///    destination, so the namespace now forwards it (net.ipv4.ip_forward must be 1) instead of
///    taking it itself. A connection the namespace makes itself never passes prerouting
///    (locally made packets go through the output hook), so a published port is for others.
/// 2. A listener. The namespace the SYN ends in answers with SYN-ACK when a socket listens on the
///    port (listen(2)), and with a reset (RST) when none does: connect(2) fails with ECONNREFUSED.
///
/// The answer goes back as a ping's reply does; connection tracking (conntrack(8)) turns the
/// rewritten addresses back on the way, so the client sees the address it connected to.
///
/// UDP (`proto` "udp") takes the same walk: a datagram instead of the SYN, a published udp port,
/// a bound UDP socket instead of a listener, and an ICMP port unreachable instead of the reset.
///
/// When the connection is made (or the datagram arrives), `connect` sends one line, `greeting`,
/// and the lab's responder there (`net listen`) answers with the line and the address it saw the
/// sender at: `answer(...)` is what the model expects back.
public enum ConnectModel {
  /// The line `connect` sends.
  public static let greeting = "hello"

  /// What the responder answers: the line, then the sender's address as the far end saw it.
  public static func reply(_ line: String, seenFrom peer: IPv4Address) -> String { "\(line) from \(peer)" }

  /// The answer the model expects `connect` to get back, nil when it expects none.
  public static func answer(
    _ view: NetworkView, from side: String, to address: IPv4Address, port: Int, proto: String = "tcp"
  ) -> String? {
    let (verdict, peer) = walk(view, from: side, to: address, port: port, proto: proto)
    guard case .connected = verdict, let peer else { return nil }
    return reply(greeting, seenFrom: peer)
  }

  public static func connect(
    _ view: NetworkView, from side: String, to address: IPv4Address, port: Int, proto: String = "tcp"
  ) -> ConnectVerdict {
    walk(view, from: side, to: address, port: port, proto: proto).verdict
  }

  /// The verdict, and the source address the far end sees (after any source NAT on the way).
  static func walk(_ view: NetworkView, from side: String, to address: IPv4Address, port: Int, proto: String)
    -> (verdict: ConnectVerdict, peer: IPv4Address?)
  {
    guard let source = view.namespace(of: side) else { return (.unreachable(.notALabNamespace(side)), nil) }
    let model = PingModel.Walk(view: view)
    if model.isLocal(source, address) {
      guard let lo = source.net.links.first(where: { $0.kind == NetLinkFacts.loopback }), lo.up else {
        return (.unreachable(.loopbackDown(namespace: source.name)), nil)
      }
      // A packet to one of the namespace's own addresses goes out with that address as its source.
      return (
        answer(
          source, address, port, proto, published: nil,
          .connected(path: [NetEndpoint(source.name, lo.name)], rewrites: [], published: nil)),
        address
      )
    }
    var seenFrom: IPv4Address? = nil
    let verdict = carry(view, model, source, address, port, proto, seenFrom: &seenFrom)
    return (verdict, seenFrom)
  }

  static func carry(
    _ view: NetworkView, _ model: PingModel.Walk, _ source: NetworkView.Namespace, _ address: IPv4Address,
    _ port: Int, _ proto: String, seenFrom peer: inout IPv4Address?
  ) -> ConnectVerdict {
    guard let route = model.lookup(source, address) else {
      return .unreachable(
        .noRoute(namespace: source.name, to: address, reply: false, hint: model.hint(source, address)))
    }
    let nextHop = route.gateway ?? address
    guard let from = model.sourceAddress(source, device: route.device, nextHop: nextHop) else {
      return .unreachable(.noSourceAddress(namespace: source.name, link: route.device))
    }
    var there: NetworkView.Namespace
    var path: [NetEndpoint]
    var seenFrom: IPv4Address
    var rewrites: [NetRewrite]
    switch model.carry(from: source, route: route, to: address, source: from, reply: false) {
    case .failed(let failure): return .unreachable(failure)
    case .arrived(let end, let crossed, let seen, let made):
      (there, path, seenFrom, rewrites) = (end, crossed, seen, made)
    }
    // 1. Destination NAT in the namespace that has the address.
    var target = (address: address, port: port)
    let published = publishedPort(there, port, proto)
    if let published {
      target = (published.rewritten, published.rewrittenPort)
      if !model.isLocal(there, target.address) {
        guard there.net.forward else {
          return .unreachable(.noForwarding(namespace: there.name, to: target.address, reply: false))
        }
        guard let next = model.lookup(there, target.address) else {
          return .unreachable(
            .noRoute(namespace: there.name, to: target.address, reply: false, hint: model.hint(there, target.address)))
        }
        switch model.carry(from: there, route: next, to: target.address, source: seenFrom, reply: false) {
        case .failed(let failure): return .unreachable(failure)
        case .arrived(let end, let more, let seen, let moreRewrites):
          there = end
          path += more
          seenFrom = seen
          rewrites += moreRewrites
        }
      }
    }
    // The answer (SYN-ACK, or RST) goes back to the address the SYN came from.
    if model.isLocal(there, seenFrom) { return .unreachable(.addressInBoth(address: seenFrom, namespace: there.name)) }
    guard let back = model.lookup(there, seenFrom) else {
      return .unreachable(.noRoute(namespace: there.name, to: seenFrom, reply: true, hint: model.hint(there, seenFrom)))
    }
    var reply = model.carry(from: there, route: back, to: seenFrom, source: target.address, reply: true)
    for rewrite in rewrites.reversed() {
      guard case .arrived(let at, _, _, _) = reply else { break }
      guard at.name == rewrite.namespace, let onward = model.lookup(at, rewrite.original) else { break }
      reply = model.carry(from: at, route: onward, to: rewrite.original, source: target.address, reply: true)
    }
    switch reply {
    case .failed(let failure): return .unreachable(failure)
    case .arrived(let home, _, _, _):
      guard home.name == source.name else { return .unreachable(.addressInBoth(address: from, namespace: home.name)) }
    }
    peer = seenFrom
    return answer(
      there, target.address, target.port, proto, published: published,
      .connected(path: path, rewrites: rewrites, published: published))
  }

  /// 2. A listener on the port, or a reset.
  static func answer(
    _ ns: NetworkView.Namespace, _ address: IPv4Address, _ port: Int, _ proto: String, published: NetDNAT?,
    _ connected: ConnectVerdict
  ) -> ConnectVerdict {
    guard ns.net.listening.contains(where: { $0.accepts(address, port, proto: proto) }) else {
      return .refused(namespace: ns.name, address: address, port: port, published: published)
    }
    return connected
  }

  /// The first prerouting rule of `ns` that publishes `port` of `proto`.
  static func publishedPort(_ ns: NetworkView.Namespace, _ port: Int, _ proto: String) -> NetDNAT? {
    for rule in ns.net.rules {
      guard case .dnat(proto, port, let address, let toPort) = rule.meaning else { continue }
      return NetDNAT(namespace: ns.name, port: port, rewritten: address, rewrittenPort: toPort, rule: rule)
    }
    return nil
  }
}

/// One destination rewrite by a published port's rule: `port` of the namespace's own address
/// became `rewritten:rewrittenPort`.
public struct NetDNAT: Equatable, Sendable {
  public var namespace: String
  public var port: Int
  public var rewritten: IPv4Address
  public var rewrittenPort: Int
  public var rule: NetRule
}

public enum ConnectVerdict: Equatable, Sendable {
  /// The handshake completes: the SYN's path, the source rewrites on the way, and the published
  /// port that redirected it, if one did.
  case connected(path: [NetEndpoint], rewrites: [NetRewrite], published: NetDNAT?)
  /// The SYN got to `namespace` and nothing there listens on `address:port`: a reset.
  case refused(namespace: String, address: IPv4Address, port: Int, published: NetDNAT?)
  /// The SYN or its answer is lost on the way, as a ping's would be.
  case unreachable(PingFailure)

  /// What connect(2) reports. A SYN with no route on its way fails it: in the sender, at once
  /// (ENETUNREACH from the route lookup); in a namespace that forwards, by the ICMP "network
  /// unreachable" that namespace sends back (ip_error in net/ipv4/route.c), which TCP takes as a
  /// hard error while the handshake is pending (tcp_v4_err). A namespace that does not forward
  /// drops without a word, and so is every other loss: no answer within the time.
  ///
  /// UDP differs in one place: an ICMP "network unreachable" from a forwarding namespace is no
  /// hard error for a UDP socket (icmp_err_convert marks it not fatal, and __udp4_lib_err in
  /// net/ipv4/udp.c reports only fatal ones on a socket without IP_RECVERR), so only the sender's
  /// own missing route fails it at once; the port unreachable of `.refused` is fatal, ECONNREFUSED.
  public func outcome(from side: String, _ view: NetworkView, proto: String = "tcp") -> ConnectOutcome {
    switch self {
    case .connected: return .connected
    case .refused: return .refused
    case .unreachable(.noRoute(let ns, _, false, _)):
      return proto == "udp" && ns != (view.namespace(of: side)?.name ?? side) ? .timedOut : .unreachable(.ENETUNREACH)
    case .unreachable: return .timedOut
    }
  }
}
