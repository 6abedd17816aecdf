import Kernel

// What a network step achieved (Session.summary): the network area's own sentences.
extension Session {
  /// The label of a box's namespace of `kind` in the tree `t` ("net:1"), to print.
  func namespaceLabel(_ box: String, _ kind: NamespaceKind, in t: StateValue) -> String {
    t.value(at: StatePath(keys: box, "ns", kind.rawValue))?.stringValue ?? "?"
  }

  /// The `net` steps, `ping` and `connect`.
  func netSummary(_ step: NetStep, _ result: StepResult, after t: StateValue) -> [String] {
    switch step {
    case .netVeth(let box, let hostLink, let boxLink):
      return [
        "made a veth pair: host:\(hostLink) on the host side, \(boxLink) in \(box) (\(namespaceLabel(box, .net, in: t))); both ends are down"
      ]
    case .netBridge(let name):
      return ["made bridge \(name) on the host side: no ports yet, down"]
    case .netAttach(let link, let bridge):
      let owner = NetworkView(facts).namespace(of: NetSide.host.name)?.net.link(link)?.peer?.owner
      return ["host:\(link)" + (owner.map { " (\($0)'s veth)" } ?? "") + " is now a port of \(bridge)"]
    case .netAddr(let link, let cidr):
      return ["\(link) has \(cidr) now: address \(cidr.address) on subnet \(cidr.subnet)"]
    case .netState(let link, let up):
      return ["\(link) is \(up ? "up" : "down")" + (link.side == .host ? "" : " in \(link.side.name)")]
    case .netRoute(let box, let gateway):
      return ["\(box) sends what no other route covers to \(gateway)"]
    case .ping(let side, let address):
      return pingLines(side, address, result)
    case .netOutside:
      return [
        "made the outside: a network namespace standing for the internet, joined to the host side by a veth",
        "  outside  \(OutsideNet.name):\(OutsideNet.outsideLink) has \(OutsideNet.outsideAddress), up",
        "  host     host:\(OutsideNet.hostLink) has \(OutsideNet.hostAddress), up",
      ]
    case .netNAT(let bridge, let subnet):
      return [
        "the host side masquerades \(subnet) now: packets from \(bridge)'s subnet that leave by another link take that link's address"
      ]
    case .netPublish(let hostPort, let proto, let box, let address, let port):
      return [
        "the host side sends \(proto) port \(hostPort) of its own addresses to \(box) (\(address):\(port)) now, as docker run -p \(hostPort):\(port)\(proto == "udp" ? "/udp" : "") does"
      ]
    case .netListen(let side, let port, let proto):
      return [
        "\(PingText.prose(side.name)) listens on \(proto) port \(port) now, on any of its addresses, and answers each \(proto == "udp" ? "datagram" : "line") with the address it came from"
      ]
    case .connect(let side, let address, let port, let proto):
      return connectLines(side, address, port, proto, result)
    case .netForward(let on):
      return [
        on
          ? "the host side forwards now: a packet for an address it does not have goes out by its own routes"
          : "the host side no longer forwards: it drops packets for addresses it does not have",
        "  machine  the machine's own net.ipv4.ip_forward is untouched: each network namespace has its own",
      ]
    }
  }
}
