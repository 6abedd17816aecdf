import Kernel

/// What `ping` prints: the verdict, and when the packet does not arrive, the reason in one word
/// or three (no route, link down, other subnet, not on the bridge), why, and the command that fixes
/// it. Never a timing (docs/transcripts.md, "What is volatile").
struct PingText {
  /// The box the learner is in (fix commands for it need no `use`).
  var current: String?
  /// Which namespace each box is in, to turn `web:eth0` into a command.
  var view: NetworkView

  func headline(_ address: IPv4Address, from who: String, _ verdict: PingVerdict) -> String {
    switch verdict {
    case .reachable: return "\(address) is reachable from \(who)"
    case .unreachable(let failure): return "\(address) is not reachable from \(who): \(short(failure))"
    }
  }

  /// The lines under the headline: the path, or why and how to fix it.
  func details(_ address: IPv4Address, _ verdict: PingVerdict) -> [(String, String)] {
    switch verdict {
    case .reachable(let path, let rewrites):
      return [("path", path.map(\.description).joined(separator: " -> "))]
        + rewrites.map { r in
          (
            "nat",
            "\(Self.prose(r.namespace)) rewrote the source \(r.original) to \(r.rewritten) on the way out (\(r.rule.text)), and the reply's destination back"
          )
        }
    case .unreachable(let failure):
      var lines = [("why", why(failure, address))]
      if let fix = fix(failure) { lines.append(("fix", fix)) }
      return lines
    }
  }

  func short(_ failure: PingFailure) -> String {
    switch failure {
    case .noRoute(_, let to, false, let hint):
      if case .otherSubnet(_, let subnet) = hint { return "no route to \(subnet)" }
      return "no route to \(to)"
    case .noRoute(OutsideNet.name, _, true, _): return "no route back from the outside"
    case .noRoute(_, _, true, let hint):
      if case .otherSubnet = hint { return "other subnet" }
      return "no route back"
    case .loopbackDown: return "lo is down"
    case .linkDown: return "link down"
    case .notOnBridge: return "not on the bridge"
    case .notOnLink: return "not on the same link"
    case .nobodyHas(let address, let gateway, _, _):
      return gateway ? "no answer from the gateway \(address)" : "nobody has \(address)"
    case .noForwarding(let ns, _, _): return "\(Self.prose(ns)) does not forward"
    case .noSourceAddress: return "no address to send from"
    case .addressInBoth(let address, _): return "\(address) is in use twice"
    case .notALabNamespace(let side): return "\(side) is not in a network namespace of boxwalk's"
    }
  }

  func why(_ failure: PingFailure, _ address: IPv4Address) -> String {
    switch failure {
    case .noRoute(OutsideNet.name, let to, true, _):
      return
        "the request reaches the outside, but its reply to \(to) has nowhere to go: like the internet, the outside has no route to the lab's private subnets (\(routeList(OutsideNet.name))); the host side has to put its own address on the request on the way out (source NAT)"
    case .noRoute(let ns, let to, let reply, let hint):
      let who = Self.prose(ns)
      let start = reply ? "the request arrives, but \(who) has no route back to \(to)" : "\(who) has no route to \(to)"
      switch hint {
      case .linkDown(let link):
        return "\(start): its \(link) is down, and a link that is down keeps no routes"
      case .loopbackUnconfigured:
        return "\(start): lo is down and has no address yet (a new network namespace has only lo, down)"
      case .otherSubnet(let holder, let subnet):
        return
          "\(start): \(to) is on \(holder), in \(subnet), a subnet none of \(who)'s routes covers (\(routeList(ns)))"
      case .none:
        return "\(start) (\(routeList(ns)))"
      }
    case .loopbackDown(let ns):
      return "\(address) is \(Self.prose(ns))'s own address; the kernel delivers those through lo, which is down"
    case .linkDown(let link, let reply):
      let kind = view.link(link)?.kind
      let rule =
        kind == NetLinkFacts.bridge
        ? "a bridge that is down passes nothing between its ports"
        : "a veth pair passes frames only while both ends are up"
      return (reply ? "the reply stops at " : "") + "\(describe(link)) is down: \(rule)"
    case .notOnBridge(let link, let bridge, let reply):
      let start = reply ? "the request arrives, but the reply leaves through \(bridge), and " : ""
      return start + "\(describe(link)) is not a port of \(bridge): a bridge passes frames only between its ports"
    case .notOnLink(let a, let holder, let from, _):
      return "\(a) is on \(holder), and no chain of veths and bridges joins it to \(from)"
    case .nobodyHas(let a, let gateway, let from, _):
      let what = gateway ? "the gateway \(a)" : "\(a)"
      return "the kernel asked on \(from) who has \(what) (ARP), and no link of the lab has that address"
    case .noForwarding(let ns, let to, _):
      return
        "the packet reaches \(Self.prose(ns)), which does not have \(to) and does not pass packets on (net.ipv4.ip_forward is 0 in a new network namespace)"
    case .noSourceAddress(let ns, let link):
      return "\(Self.prose(ns))'s \(link) has no address to send from"
    case .addressInBoth(let a, let ns):
      return "\(a) is also an address of \(Self.prose(ns)): the reply stays there"
    case .notALabNamespace(let side):
      return "\(side) shares the machine's network namespace, where boxwalk sends nothing"
    }
  }

  func fix(_ failure: PingFailure) -> String? {
    switch failure {
    // The outside stands for the internet, which routes no private subnet: nothing to add there
    // (on the way back, source NAT on the host side is the fix, and the why says so).
    case .noRoute(OutsideNet.name, _, _, .otherSubnet), .noRoute(OutsideNet.name, _, _, .none),
      .noRoute(OutsideNet.name, _, true, _):
      return nil
    case .noRoute(let ns, _, let reply, let hint):
      switch hint {
      case .linkDown(let link): return command(in: ns, "net up", link)
      case .loopbackUnconfigured: return command(in: ns, "net up", "lo")
      case .otherSubnet, .none:
        return reply
          ? "addresses on one subnet, or a default route in \(Self.prose(ns)) (net route default via ADDR)"
          : "an address on that subnet, or a default route (net route default via ADDR)"
      }
    case .loopbackDown(let ns): return command(in: ns, "net up", "lo")
    case .linkDown(let link, _): return command(in: link.owner, "net up", link.link)
    case .notOnBridge(let link, let bridge, _):
      guard let box = view.link(link)?.peer?.owner else { return nil }
      return box == current ? "net attach \(bridge.link)" : "use \(box), then net attach \(bridge.link)"
    case .notOnLink: return "net veth, and a bridge both sides are attached to (net bridge, net attach)"
    case .nobodyHas(let a, _, _, _): return "net addr IF \(a)/PREFIX on the link that should answer"
    case .noForwarding(let ns, _, _) where ns == NetSide.host.name: return "net forward on"
    case .noForwarding, .noSourceAddress, .addressInBoth, .notALabNamespace: return nil
    }
  }

  /// A namespace named in a sentence: a box by its name, the host side as such.
  static func prose(_ ns: String) -> String {
    ns == NetSide.host.name ? "the host side" : ns == OutsideNet.name ? "the outside" : ns
  }

  /// `net up eth0`, `net up host:veth-web`, or `use db, then net up eth0`.
  func command(in ns: String, _ verb: String, _ link: String) -> String {
    if ns == NetSide.host.name { return "\(verb) host:\(link)" }
    let here = current.flatMap { view.namespace(of: $0)?.name } == ns
    return here ? "\(verb) \(link)" : "use \(ns), then \(verb) \(link)"
  }

  /// `host:veth-web (web's link to the host side)`, `web:eth0`, `host:br0`.
  func describe(_ e: NetEndpoint) -> String {
    guard e.owner == NetSide.host.name, let peer = view.link(e)?.peer, peer.owner != NetSide.host.name else {
      return e.description
    }
    return "\(e) (the host end of \(peer))"
  }

  func routeList(_ ns: String) -> String {
    let routes = view.namespace(named: ns)?.net.routes ?? []
    return routes.isEmpty ? "it has no routes" : "routes: " + routes.map(\.description).joined(separator: ", ")
  }
}
