/// Would an ICMP echo from one lab namespace to an address come back? The decision the kernel
/// makes, step by step, on the facts both backends report, so `ping` can say *why* not:
///
/// 1. Local delivery. An address of the sender's own namespace (on any of its links, up or down:
///    the kernel keeps local addresses in its local table either way) is delivered through lo,
///    so it answers only while lo is up.
/// 2. The route. The longest prefix in the main table that covers the address, or the default
///    route (ip-route(8)). None: sendto(2) fails with ENETUNREACH. A link that goes down loses
///    every route through it, and gets back only its connected routes when it comes up again.
/// 3. The link. The next hop (the gateway, or the address itself) must answer ARP on the link the
///    route names. Frames cross a veth pair only when both ends are up (veth(4)), and a bridge
///    passes them between its ports only while it and the ports are up. Any namespace on that
///    link answers ARP for any of its local addresses (the "weak host" model of Linux, arp_ignore=0).
/// 4. Delivery. The namespace that answered must have the address itself, or forward: pass the
///    packet on by its own route (steps 2-3 again from there) when its net.ipv4.ip_forward is 1
///    (`net forward on` on the host side; 0 in a new network namespace).
/// 5. The way back. The echo reply takes the same steps from there to the sender's address: a route
///    back, a link path, and the sender answering for its address.
public enum PingModel {
  public static func ping(_ view: NetworkView, from side: String, to address: IPv4Address) -> PingVerdict {
    guard let source = view.namespace(of: side) else { return .unreachable(.notALabNamespace(side)) }
    let model = Walk(view: view)
    // 1. Local delivery, through lo.
    if model.isLocal(source, address) {
      guard let lo = source.net.links.first(where: { $0.kind == NetLinkFacts.loopback }), lo.up else {
        return .unreachable(.loopbackDown(namespace: source.name))
      }
      return .reachable(path: [NetEndpoint(source.name, lo.name)], rewrites: [])
    }
    // 2. The route, and the address the request is sent from.
    guard let route = model.lookup(source, address) else {
      return .unreachable(
        .noRoute(namespace: source.name, to: address, reply: false, hint: model.hint(source, address)))
    }
    let nextHop = route.gateway ?? address
    guard let from = model.sourceAddress(source, device: route.device, nextHop: nextHop) else {
      return .unreachable(.noSourceAddress(namespace: source.name, link: route.device))
    }
    // 3-4. The link, and delivery or forwarding, hop by hop (with source NAT on the way out).
    let request = model.carry(from: source, route: route, to: address, source: from, reply: false)
    guard case .arrived(let there, let path, let seenFrom, let rewrites) = request else {
      if case .failed(let failure) = request { return .unreachable(failure) }
      return .unreachable(.notALabNamespace(side))
    }
    // 5. The way back, from the target to the address the request came from (after NAT: the
    // address it was rewritten to; the namespace that rewrote it turns it back, conntrack(8)).
    if model.isLocal(there, seenFrom) {
      return .unreachable(.addressInBoth(address: seenFrom, namespace: there.name))
    }
    guard let back = model.lookup(there, seenFrom) else {
      return .unreachable(
        .noRoute(namespace: there.name, to: seenFrom, reply: true, hint: model.hint(there, seenFrom)))
    }
    var reply = model.carry(from: there, route: back, to: seenFrom, source: address, reply: true)
    for rewrite in rewrites.reversed() {
      guard case .arrived(let at, _, _, _) = reply else { break }
      guard at.name == rewrite.namespace, let onward = model.lookup(at, rewrite.original) else { break }
      reply = model.carry(from: at, route: onward, to: rewrite.original, source: address, reply: true)
    }
    switch reply {
    case .failed(let failure): return .unreachable(failure)
    case .arrived(let home, _, _, _):
      guard home.name == source.name else {
        return .unreachable(.addressInBoth(address: from, namespace: home.name))
      }
    }
    return .reachable(path: path, rewrites: rewrites)
  }

  /// Where a packet ended: in the namespace that has its destination, after crossing `path`, or
  /// nowhere, and why.
  enum Carried {
    /// `source` is the packet's source address as it arrived, after every rewrite in `rewrites`.
    case arrived(NetworkView.Namespace, path: [NetEndpoint], source: IPv4Address, rewrites: [NetRewrite])
    case failed(PingFailure)
  }

  /// The graph walk over one view.
  struct Walk {
    let view: NetworkView

    struct Reach {
      var endpoint: NetEndpoint
      /// Every link the frame crossed, from the sending link to `endpoint`.
      var path: [NetEndpoint]
    }

    struct Segment {
      /// Links whose namespace received the frame (a bridge receives what its ports receive).
      var reached: [Reach] = []
      /// Bridges the frame went through or was sent on.
      var bridges: [NetEndpoint] = []
    }

    /// An address of this namespace: on any link, up or down, or in the prefix of an address on
    /// lo while lo is up (127.0.0.1/8 makes all of 127.0.0.0/8 local; so does 10.0.1.1/24 on lo
    /// for 10.0.1.0/24: the kernel routes a loopback address's whole prefix as local, a route
    /// that exists only while the device is up).
    func isLocal(_ ns: NetworkView.Namespace?, _ a: IPv4Address) -> Bool {
      guard let ns else { return false }
      return ns.net.links.contains { link in
        link.addrs.contains { $0.address == a || (link.kind == NetLinkFacts.loopback && link.up && $0.contains(a)) }
      }
    }

    /// A packet for `destination` leaves `start` by `route`: who takes it on each link, until a
    /// namespace that has the address gets it. A namespace that gets a packet for an address it
    /// does not have passes it on only when its net.ipv4.ip_forward is 1, by its own route for
    /// the destination (ip_forward() in net/ipv4/ip_forward.c); otherwise it drops it. Returns the
    /// namespace that has the address and every link crossed.
    /// On its way out of each namespace the packet passes that namespace's postrouting rules: a
    /// masquerade rule that matches gives it the outgoing link's address as its source.
    func carry(
      from start: NetworkView.Namespace, route first: NetRouteFacts, to destination: IPv4Address,
      source original: IPv4Address, reply: Bool
    ) -> Carried {
      var at = start
      var route = first
      var path: [NetEndpoint] = []
      var hops = 0
      var source = original
      var rewrites: [NetRewrite] = []
      while true {
        let out = NetEndpoint(at.name, route.device)
        let nextHop = route.gateway ?? destination
        if let rewritten = masquerade(at, source: source, leavingBy: route.device, nextHop: nextHop) {
          rewrites.append(
            NetRewrite(namespace: at.name, original: source, rewritten: rewritten.address, rule: rewritten.rule))
          source = rewritten.address
        }
        let reached = segment(from: out, ignoringDown: false)
        guard let answer = reached.reached.first(where: { isLocal(view.namespace(named: $0.endpoint.owner), nextHop) })
        else {
          return .failed(explainSilence(from: out, nextHop: nextHop, destination: destination, reply: reply))
        }
        path += answer.path
        guard let there = view.namespace(named: answer.endpoint.owner) else {
          return .failed(.noForwarding(namespace: answer.endpoint.owner, to: destination, reply: reply))
        }
        if isLocal(there, destination) { return .arrived(there, path: path, source: source, rewrites: rewrites) }
        // The TTL of a ping starts at 64; a lab has far fewer namespaces than that, so a packet
        // still going after as many hops as there are namespaces is in a loop, and dies there.
        hops += 1
        guard there.net.forward, hops <= view.namespaces.count else {
          return .failed(.noForwarding(namespace: there.name, to: destination, reply: reply))
        }
        guard let next = lookup(there, destination) else {
          return .failed(
            .noRoute(namespace: there.name, to: destination, reply: reply, hint: hint(there, destination)))
        }
        at = there
        route = next
      }
    }

    /// The first masquerade rule of `ns` that matches a packet from `source` leaving by `device`:
    /// the new source is the address the kernel would pick on that link (inet_select_addr, as
    /// nf_nat_masquerade_ipv4 does).
    func masquerade(_ ns: NetworkView.Namespace, source: IPv4Address, leavingBy device: String, nextHop: IPv4Address)
      -> (address: IPv4Address, rule: NetRule)?
    {
      for rule in ns.net.rules {
        guard case .masquerade(let subnet, let except) = rule.meaning, subnet.contains(source), device != except,
          let address = ns.net.link(device)?.addrs.first(where: { $0.contains(nextHop) })?.address
            ?? ns.net.link(device)?.addrs.first?.address
        else { continue }
        return (address, rule)
      }
      return nil
    }

    /// The longest prefix that covers `a`; among routes with that prefix, the first in the
    /// kernel's order (NetRouteFacts.sorted): the one made first.
    func lookup(_ ns: NetworkView.Namespace, _ a: IPv4Address) -> NetRouteFacts? {
      let covering = ns.net.routes.filter { $0.destination.contains(a) && ns.net.link($0.device) != nil }
      guard let longest = covering.map(\.destination.prefixLength).max() else { return nil }
      return covering.first { $0.destination.prefixLength == longest }
    }

    /// inet_select_addr(): the first address of the outgoing link on the next hop's subnet, else
    /// its first address, else the first address of another link (not lo).
    func sourceAddress(_ ns: NetworkView.Namespace, device: String, nextHop: IPv4Address) -> IPv4Address? {
      let own = ns.net.link(device)?.addrs ?? []
      if let match = own.first(where: { $0.contains(nextHop) }) { return match.address }
      if let first = own.first { return first.address }
      return ns.net.links.first { $0.kind != NetLinkFacts.loopback && !$0.addrs.isEmpty }?.addrs.first?.address
    }

    /// Where a frame sent on `start` arrives. With `ignoringDown`, as if every link were up: the
    /// path the frame would take, used to find the link that is down.
    func segment(from start: NetEndpoint, ignoringDown: Bool) -> Segment {
      var result = Segment()
      var visited: Set<NetEndpoint> = [start]
      func up(_ e: NetEndpoint) -> Bool { ignoringDown || view.link(e)?.up == true }
      func ports(_ bridge: NetEndpoint) -> [NetEndpoint] {
        (view.namespace(named: bridge.owner)?.net.links ?? []).filter { $0.master == bridge.link }.map {
          NetEndpoint(bridge.owner, $0.name)
        }
      }
      func send(_ x: NetEndpoint, _ path: [NetEndpoint]) {
        guard let link = view.link(x), up(x) else { return }
        switch link.kind {
        case NetLinkFacts.bridge:
          result.bridges.append(x)
          for port in ports(x) where visited.insert(port).inserted { send(port, path + [port]) }
        case NetLinkFacts.veth:
          guard let peer = link.peer, view.link(peer) != nil, up(peer), visited.insert(peer).inserted else { return }
          arrive(peer, path + [peer])
        default:
          return
        }
      }
      func arrive(_ y: NetEndpoint, _ path: [NetEndpoint]) {
        // A port's frames go to its bridge (the bridge's rx_handler takes them), never to the port.
        guard let master = view.link(y)?.master else {
          result.reached.append(Reach(endpoint: y, path: path))
          return
        }
        let bridge = NetEndpoint(y.owner, master)
        guard view.link(bridge) != nil, up(bridge) else { return }
        visited.insert(bridge)
        result.bridges.append(bridge)
        result.reached.append(Reach(endpoint: bridge, path: path + [bridge]))
        for port in ports(bridge) where visited.insert(port).inserted { send(port, path + [bridge, port]) }
      }
      send(start, [start])
      return result
    }

    /// Why nobody on the link of `start` answered for `nextHop`.
    func explainSilence(from start: NetEndpoint, nextHop: IPv4Address, destination: IPv4Address, reply: Bool)
      -> PingFailure
    {
      let holders = view.namespaces.flatMap { ns in
        ns.net.links.filter { $0.addrs.contains { $0.address == nextHop } }.map { NetEndpoint(ns.name, $0.name) }
      }
      guard let holder = holders.first else {
        return .nobodyHas(address: nextHop, gateway: nextHop != destination, from: start, reply: reply)
      }
      // On the same link if every link were up: the first link on the way that is down.
      let ideal = segment(from: start, ignoringDown: true)
      if let reach = ideal.reached.first(where: { isLocal(view.namespace(named: $0.endpoint.owner), nextHop) }) {
        let down = reach.path.first { view.link($0)?.up != true } ?? reach.endpoint
        return .linkDown(link: down, reply: reply)
      }
      // Not connected. The usual case: one side is on a bridge, and the other side's veth ends in
      // the bridge's namespace without being a port of it.
      let holderSide = segment(from: holder, ignoringDown: true)
      for bridge in ideal.bridges {
        if let peer = view.link(holder)?.peer, peer.owner == bridge.owner, view.link(peer)?.master != bridge.link {
          return .notOnBridge(link: peer, bridge: bridge, reply: reply)
        }
      }
      for bridge in holderSide.bridges {
        if let arrival = ideal.reached.first(where: { $0.endpoint.owner == bridge.owner }) {
          return .notOnBridge(link: arrival.endpoint, bridge: bridge, reply: reply)
        }
      }
      return .notOnLink(address: nextHop, holder: holder, from: start, reply: reply)
    }

    /// Why a namespace has no route to `a`: the hint the learner needs.
    func hint(_ ns: NetworkView.Namespace, _ a: IPv4Address) -> NoRouteHint {
      if let down = ns.net.links.first(where: { !$0.up && $0.addrs.contains { $0.contains(a) } }) {
        return .linkDown(down.name)
      }
      if a.isLoopback { return .loopbackUnconfigured }
      for other in view.namespaces where other.name != ns.name {
        for link in other.net.links {
          if let cidr = link.addrs.first(where: { $0.address == a }) {
            return .otherSubnet(holder: NetEndpoint(other.name, link.name), subnet: cidr.subnet)
          }
        }
      }
      return .none
    }
  }
}

/// The answer of the model: reachable (with the path the request took), or not and why.
public enum PingVerdict: Equatable, Sendable {
  case reachable(path: [NetEndpoint], rewrites: [NetRewrite] = [])
  case unreachable(PingFailure)

  public var reachable: Bool {
    if case .reachable = self { return true }
    return false
  }
}

/// A source address rewritten by a rule on the way out of a namespace (and back on the reply).
public struct NetRewrite: Equatable, Sendable {
  public var namespace: String
  public var original: IPv4Address
  public var rewritten: IPv4Address
  public var rule: NetRule
  public init(namespace: String, original: IPv4Address, rewritten: IPv4Address, rule: NetRule) {
    self.namespace = namespace
    self.original = original
    self.rewritten = rewritten
    self.rule = rule
  }
}

/// Why an echo request (or its reply, when `reply` is true) does not arrive.
public enum PingFailure: Equatable, Sendable {
  /// No route in `namespace` covers `to` (for the request, sendto(2) fails with ENETUNREACH).
  case noRoute(namespace: String, to: IPv4Address, reply: Bool, hint: NoRouteHint)
  /// The address is the sender's own, and lo, which carries such packets, is down.
  case loopbackDown(namespace: String)
  /// The frame stops at a link that is down.
  case linkDown(link: NetEndpoint, reply: Bool)
  /// The holder's veth end is in the bridge's namespace but not a port of the bridge.
  case notOnBridge(link: NetEndpoint, bridge: NetEndpoint, reply: Bool)
  /// The address is on a link that no link path joins to `from`.
  case notOnLink(address: IPv4Address, holder: NetEndpoint, from: NetEndpoint, reply: Bool)
  /// No namespace of the lab has the address (or the gateway's address).
  case nobodyHas(address: IPv4Address, gateway: Bool, from: NetEndpoint, reply: Bool)
  /// The namespace that got the packet does not have the address and does not forward.
  case noForwarding(namespace: String, to: IPv4Address, reply: Bool)
  /// The route's link has no address to send from.
  case noSourceAddress(namespace: String, link: String)
  /// The sender's address is also the target's: the reply stays in the target.
  case addressInBoth(address: IPv4Address, namespace: String)
  /// The sender is not one of the lab's network namespaces.
  case notALabNamespace(String)
}

/// What the namespace without a route has that explains it.
public enum NoRouteHint: Equatable, Sendable {
  /// A link that is down has an address on the destination's subnet: its routes went with it.
  case linkDown(String)
  /// 127.0.0.0/8 while lo has never been up (it gets 127.0.0.1/8 when it first comes up).
  case loopbackUnconfigured
  /// The destination is on another namespace's link, in a subnet this one has no route to.
  case otherSubnet(holder: NetEndpoint, subnet: IPv4CIDR)
  case none
}
