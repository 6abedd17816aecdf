import Kernel

/// The network state of one simulated network namespace: links, their IPv4 addresses and the
/// main routing table, with the kernel's rules for when routes come and go.
struct SimNet {
  var links: [SimLink] = [SimLink(index: 1, name: "lo", kind: NetLinkFacts.loopback, mac: "00:00:00:00:00:00")]
  var routes: [NetRouteFacts] = []
  /// Each network namespace numbers its interfaces from 1 (lo) (dev_index_reserve in
  /// net/core/dev.c uses the namespace's own counter).
  var nextIndex = 2
  /// net.ipv4.ip_forward: 0 in a new network namespace.
  var forward = false
  /// boxwalk's nftables table, in the order the rules were added.
  var rules: [NetRule] = []
  /// TCP sockets listening on a port of any address, with the side that holds each (its helper).
  var listening: [(listener: NetListener, holder: String)] = []

  func link(_ name: String) -> SimLink? { links.first { $0.name == name } }

  /// `nft add rule` appends to its chain, and `nft list table` prints chain by chain, in the order
  /// the chains were made: a rule goes after the last rule of its chain, or last in a new chain.
  mutating func addRule(_ rule: NetRule) {
    if let last = rules.lastIndex(where: { $0.chain == rule.chain }) {
      rules.insert(rule, at: last + 1)
    } else {
      rules.append(rule)
    }
  }
  func position(_ name: String) -> Int? { links.firstIndex { $0.name == name } }

  mutating func add(_ name: String, kind: String, peer: SimPeer? = nil) -> Int {
    let index = nextIndex
    nextIndex += 1
    // Made up but well-formed: a locally administered unicast address (volatile anyway).
    let mac = "02:00:00:00:" + [index >> 8, index & 0xff].map { hex($0) }.joined(separator: ":")
    links.append(SimLink(index: index, name: name, kind: kind, peer: peer, mac: mac))
    return index
  }

  /// The prefix routes the kernel adds for a link that is up (fib_add_ifaddr): one per primary
  /// address, except on lo (its prefixes go to the local table) and for a /32 (a subnet of one).
  mutating func addConnectedRoutes(_ link: SimLink) {
    guard link.up, link.kind != NetLinkFacts.loopback else { return }
    for cidr in link.primaryAddrs where cidr.prefixLength < 32 {
      let route = NetRouteFacts(destination: cidr.subnet, device: link.name)
      if !routes.contains(route) { routes.append(route) }
    }
  }

  /// A link that goes down (or goes away) takes every route through it, the default route too
  /// (fib_disable_ip flushes them; coming up again restores only the connected ones).
  mutating func dropRoutes(through name: String) { routes.removeAll { $0.device == name } }
}

struct SimLink {
  var index: Int
  var name: String
  var kind: String
  var up = false
  var master: String?
  var peer: SimPeer?
  /// In the kernel's order: primaries first, in the order they were added, then secondaries.
  var addrs: [IPv4CIDR] = []
  /// How many of `addrs` are primary (the first ones).
  var primaryCount = 0
  var mac: String

  init(index: Int, name: String, kind: String, peer: SimPeer? = nil, mac: String) {
    self.index = index
    self.name = name
    self.kind = kind
    self.peer = peer
    self.mac = mac
  }

  var primaryAddrs: ArraySlice<IPv4CIDR> { addrs.prefix(primaryCount) }
}

/// The other end of a veth: its namespace (inode) and interface index there.
struct SimPeer: Hashable {
  var namespace: UInt64
  var index: Int
}

private func hex(_ n: Int) -> String {
  let digits = Array("0123456789abcdef")
  return String([digits[(n >> 4) & 0xf], digits[n & 0xf]])
}

/// rtnetlink(7) in the simulator: veth pairs, bridges, addresses, link state, routes, and ping.
extension SimulatedKernel {
  /// `net listen`: socket(2), bind(2), and for tcp listen(2), held by the side's helper; the
  /// socket answers from its last entry on.
  func listen(_ side: NetSide, _ port: Int, _ proto: String, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    // socket(2) needs no capability. It is made in the side's network namespace.
    let inode = try labNetwork(side, step, actsItself: false)
    switch entry {
    case .socket:
      return
    case .bind:
      // bind(2) of a port below ip_unprivileged_port_start (1024) needs CAP_NET_BIND_SERVICE in
      // the user namespace that owns the network namespace, and is EACCES without it (ip(7)),
      // before any check of the port being in use.
      if port < 1024, case .box(let box) = side, let i = index(of: box),
        !hasCapability(boxes[i].process, in: namespaces[inode]?.owner)
      {
        throw KernelError(step: step, call: entry, errno: .EACCES)
      }
      // A port that a socket of this namespace already has is EADDRINUSE. TCP and UDP have
      // separate port spaces.
      guard
        namespaces[inode]?.net.listening.contains(where: { $0.listener.port == port && $0.listener.proto == proto })
          == false
      else {
        throw KernelError(step: step, call: entry, errno: .EADDRINUSE)
      }
      // A UDP socket is bound and receives: its plan ends here.
      if proto == "udp" { hold(NetListener(address: NetListener.any, port: port, proto: proto), side, inode) }
    case .listen:
      hold(NetListener(address: NetListener.any, port: port, proto: proto), side, inode)
    default:
      throw unmodeled(entry, step)
    }
  }

  private func hold(_ listener: NetListener, _ side: NetSide, _ inode: UInt64) {
    namespaces[inode]?.net.listening.append((listener, side.name))
  }

  /// The net steps (`step` is `.net(net)`, for errors).
  func performNet(_ net: NetStep, _ step: Step) throws(KernelError) -> StepResult {
    switch net {
    case .ping(let side, let address):
      return try ping(side, address, step)
    case .connect(let side, let address, let port, let proto):
      return try connect(side, address, port, proto, step)
    // Listed, not `default`: a new net step is named here by the compiler, like every area's.
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .netOutside, .netForward, .netNAT,
      .netPublish, .netListen:
      try make(step) { entry throws(KernelError) in try makeNet(net, entry, step) }
      return StepResult.none
    }
  }

  /// One entry of a net step other than ping and connect.
  private func makeNet(_ net: NetStep, _ entry: SystemCall, _ step: Step) throws(KernelError) {
    switch (net, entry) {
    case (.netVeth(let box, let hostLink, let boxLink), .rtnetlink):
      let boxNet = try labNetwork(.box(box), step, actsItself: false)
      guard namespaces[boxNet]?.net.link(boxLink) == nil, namespaces[hostNet]?.net.link(hostLink) == nil else {
        throw fail(step, .EEXIST)
      }
      // The kernel creates the peer first, directly in the target namespace (veth_newlink).
      guard let peerIndex = namespaces[boxNet]?.net.add(boxLink, kind: NetLinkFacts.veth) else {
        throw fail(step, .ENODEV)
      }
      let hostIndex = namespaces[hostNet]?.net.add(
        hostLink, kind: NetLinkFacts.veth, peer: SimPeer(namespace: boxNet, index: peerIndex))
      if let hostIndex, let i = namespaces[boxNet]?.net.position(boxLink) {
        namespaces[boxNet]?.net.links[i].peer = SimPeer(namespace: hostNet, index: hostIndex)
      }
    case (.netBridge(let name), .rtnetlink):
      guard namespaces[hostNet]?.net.link(name) == nil else { throw fail(step, .EEXIST) }
      _ = namespaces[hostNet]?.net.add(name, kind: NetLinkFacts.bridge)
    case (.netAttach(let link, let bridge), .rtnetlink):
      guard let net = namespaces[hostNet]?.net, let i = net.position(link), let b = net.link(bridge) else {
        throw fail(step, .ENODEV)
      }
      // Only a device with ndo_add_slave (a bridge, a bond) can be a master (do_set_master).
      guard b.kind == NetLinkFacts.bridge else { throw fail(step, .EOPNOTSUPP) }
      guard b.name != link else { throw fail(step, .EBUSY) }
      namespaces[hostNet]?.net.links[i].master = bridge
    case (.netAddr(let ref, let cidr), .rtnetlink):
      let inode = try labNetwork(ref.side, step)
      try addAddress(inode, ref.name, cidr, step)
    case (.netState(let ref, let up), .rtnetlink):
      let inode = try labNetwork(ref.side, step)
      try setState(inode, ref.name, up: up, step)
    case (.netRoute(let box, let gateway), .rtnetlink):
      let inode = try labNetwork(.box(box), step)
      try addDefaultRoute(inode, via: gateway, step)
    case (.netOutside, _):
      try makeOutside(entry, step)
    case (.netForward(let on), .writeIPForward):
      namespaces[hostNet]?.net.forward = on
    case (.netNAT(let bridge, let subnet), .nftables):
      // nft adds the same rule twice if asked; boxwalk never asks (the Lab refuses first).
      namespaces[hostNet]?.net.addRule(.masquerade(subnet, leavingBy: bridge))
    case (.netPublish(let hostPort, let proto, _, let address, let port), .nftables):
      // Appended to the chain; the Lab refuses a port that is already published first.
      namespaces[hostNet]?.net.addRule(.publish(hostPort, proto, to: address, port: port))
    case (.netListen(let side, let port, let proto), _):
      try listen(side, port, proto, step, entry)
    default:
      throw unmodeled(entry, step)
    }
  }

  /// `ping`: a raw ICMP socket (CAP_NET_RAW in the user namespace owning the network namespace,
  /// raw(7)), sendto(2) of the echo, recvfrom(2) of the reply. Only the sender's own missing
  /// route fails sendto(2) (ENETUNREACH, as the real kernel's error is caught by the caller); a
  /// router without one drops the packet (and answers with ICMP "net unreachable", which ping
  /// does not count as a reply).
  private func ping(_ side: NetSide, _ address: IPv4Address, _ step: Step) throws(KernelError) -> StepResult {
    var answer = PingAnswer(reachable: false)
    do {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .socket:
          _ = try labNetwork(side, step)
        case .sendEcho:
          let view = NetworkView(try facts())
          let verdict = PingModel.ping(view, from: side.name, to: address)
          if case .unreachable(.noRoute(let ns, _, false, _)) = verdict, ns == view.namespace(of: side.name)?.name {
            throw KernelError(step: step, call: entry, errno: .ENETUNREACH)
          }
          answer.reachable = verdict.reachable
        case .receiveEchoReply:
          // The reply comes or it does not: the verdict of the send's path decided it.
          return
        default:
          throw unmodeled(entry, step)
        }
      }
    } catch {
      guard error.failed?.kind == .sendEcho, error.errno == .ENETUNREACH else { throw error }
      answer.sendErrno = error.errno
    }
    return StepResult(ping: answer)
  }

  /// `connect`: a TCP or UDP socket and connect(2) need no capability at all (socket(2), tcp(7),
  /// udp(7)): a box that unshared user after net connects like any unprivileged process. The far
  /// end's responder answers the line with the address it saw it come from. The model decides
  /// the exchange at connect(2): the send and the receive only carry it out.
  private func connect(_ side: NetSide, _ address: IPv4Address, _ port: Int, _ proto: String, _ step: Step)
    throws(KernelError) -> StepResult
  {
    var result = StepResult.none
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .socket:
        _ = try labNetwork(side, step, actsItself: false)
      case .connect:
        let view = NetworkView(try facts())
        result.connect = ConnectModel.connect(view, from: side.name, to: address, port: port, proto: proto).outcome(
          from: side.name, view, proto: proto)
        result.answer = ConnectModel.answer(view, from: side.name, to: address, port: port, proto: proto)
      case .send, .receive:
        return
      default:
        throw unmodeled(entry, step)
      }
    }
    return result
  }

  /// The network namespace a side means: the host side, or a box's own. A box still in the
  /// machine's network namespace is refused: boxwalk never touches it (the Lab refuses first).
  /// A box's own requests (addresses, links, routes, ping) are made by its process, which needs
  /// CAP_NET_ADMIN (CAP_NET_RAW for ping) in the user namespace that owns the network namespace:
  /// a box that unshared user after net has none there (EPERM, from the netlink request or from
  /// socket(2)). A veth is made from the host side, which has every capability.
  func labNetwork(_ side: NetSide, _ step: Step, actsItself: Bool = true) throws(KernelError) -> UInt64 {
    if side == .outside {
      guard let outsideNet else {
        throw KernelError(
          step: step, call: step.firstCall, errno: .ENOENT, detail: "there is no outside yet (net outside makes it)")
      }
      return outsideNet
    }
    guard case .box(let box) = side else { return hostNet }
    guard let i = index(of: box) else { throw missing(step, box) }
    guard let inode = boxes[i].process.ns[.net], inode != host.ns[.net] else {
      throw KernelError(
        step: step, call: step.firstCall, errno: .EPERM,
        detail: "\(box) is in the machine's network namespace, which boxwalk never changes")
    }
    if actsItself, !hasCapability(boxes[i].process, in: namespaces[inode]?.owner) {
      throw KernelError(step: step, call: step.firstCall, errno: .EPERM)
    }
    return inode
  }

  /// A box's helper closes the sockets it listens on when it leaves their network namespace
  /// (unshare or setns of net) or exits: they go with it, as on the real kernel.
  func dropListeners(of box: String, in inode: UInt64?) {
    guard let inode else { return }
    namespaces[inode]?.net.listening.removeAll { $0.holder == box }
  }

  private func fail(_ step: Step, _ errno: Errno) -> KernelError {
    KernelError(step: step, call: step.firstCall, errno: errno)
  }

  /// One entry of `net outside`: a new network namespace (its holder, a helper of boxwalk's own,
  /// is forked and unshares it), then the veth between it and the host side, and an address and
  /// IFF_UP at each end, in the order of the step's calls.
  private func makeOutside(_ entry: SystemCall, _ step: Step) throws(KernelError) {
    let o = OutsideNet.self
    switch entry {
    case .fork, .execve:
      // The helper itself changes nothing the model keeps.
      return
    case .unshare:
      // unshare(CLONE_NEWNET) by a helper with every capability: a fresh namespace, only lo.
      // It is the outside from here on. A second outside is refused by the Lab before the step;
      // were it asked for, the new helper's veth would find the name taken (EEXIST, below).
      if outsideNet == nil { outsideNet = create(.net, owner: host.ns[.user], parent: nil) }
    case .rtnetlink(.newVeth):
      guard let inode = outsideNet, namespaces[hostNet]?.net.link(o.hostLink) == nil else {
        throw KernelError(step: step, call: entry, errno: .EEXIST)
      }
      guard let peerIndex = namespaces[inode]?.net.add(o.outsideLink, kind: NetLinkFacts.veth),
        let hostIndex = namespaces[hostNet]?.net.add(
          o.hostLink, kind: NetLinkFacts.veth, peer: SimPeer(namespace: inode, index: peerIndex)),
        let i = namespaces[inode]?.net.position(o.outsideLink)
      else { throw KernelError(step: step, call: entry, errno: .ENODEV) }
      namespaces[inode]?.net.links[i].peer = SimPeer(namespace: hostNet, index: hostIndex)
    case .rtnetlink(.newAddress(let link, let cidr)):
      try addAddress(link == o.outsideLink ? outsideNet ?? 0 : hostNet, link, cidr, step, entry)
    case .rtnetlink(.setUp(let link, let up)):
      try setState(link == o.outsideLink ? outsideNet ?? 0 : hostNet, link, up: up, step, entry)
    default:
      throw unmodeled(entry, step)
    }
  }

  /// RTM_NEWADDR (__inet_insert_ifa): the same address and prefix twice is EEXIST; an address on
  /// a subnet the link already has becomes a secondary, which adds no route.
  private func addAddress(
    _ inode: UInt64, _ name: String, _ cidr: IPv4CIDR, _ step: Step, _ entry: SystemCall? = nil
  ) throws(KernelError) {
    let entry = entry ?? step.firstCall
    guard var net = namespaces[inode]?.net, let i = net.position(name) else {
      throw KernelError(step: step, call: entry, errno: .ENODEV)
    }
    var link = net.links[i]
    let sameSubnet = link.addrs.filter { $0.prefixLength == cidr.prefixLength && $0.contains(cidr.address) }
    if sameSubnet.contains(where: { $0.address == cidr.address }) {
      throw KernelError(step: step, call: entry, errno: .EEXIST)
    }
    if sameSubnet.isEmpty {
      link.addrs.insert(cidr, at: link.primaryCount)
      link.primaryCount += 1
    } else {
      link.addrs.append(cidr)
    }
    net.links[i] = link
    net.addConnectedRoutes(link)
    namespaces[inode]?.net = net
  }

  /// IFF_UP on or off. A loopback device gets 127.0.0.1/8 every time it comes up, whatever
  /// addresses it already has (inetdev_event, NETDEV_UP, in net/ipv4/devinet.c); inserting it
  /// again when it is there changes nothing. It has host scope, and the kernel keeps primary
  /// addresses ordered by scope, narrowest first (__inet_insert_ifa), so it goes before every
  /// address added with `ip addr` (universe scope); in a subnet lo already has, it is a secondary.
  private func setState(
    _ inode: UInt64, _ name: String, up: Bool, _ step: Step, _ entry: SystemCall? = nil
  ) throws(KernelError) {
    guard var net = namespaces[inode]?.net, let i = net.position(name) else {
      throw KernelError(step: step, call: entry ?? step.firstCall, errno: .ENODEV)
    }
    guard net.links[i].up != up else { return }
    net.links[i].up = up
    if up {
      let loopback = IPv4CIDR(IPv4Address(0x7F00_0001), 8)
      if net.links[i].kind == NetLinkFacts.loopback, !net.links[i].addrs.contains(loopback) {
        if net.links[i].primaryAddrs.contains(where: { $0.prefixLength == 8 && $0.contains(loopback.address) }) {
          net.links[i].addrs.append(loopback)
        } else {
          net.links[i].addrs.insert(loopback, at: 0)
          net.links[i].primaryCount += 1
        }
      }
      net.addConnectedRoutes(net.links[i])
    } else {
      net.dropRoutes(through: name)
    }
    namespaces[inode]?.net = net
  }

  /// RTM_NEWROUTE for 0.0.0.0/0 via a gateway (fib_check_nh_v4_gw): the gateway must be on a
  /// subnet a connected route covers (ENETUNREACH otherwise), and a second default route is
  /// EEXIST. The kernel takes one of the namespace's own addresses as a gateway (the lookup finds
  /// a local route, which it accepts); boxwalk refuses that before asking.
  private func addDefaultRoute(_ inode: UInt64, via gateway: IPv4Address, _ step: Step) throws(KernelError) {
    guard var net = namespaces[inode]?.net else { throw fail(step, .ENODEV) }
    guard
      let connected = net.routes.filter({ $0.gateway == nil && $0.destination.contains(gateway) })
        .max(by: { $0.destination.prefixLength < $1.destination.prefixLength })
    else { throw fail(step, .ENETUNREACH) }
    if net.routes.contains(where: { $0.isDefault }) { throw fail(step, .EEXIST) }
    net.routes.append(NetRouteFacts(destination: .any, gateway: gateway, device: connected.device))
    namespaces[inode]?.net = net
  }

  // MARK: Facts

  /// The name a namespace goes by in peers: `host` for the host side, else its first box.
  func networkOwner(_ inode: UInt64) -> String? {
    if inode == hostNet { return NetSide.host.name }
    if inode == outsideNet { return OutsideNet.name }
    return boxes.first { $0.process.ns[.net] == inode }?.name
  }

  func netFacts(_ inode: UInt64) -> NetFacts? {
    guard let net = namespaces[inode]?.net else { return nil }
    let links = net.links.sorted { $0.index < $1.index }.map { link in
      var peer: NetEndpoint?
      if let p = link.peer, let owner = networkOwner(p.namespace),
        let other = namespaces[p.namespace]?.net.links.first(where: { $0.index == p.index })
      {
        peer = NetEndpoint(owner, other.name)
      }
      return NetLinkFacts(
        name: link.name, kind: link.kind, up: link.up, master: link.master, peer: peer, addrs: link.addrs,
        index: link.index, mac: link.mac)
    }
    var facts = NetFacts(links: links, routes: net.routes)
    facts.forward = net.forward
    facts.rules = net.rules
    facts.listening = net.listening.map(\.listener).sorted()
    return facts
  }

  // MARK: Namespaces dying

  /// When a network namespace dies, its devices are unregistered, and a veth takes its peer with
  /// it wherever that is (veth_dellink): the host end of a removed box's veth disappears.
  /// `dying`: the namespaces that die, all the others in `namespaces` living on.
  func releaseDyingNetworks(_ dying: [UInt64]) {
    let dead = Set(dying)
    for inode in dying {
      guard let ns = namespaces[inode], ns.kind == .net else { continue }
      for link in ns.net.links {
        guard let peer = link.peer, !dead.contains(peer.namespace), var other = namespaces[peer.namespace]?.net,
          let i = other.links.firstIndex(where: { $0.index == peer.index })
        else { continue }
        let name = other.links[i].name
        other.links.remove(at: i)
        other.dropRoutes(through: name)
        // A bridge whose port went away keeps going; nothing else refers to the port.
        namespaces[peer.namespace]?.net = other
      }
    }
  }
}
