import Kernel

// Why the kernel does a network step (StepText.why) and the shell line that does the same
// (StepText.shell): the network area's own text.
extension StepText {
  /// The `net` steps, `ping` and `connect`.
  static func whyNet(_ step: NetStep) -> [String] {
    switch step {
    case .netVeth:
      return [
        "A veth pair is a virtual cable: what goes into one end comes out of the other (veth(4)). One",
        "RTM_NEWLINK message makes both ends, and IFLA_NET_NS_PID puts the peer straight into the box's",
        "network namespace, so no half-made pair is ever left behind. Docker wires every container to",
        "docker0 this way. Both ends start down. When the box's namespace dies, the kernel deletes the",
        "pair, host end included: boxwalk never deletes veths one by one (rtnetlink(7), ip-link(8)).",
      ]
    case .netBridge:
      return [
        "A bridge is a virtual switch: it passes Ethernet frames between the links attached to it (its",
        "ports) and learns which address is behind which port; docker0 is one. It is also a link of its",
        "own, which can have an address: the host side's address on the bridge's subnet (ip-link(8)).",
      ]
    case .netAttach:
      return [
        "IFLA_MASTER makes the link a port of the bridge: frames that arrive on it go to the bridge,",
        "which passes them on to its other ports or up to the host side's own stack. The port itself",
        "no longer takes part in IP: its namespace sees the traffic as the bridge's (ip-link(8), master).",
      ]
    case .netAddr:
      return [
        "An address with a prefix length says two things: the address, and the subnet reachable directly",
        "on that link. While the link is up the kernel keeps a route for that subnet (proto kernel), which",
        "is how it knows where 10.0.0.0/24 is. The address itself is local to the whole namespace, on",
        "any of its links (ip-address(8), the \"weak host\" model).",
      ]
    case .netState(_, let up):
      return up
        ? [
          "IFF_UP switches the link on (netdevice(7)); the kernel then adds the routes for its subnets. A",
          "veth passes frames only while both ends are up. lo gets 127.0.0.1/8 the first time it comes up.",
        ]
        : [
          "Clearing IFF_UP switches the link off, and the kernel removes every route through it, the",
          "default route too: when the link comes back up, only the routes for its subnets return.",
        ]
    case .netRoute:
      return [
        "The default route says where to send what no other route covers: to a gateway, a neighbour on",
        "one of the box's subnets that passes packets on (ip-route(8)). The kernel checks the gateway",
        "is reachable on a link right away (ENETUNREACH otherwise). Docker gives each container one, to",
        "the bridge's address.",
      ]
    case .ping, .netOutside, .netNAT, .netPublish, .netListen, .connect, .netForward:
      return whyTraffic(step)
    }
  }

  /// `ping`, `net outside`, `net nat`, `net publish`, `net listen`, `connect` and `net forward`: the
  /// traffic between the lab's sides.
  static func whyTraffic(_ step: NetStep) -> [String] {
    switch step {
    case .ping:
      return [
        "ping sends an ICMP echo request over a raw socket (icmp(7), raw(7)) and waits for the echo",
        "reply. On the way the kernel picks a route, asks on that link who has the next hop (ARP), and",
        "the reply must find its way back the same way. boxwalk checks the kernel's answer against its",
        "own model of the network, which is how it can say why a packet did not arrive.",
      ]
    case .netOutside:
      return [
        "A Docker host reaches the internet through a link of its own; the lab's stand-in is one more",
        "network namespace joined to the host side by a veth. Its addresses are from 203.0.113.0/24,",
        "reserved for examples (RFC 5737). Like the internet, the outside knows no route to the lab's",
        "private subnets: a reply to a box's private address has nowhere to go.",
      ]
    case .netNAT:
      return [
        "Masquerade is source NAT: a packet from the bridge's subnet that leaves the host side by any",
        "other link gets that link's address as its source, and the kernel's connection tracking",
        "turns the reply's destination back into the box's address (nft(8), conntrack(8)). Docker adds",
        "the same rule for docker0. Without forwarding the packet never gets that far.",
      ]
    case .netPublish:
      return [
        "Publishing a port is destination NAT: a connection to that port of any of the host side's own",
        "addresses gets the box's address and port as its destination in prerouting, before the routing",
        "decision, so the host side forwards it to the box instead of taking it (nft(8), `dnat to`).",
        "Connection tracking turns the answer's source back. `docker run -p 8080:80` adds the same rule.",
      ]
    case .netListen(_, _, let proto) where proto == "udp":
      return [
        "UDP has no connections: a socket bound to a port receives every datagram sent to it (udp(7)),",
        "and the helper sends each one back with the address it came from (recvfrom(2), sendto(2)).",
        "With nothing bound there the kernel answers with ICMP port unreachable (icmp(7)).",
      ]
    case .netListen:
      return [
        "A socket in LISTEN state is what a connection needs at the other end (listen(2)): the kernel",
        "answers a SYN for its port with SYN-ACK and queues the finished connection for accept(2). With",
        "nothing listening it answers with a reset, and connect(2) fails with ECONNREFUSED (tcp(7)).",
        "The helper accepts each connection and answers its first line with the address it came from.",
      ]
    case .connect(_, _, _, let proto) where proto == "udp":
      return [
        "connect(2) on a UDP socket sends nothing: it fixes the peer. The datagram takes the route a",
        "ping would, through forwarding and NAT; an ICMP port unreachable coming back is reported as",
        "ECONNREFUSED on that connected socket (udp(7)); silence means the datagram or its answer was lost.",
      ]
    case .connect:
      return [
        "connect(2) sends a SYN and waits for SYN-ACK (the three-way handshake, tcp(7)). The SYN takes",
        "the route a ping would, through forwarding and NAT; a reset means it arrived and nothing listens;",
        "silence means it or its answer was dropped on the way.",
      ]
    case .netForward:
      return [
        "net.ipv4.ip_forward decides whether a namespace passes on packets addressed to someone else",
        "(proc_sys_net_ipv4(5)). Every network namespace has its own copy, and /proc/sys/net shows the",
        "copy of the namespace of the process that opens it: boxwalk's host side writes its own, and",
        "the machine's stays as it was. Docker sets it to 1 on the real host.",
      ]
    default:
      return []
    }
  }

  /// The shell line of a network step (StepText.shell).
  static func netShell(_ step: NetStep) -> String {
    switch step {
    case .netVeth(let box, let hostLink, let boxLink):
      return "ip link add \(hostLink) type veth peer name \(boxLink) netns <\(box)>"
    case .netBridge(let name):
      return "ip link add \(name) type bridge"
    case .netAttach(let link, let bridge):
      return "ip link set \(link) master \(bridge)"
    case .netAddr(let link, let cidr):
      return inNetwork(link.side, "ip addr add \(cidr) dev \(link.name)")
    case .netState(let link, let up):
      return inNetwork(link.side, "ip link set \(link.name) \(up ? "up" : "down")")
    case .netRoute(let box, let gateway):
      return inNetwork(.box(box), "ip route add default via \(gateway)")
    case .ping(let side, let address):
      return inNetwork(side, "ping -c 1 -W 1 \(address)")
    case .netOutside:
      let o = OutsideNet.self
      return "unshare --net sleep infinity & ip link add \(o.hostLink) type veth peer name \(o.outsideLink) netns $!"
        + " && nsenter --target $! --net sh -c 'ip addr add \(o.outsideAddress) dev \(o.outsideLink) && ip link set \(o.outsideLink) up'"
        + " && ip addr add \(o.hostAddress) dev \(o.hostLink) && ip link set \(o.hostLink) up"
    case .netForward(let on):
      return "sysctl -w net.ipv4.ip_forward=\(on ? 1 : 0)"
    case .netNAT(let bridge, let subnet):
      let t = NetRule.table
      let rule = NetRule.masquerade(subnet, leavingBy: bridge).text
      return "nft "
        + ShellWord.quote(
          "add table ip \(t); add chain ip \(t) postrouting { type nat hook postrouting priority srcnat; }; add rule ip \(t) postrouting \(rule)"
        )
    case .netPublish(let hostPort, let proto, _, let address, let port):
      let t = NetRule.table
      let rule = NetRule.publish(hostPort, proto, to: address, port: port).text
      return "nft "
        + ShellWord.quote(
          "add table ip \(t); add chain ip \(t) prerouting { type nat hook prerouting priority dstnat; }; add rule ip \(t) prerouting \(rule)"
        )
    case .netListen(let side, let port, let proto):
      // socat(1), from Debian's socat: busybox's nc has neither UDP nor the peer's address. With
      // fork, each connection (or datagram) gets its own `sh`, whose SOCAT_PEERADDR is the sender.
      let listen = proto == "udp" ? "UDP-RECVFROM:\(port),fork" : "TCP-LISTEN:\(port),fork,reuseaddr"
      return inNetwork(side, "socat \(listen) SYSTEM:'read l; echo \"$l from $SOCAT_PEERADDR\"' &")
    case .connect(let side, let address, let port, let proto):
      return "echo \(ConnectModel.greeting) | "
        + inNetwork(
          side,
          "socat -t 2 - " + (proto == "udp" ? "UDP:\(address):\(port)" : "TCP:\(address):\(port),connect-timeout=2"))
    }
  }

  /// What an errno means for a net step, when there is something specific to teach (StepText.errnoHint).
  static func netErrnoHint(_ step: NetStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.netRoute, .EEXIST):
      return "the box already has a default route; boxwalk keeps one (ip route replace would swap it)"
    case (.netRoute, .ENETUNREACH):
      return
        "the gateway is not on any subnet the box has a route for: an address on its subnet, and the link up, come first"
    case (.netVeth, .EEXIST), (.netBridge, .EEXIST):
      return "a link with that name already exists in that network namespace"
    case (.netAddr, .EEXIST):
      return "the link already has that address"
    case (.netAttach, .EOPNOTSUPP):
      return "only a bridge takes ports"
    case (.ping, .EPERM):
      return
        "a raw socket needs CAP_NET_RAW in the user namespace that owns the box's network namespace; it was made before `unshare user`, so the box has none there (unshare net again)"
    case (.netAddr, .EPERM), (.netState, .EPERM), (.netRoute, .EPERM):
      return
        "the box's network namespace belongs to a user namespace where the box has no CAP_NET_ADMIN (it was made before `unshare user`); unshare net again"
    default:
      return nil
    }
  }
}
