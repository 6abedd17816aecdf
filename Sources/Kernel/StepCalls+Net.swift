/// The plan of a network step (Step.plan): rtnetlink, the lab's outside, nftables, sockets.
extension Step {
  var netPlan: [SystemCall] {
    switch self {
    case .netVeth(let box, let hostLink, let boxLink):
      return [.rtnetlink(.newVeth(name: hostLink, peer: boxLink, peerNamespace: box))]
    case .netBridge(let name):
      return [.rtnetlink(.newBridge(name: name))]
    case .netAttach(let link, let bridge):
      return [.rtnetlink(.setMaster(link: link, bridge: bridge))]
    case .netState(let link, let up):
      return [.rtnetlink(.setUp(link: link.name, up: up))]
    case .netAddr(let link, let cidr):
      return [.rtnetlink(.newAddress(link: link.name, cidr: cidr))]
    case .netRoute(_, let gateway):
      return [.rtnetlink(.newDefaultRoute(gateway: gateway))]
    case .ping(_, let address):
      return [.socket(.icmp), .sendEcho(to: address), .receiveEchoReply]
    case .netOutside:
      let o = OutsideNet.self
      return [
        .fork, .execve(program: "boxwalk-helper"), .unshare([.net]),
        .rtnetlink(.newVeth(name: o.hostLink, peer: o.outsideLink, peerNamespace: o.name)),
        .rtnetlink(.newAddress(link: o.outsideLink, cidr: o.outsideAddress)),
        .rtnetlink(.setUp(link: o.outsideLink, up: true)),
        .rtnetlink(.newAddress(link: o.hostLink, cidr: o.hostAddress)),
        .rtnetlink(.setUp(link: o.hostLink, up: true)),
      ]
    case .netForward(let on):
      return [.writeIPForward(on)]
    case .netNAT(let bridge, let subnet):
      return [.nftables(.masquerade(subnet: subnet, bridge: bridge))]
    case .netPublish(let hostPort, let proto, _, let address, let port):
      return [.nftables(.publish(hostPort: hostPort, proto: proto, address: address, port: port))]
    case .netListen(_, let port, let proto):
      // A UDP socket is bound and receives; only a stream socket listens (udp(7), tcp(7)).
      return proto == "udp" ? [.socket(.udp), .bind(port: port)] : [.socket(.tcp), .bind(port: port), .listen]
    case .connect(_, let address, let port, let proto):
      return [
        .socket(proto == "udp" ? .udp : .tcp), .connect(address: address, port: port),
        .send(line: ConnectModel.greeting), .receive,
      ]
    default:
      return []
    }
  }
}
