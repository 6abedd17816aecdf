/// The network steps: rtnetlink links, addresses and routes, the lab's outside, nftables rules,
/// and the sockets of ping, listen and connect. Everything the Kernel layer knows of them is here
/// (see Step).
public enum NetStep: Equatable, Hashable, Sendable {
  /// rtnetlink RTM_NEWLINK on the host side: a veth pair, `hostLink` on the host side and its
  /// peer `boxLink` created directly in the box's network namespace (veth(4), ip-link(8)).
  case netVeth(box: String, hostLink: String, boxLink: String)
  /// RTM_NEWLINK on the host side: a bridge, like docker0.
  case netBridge(name: String)
  /// RTM_NEWLINK with IFLA_MASTER on the host side: `link` becomes a port of `bridge`.
  case netAttach(link: String, bridge: String)
  /// RTM_NEWADDR: an IPv4 address (and with it the subnet) on a link.
  case netAddr(link: NetLinkRef, cidr: IPv4CIDR)
  /// RTM_NEWLINK with IFF_UP set or cleared in ifi_change: `ip link set IF up|down`.
  case netState(link: NetLinkRef, up: Bool)
  /// RTM_NEWROUTE in the box's main table: `ip route add default via ADDR`.
  case netRoute(box: String, gateway: IPv4Address)
  /// One ICMP echo request from a lab network namespace, over a raw socket (icmp(7), raw(7)).
  case ping(from: NetSide, address: IPv4Address)
  /// Make the lab's outside: one more network namespace of boxwalk's own that stands for the
  /// internet, joined to the host side by a veth (`uplink` there, `eth0` in the outside) with an
  /// address at each end on a subnet of their own (OutsideNet).
  case netOutside
  /// Write net.ipv4.ip_forward in the host side's network namespace: a per-namespace sysctl
  /// (proc_sys_net_ipv4(5) via /proc/sys/net, which shows the namespace of the process reading it).
  case netForward(on: Bool)
  /// nftables in the host side's network namespace: masquerade what comes from `subnet` (the
  /// bridge's) and leaves by any link but `bridge`, as Docker does for docker0.
  case netNAT(bridge: String, subnet: IPv4CIDR)
  /// nftables in the host side's network namespace: `proto` to `hostPort` of any of the host
  /// side's own addresses goes to `address:port` of the box instead (destination NAT before
  /// routing), as `docker run -p HOSTPORT:PORT` does (NetRule.publish).
  case netPublish(hostPort: Int, proto: String, box: String, address: IPv4Address, port: Int)
  /// A socket bound to `port` of any address (socket(2), bind(2), and for "tcp" listen(2)),
  /// held by the side's helper, which answers each connection's line or each datagram with the
  /// line and the sender's address: something to connect to and hear back from.
  case netListen(side: NetSide, port: Int, proto: String = "tcp")
  /// One connect(2) from a side's network namespace, one line sent and one awaited, with a time
  /// limit (tcp(7), udp(7)).
  case connect(from: NetSide, address: IPv4Address, port: Int, proto: String = "tcp")

  var owner: Owner {
    switch self {
    case .netVeth(let b, _, _), .netRoute(let b, _): .box(b)
    case .netBridge, .netAttach, .netOutside, .netForward, .netNAT, .netPublish: .labHost
    case .netAddr(let link, _), .netState(let link, _): Owner(link.side)
    case .ping(let side, _), .netListen(let side, _, _), .connect(let side, _, _, _): Owner(side)
    }
  }

  var kindName: String {
    switch self {
    case .netVeth: "net-veth"
    case .netBridge: "net-bridge"
    case .netAttach: "net-attach"
    case .netAddr: "net-addr"
    case .netState(_, let up): up ? "net-up" : "net-down"
    case .netRoute: "net-route"
    case .ping: "ping"
    case .netOutside: "net-outside"
    case .netForward: "net-forward"
    case .netNAT: "net-nat"
    case .netPublish: "net-publish"
    case .netListen: "net-listen"
    case .connect: "connect"
    }
  }

  /// Network steps join namespaces: a veth's two ends, a bridge and its ports, routes and rules.
  /// Read everything back.
  func readBack(in facts: KernelFacts) -> ReadBack { .all }

  var plan: [SystemCall] {
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
    }
  }
}
