import Kernel
import Testing

@testable import Simulator

/// The lab's outside and the host side's forwarding in the simulator: the outside is a network
/// namespace of its own joined to the host side by one veth, ip_forward is the host side's own,
/// and a ping to the outside fails first for want of forwarding, then for want of a route back.
@Suite struct SimulatedOutsideTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }
  static func ip(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }

  /// web on br0 (10.0.0.2/24, default route via the bridge's 10.0.0.1), and the outside.
  func lab() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for step: Step in [
      .net(.netBridge(name: "br0")), .net(.netAddr(link: NetLinkRef(.host, "br0"), cidr: Self.cidr("10.0.0.1/24"))),
      .net(.netState(link: NetLinkRef(.host, "br0"), up: true)),
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.net])),
      .net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0")),
      .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: Self.cidr("10.0.0.2/24"))),
      .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),
      .net(.netState(link: NetLinkRef(.host, "veth-web"), up: true)),
      .net(.netAttach(link: "veth-web", bridge: "br0")),
      .net(.netRoute(box: "web", gateway: Self.ip("10.0.0.1"))),
      .net(.netOutside),
    ] {
      try k.perform(step)
    }
    return k
  }

  func verdict(_ k: SimulatedKernel, from side: String, to address: String) throws -> PingVerdict {
    PingModel.ping(NetworkView(try k.facts()), from: side, to: Self.ip(address))
  }

  @Test func theOutsideIsANamespaceOfItsOwnJoinedToTheHostSide() throws {
    let k = SimulatedKernel()
    #expect(try k.facts().outside == nil)
    try k.perform(.net(.netOutside))
    let f = try k.facts()
    let outside = try #require(f.outside)
    #expect(outside.link("eth0")?.peer == NetEndpoint("host", "uplink"))
    #expect(outside.link("eth0")?.addrs == [OutsideNet.outsideAddress])
    #expect(outside.link("eth0")?.up == true)
    #expect(outside.routes.map(\.description) == ["203.0.113.0/24 dev eth0"])
    #expect(f.host.net?.link("uplink")?.peer == NetEndpoint("outside", "eth0"))
    #expect(f.host.net?.link("uplink")?.addrs == [OutsideNet.hostAddress])
    #expect(NetworkView(f).namespaces.map(\.name) == ["host", "outside"])
    // A second one: the link name is taken.
    #expect(throws: KernelError.self) { try k.perform(.net(.netOutside)) }
    // It dies with the session.
    k.teardown()
    #expect(try k.facts().outside == nil)
  }

  @Test func forwardingIsTheHostSidesOwn() throws {
    let k = try lab()
    #expect(try k.facts().host.net?.forward == false)
    try k.perform(.net(.netForward(on: true)))
    let f = try k.facts()
    #expect(f.host.net?.forward == true)
    #expect(f.outside?.forward == false)
    #expect(f.box("web")?.process.net?.forward == false)
    try k.perform(.net(.netForward(on: false)))
    #expect(try k.facts().host.net?.forward == false)
  }

  @Test func withoutForwardingTheHostSideDropsTheRequest() throws {
    let k = try lab()
    #expect(
      try verdict(k, from: "web", to: "203.0.113.1")
        == .unreachable(.noForwarding(namespace: "host", to: Self.ip("203.0.113.1"), reply: false)))
    // The host side's own address on the uplink is local to it: no forwarding needed.
    #expect(try verdict(k, from: "web", to: "203.0.113.2").reachable)
    let answer = try k.perform(.net(.ping(from: .box("web"), address: Self.ip("203.0.113.1")))).ping
    #expect(answer?.reachable == false)
    #expect(answer?.sendErrno == nil)  // the box had a route: sendto(2) succeeded
  }

  @Test func withForwardingTheRequestArrivesAndTheReplyHasNoRouteBack() throws {
    let k = try lab()
    try k.perform(.net(.netForward(on: true)))
    #expect(
      try verdict(k, from: "web", to: "203.0.113.1")
        == .unreachable(
          .noRoute(
            namespace: "outside", to: Self.ip("10.0.0.2"), reply: true,
            hint: .otherSubnet(holder: NetEndpoint("web", "eth0"), subnet: Self.cidr("10.0.0.0/24")))))
    // From the host side itself the outside answers: its address is on the outside's subnet.
    #expect(
      try verdict(k, from: "host", to: "203.0.113.1")
        == .reachable(path: [NetEndpoint("host", "uplink"), NetEndpoint("outside", "eth0")]))
  }

  @Test func forwardingAndMasqueradeAreBothNeeded() throws {
    let k = try lab()
    let subnet = Self.cidr("10.0.0.0/24")
    try k.perform(.net(.netNAT(bridge: "br0", subnet: subnet)))
    let rule = NetRule.masquerade(subnet, leavingBy: "br0")
    #expect(try k.facts().host.net?.rules == [rule])
    // NAT alone: the host side still drops what is not its own.
    #expect(
      try verdict(k, from: "web", to: "203.0.113.1")
        == .unreachable(.noForwarding(namespace: "host", to: Self.ip("203.0.113.1"), reply: false)))
    try k.perform(.net(.netForward(on: true)))
    #expect(
      try verdict(k, from: "web", to: "203.0.113.1")
        == .reachable(
          path: [
            NetEndpoint("web", "eth0"), NetEndpoint("host", "veth-web"), NetEndpoint("host", "br0"),
            NetEndpoint("host", "uplink"), NetEndpoint("outside", "eth0"),
          ],
          rewrites: [
            NetRewrite(namespace: "host", original: Self.ip("10.0.0.2"), rewritten: Self.ip("203.0.113.2"), rule: rule)
          ]))
    #expect(try k.perform(.net(.ping(from: .box("web"), address: Self.ip("203.0.113.1")))).ping?.reachable == true)
    // What stays on the bridge is not rewritten.
    #expect(
      try verdict(k, from: "web", to: "10.0.0.1")
        == .reachable(path: [NetEndpoint("web", "eth0"), NetEndpoint("host", "veth-web"), NetEndpoint("host", "br0")]))
  }

  @Test func aRouterWithoutARouteDropsThePacketButTheSenderSentIt() throws {
    let k = try lab()
    try k.perform(.net(.netForward(on: true)))
    let answer = try k.perform(.net(.ping(from: .box("web"), address: Self.ip("198.51.100.7")))).ping
    #expect(answer?.reachable == false)
    #expect(answer?.sendErrno == nil)
    #expect(
      try verdict(k, from: "web", to: "198.51.100.7")
        == .unreachable(.noRoute(namespace: "host", to: Self.ip("198.51.100.7"), reply: false, hint: .none)))
  }
}
