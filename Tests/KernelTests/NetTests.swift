import Testing

@testable import Kernel

/// Addresses, the net part of the state tree, the calls net steps make, and the ping model on
/// hand-built networks: one test per reason a packet does not arrive.
@Suite struct IPv4Tests {
  @Test(arguments: ["10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.1.20"])
  func addressesRoundTrip(_ text: String) throws {
    #expect(try #require(IPv4Address(text)).description == text)
  }

  @Test(arguments: [
    "", "10.0.0", "10.0.0.1.2", "256.0.0.1", "010.0.0.1", "10.0.0.-1", "10.0.0.1 ", "a.b.c.d", "10..0.1",
  ])
  func badAddressesAreRefused(_ text: String) {
    #expect(IPv4Address(text) == nil)
  }

  @Test func cidrKnowsItsSubnet() throws {
    let c = try #require(IPv4CIDR("10.0.0.130/25"))
    #expect(c.subnet.description == "10.0.0.128/25")
    #expect(c.broadcast.description == "10.0.0.255")
    #expect(c.contains(try #require(IPv4Address("10.0.0.200"))))
    #expect(!c.contains(try #require(IPv4Address("10.0.0.2"))))
    #expect(IPv4CIDR.any.contains(try #require(IPv4Address("192.0.2.1"))))
  }

  @Test(arguments: ["10.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/024", "10.0.0.1/x", "/24", "10.0.0.1/24/1"])
  func badCIDRsAreRefused(_ text: String) {
    #expect(IPv4CIDR(text) == nil)
  }

  @Test func privateRanges() throws {
    #expect(PrivateRanges.contains(try #require(IPv4Address("172.31.255.255"))))
    #expect(!PrivateRanges.contains(try #require(IPv4Address("172.32.0.1"))))
    #expect(!PrivateRanges.contains(try #require(IPv4Address("8.8.8.8"))))
  }

  @Test func interfaceNamesAreAtMost15Bytes() {
    #expect(Names.checkInterfaceName("veth-abcdefghij") == nil)
    #expect(Names.checkInterfaceName("veth-abcdefghijk") == .tooLong(bytes: 16, limit: 15))
    #expect(Names.checkInterfaceName("eth:0") == .badCharacter(":", column: 4))
  }
}

@Suite struct NetStateTests {
  @Test func theTreeShowsLinksAndRoutesWithVolatileIndexAndMAC() throws {
    let net = NetFacts(
      links: [
        NetLinkFacts(
          name: "lo", kind: "loopback", up: true, addrs: [try #require(IPv4CIDR("127.0.0.1/8"))], index: 1,
          mac: "00:00:00:00:00:00"),
        NetLinkFacts(
          name: "veth-web", kind: "veth", up: true, master: "br0", peer: NetEndpoint("web", "eth0"), index: 3,
          mac: "aa:bb"),
      ],
      routes: [
        NetRouteFacts(destination: try #require(IPv4CIDR("10.0.0.0/24")), device: "br0"),
        NetRouteFacts(destination: .any, gateway: IPv4Address("10.0.0.9"), device: "br0"),
      ])
    let tree = StateTreeBuilder.netMap(net)
    #expect(tree.value(at: StatePath(keys: "links", "veth-web", "master")) == .string("br0"))
    #expect(tree.value(at: StatePath(keys: "links", "veth-web", "peer")) == .string("web:eth0"))
    #expect(tree.value(at: StatePath(keys: "links", "lo", "peer")) == nil)
    #expect(tree.value(at: StatePath(keys: "links", "veth-web", "mac"))?.isVolatile == true)
    #expect(tree.value(at: StatePath(keys: "links", "veth-web", "index"))?.isVolatile == true)
    // The default route first, as ip route prints it.
    #expect(tree["routes"] == .list([.string("default via 10.0.0.9 dev br0"), .string("10.0.0.0/24 dev br0")]))
  }

  @Test func aBoxInTheMachinesNetworkHasNoNetInTheTree() {
    var builder = StateTreeBuilder()
    let host = ProcessFacts(hostPID: 1, namespaces: [.net: 1], hostname: "h", domainname: "(none)", net: .fresh)
    let box = ProcessFacts(hostPID: 2, namespaces: [.net: 1], hostname: "h", domainname: "(none)")
    let tree = builder.build(KernelFacts(host: host, boxes: [BoxFacts(name: "web", process: box)]))
    #expect(tree.value(at: StatePath(keys: "web", "net")) == nil)
    #expect(tree.value(at: StatePath(keys: "host", "net", "links", "lo", "state")) == .string("down"))
  }

  @Test func netStepsMakeNetlinkCalls() throws {
    let veth = Step.net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0"))
    #expect(
      veth.calls == [
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL, {IFLA_IFNAME=\"veth-web\", IFLA_INFO_KIND=\"veth\", VETH_INFO_PEER={IFLA_IFNAME=\"eth0\", IFLA_NET_NS_PID=<web>}})"
      ])
    #expect(veth.owner == .box("web"))
    #expect(Step.net(.netBridge(name: "br0")).owner == .labHost)
    let addr = Step.net(.netAddr(link: NetLinkRef(.host, "br0"), cidr: try #require(IPv4CIDR("10.0.0.1/24"))))
    #expect(addr.owner == .labHost)
    #expect(addr.calls[0].contains("ifa_index=if_nametoindex(\"br0\")"))
    #expect(Step.net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: false)).kindName == "net-down")
    #expect(NetLinkRef(.host, "br0").description == "host:br0")
  }
}

/// The ping model on hand-built networks.
@Suite struct PingModelTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }
  static func ip(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }

  static func link(
    _ name: String, _ kind: String = NetLinkFacts.veth, up: Bool = true, master: String? = nil,
    peer: NetEndpoint? = nil,
    _ addrs: String...
  ) -> NetLinkFacts {
    NetLinkFacts(name: name, kind: kind, up: up, master: master, peer: peer, addrs: addrs.map(cidr), index: 0, mac: "")
  }

  static func route(_ dst: String, via: String? = nil, _ dev: String) -> NetRouteFacts {
    NetRouteFacts(destination: dst == "default" ? .any : cidr(dst), gateway: via.map(ip), device: dev)
  }

  static func ns(_ name: String, _ links: [NetLinkFacts], _ routes: [NetRouteFacts]) -> NetworkView.Namespace {
    NetworkView.Namespace(name: name, boxes: name == "host" ? [] : [name], net: NetFacts(links: links, routes: routes))
  }

  /// web and db on br0 (10.0.0.1), cache beside it; every link up.
  static func bridged(
    cacheAttached: Bool = false, bridgeUp: Bool = true, dbHostEndUp: Bool = true, dbAddress: String = "10.0.0.3/24"
  ) -> NetworkView {
    let dbSubnet = cidr(dbAddress).subnet.description
    return NetworkView(namespaces: [
      ns(
        "host",
        [
          link("lo", NetLinkFacts.loopback, up: false), link("br0", NetLinkFacts.bridge, up: bridgeUp, "10.0.0.1/24"),
          link("veth-web", master: "br0", peer: NetEndpoint("web", "eth0")),
          link("veth-db", up: dbHostEndUp, master: "br0", peer: NetEndpoint("db", "eth0")),
          link("veth-cache", master: cacheAttached ? "br0" : nil, peer: NetEndpoint("cache", "eth0")),
        ], bridgeUp ? [route("10.0.0.0/24", "br0")] : []),
      ns(
        "web", [link("lo", NetLinkFacts.loopback), link("eth0", peer: NetEndpoint("host", "veth-web"), "10.0.0.2/24")],
        [route("10.0.0.0/24", "eth0")]),
      ns("db", [link("eth0", peer: NetEndpoint("host", "veth-db"), dbAddress)], [route(dbSubnet, "eth0")]),
      ns(
        "cache", [link("eth0", peer: NetEndpoint("host", "veth-cache"), "10.0.0.4/24")], [route("10.0.0.0/24", "eth0")]),
    ])
  }

  @Test func acrossTheBridgeThePathNamesEveryLink() {
    let v = PingModel.ping(Self.bridged(), from: "web", to: Self.ip("10.0.0.3"))
    #expect(
      v
        == .reachable(path: [
          NetEndpoint("web", "eth0"), NetEndpoint("host", "veth-web"), NetEndpoint("host", "br0"),
          NetEndpoint("host", "veth-db"), NetEndpoint("db", "eth0"),
        ]))
    #expect(PingModel.ping(Self.bridged(), from: "host", to: Self.ip("10.0.0.2")).reachable)
  }

  @Test func ownAddressesGoThroughLo() {
    #expect(
      PingModel.ping(Self.bridged(), from: "web", to: Self.ip("10.0.0.2"))
        == .reachable(path: [NetEndpoint("web", "lo")]))
    #expect(
      PingModel.ping(Self.bridged(), from: "host", to: Self.ip("10.0.0.1"))
        == .unreachable(.loopbackDown(namespace: "host")))
  }

  @Test func offTheBridgeFromEitherSide() {
    let toCache = PingModel.ping(Self.bridged(), from: "web", to: Self.ip("10.0.0.4"))
    #expect(
      toCache
        == .unreachable(
          .notOnBridge(link: NetEndpoint("host", "veth-cache"), bridge: NetEndpoint("host", "br0"), reply: false)))
    let fromCache = PingModel.ping(Self.bridged(), from: "cache", to: Self.ip("10.0.0.2"))
    #expect(
      fromCache
        == .unreachable(
          .notOnBridge(link: NetEndpoint("host", "veth-cache"), bridge: NetEndpoint("host", "br0"), reply: false)))
    // The host side takes the request on veth-cache (weak host), but answers out through br0.
    let toHost = PingModel.ping(Self.bridged(), from: "cache", to: Self.ip("10.0.0.1"))
    #expect(
      toHost
        == .unreachable(
          .notOnBridge(link: NetEndpoint("host", "veth-cache"), bridge: NetEndpoint("host", "br0"), reply: true)))
    #expect(PingModel.ping(Self.bridged(cacheAttached: true), from: "cache", to: Self.ip("10.0.0.1")).reachable)
  }

  @Test func aLinkThatIsDownIsNamed() {
    let v = PingModel.ping(Self.bridged(dbHostEndUp: false), from: "web", to: Self.ip("10.0.0.3"))
    #expect(v == .unreachable(.linkDown(link: NetEndpoint("host", "veth-db"), reply: false)))
    let bridgeDown = PingModel.ping(Self.bridged(bridgeUp: false), from: "web", to: Self.ip("10.0.0.3"))
    #expect(bridgeDown == .unreachable(.linkDown(link: NetEndpoint("host", "br0"), reply: false)))
  }

  @Test func otherSubnet() {
    // db is on the bridge but in 10.0.1.0/24: web has no route there at all.
    let v = PingModel.ping(Self.bridged(dbAddress: "10.0.1.3/24"), from: "web", to: Self.ip("10.0.1.3"))
    #expect(
      v
        == .unreachable(
          .noRoute(
            namespace: "web", to: Self.ip("10.0.1.3"), reply: false,
            hint: .otherSubnet(holder: NetEndpoint("db", "eth0"), subnet: Self.cidr("10.0.1.0/24")))))
    // db in 10.0.0.128/25: web's request arrives (10.0.0.0/24 covers it), db has no way back.
    let back = PingModel.ping(Self.bridged(dbAddress: "10.0.0.130/25"), from: "web", to: Self.ip("10.0.0.130"))
    guard case .unreachable(.noRoute("db", _, true, .otherSubnet)) = back else {
      Issue.record("expected no route back from db, got \(back)")
      return
    }
  }

  @Test func nobodyHasItAndNobodyForwards() {
    #expect(
      PingModel.ping(Self.bridged(), from: "web", to: Self.ip("10.0.0.9"))
        == .unreachable(
          .nobodyHas(address: Self.ip("10.0.0.9"), gateway: false, from: NetEndpoint("web", "eth0"), reply: false)))
    var view = Self.bridged()
    view.namespaces[1].net.routes.append(Self.route("default", via: "10.0.0.1", "eth0"))
    #expect(
      PingModel.ping(view, from: "web", to: Self.ip("192.168.5.5"))
        == .unreachable(.noForwarding(namespace: "host", to: Self.ip("192.168.5.5"), reply: false)))
  }

  @Test func noRouteHints() {
    let fresh = NetworkView(namespaces: [
      Self.ns("host", [Self.link("lo", NetLinkFacts.loopback, up: false)], []),
      Self.ns(
        "web", [Self.link("lo", NetLinkFacts.loopback, up: false), Self.link("eth0", up: false, "10.0.0.2/24")], []),
    ])
    #expect(
      PingModel.ping(fresh, from: "web", to: Self.ip("127.0.0.1"))
        == .unreachable(.noRoute(namespace: "web", to: Self.ip("127.0.0.1"), reply: false, hint: .loopbackUnconfigured))
    )
    #expect(
      PingModel.ping(fresh, from: "web", to: Self.ip("10.0.0.1"))
        == .unreachable(.noRoute(namespace: "web", to: Self.ip("10.0.0.1"), reply: false, hint: .linkDown("eth0"))))
  }

  @Test func boxesSharingANamespaceAreOneNamespace() throws {
    let host = ProcessFacts(hostPID: 1, namespaces: [.net: 1], hostname: "h", domainname: "(none)", net: .fresh)
    let own = ProcessFacts(hostPID: 2, namespaces: [.net: 7], hostname: "h", domainname: "(none)", net: .fresh)
    let machine = ProcessFacts(hostPID: 3, namespaces: [.net: 1], hostname: "h", domainname: "(none)")
    let facts = KernelFacts(
      host: host,
      boxes: [
        BoxFacts(name: "web", process: own), BoxFacts(name: "db", process: own),
        BoxFacts(name: "old", process: machine),
      ])
    let view = NetworkView(facts)
    #expect(view.namespaces.map(\.name) == ["host", "web"])
    #expect(view.namespace(of: "db")?.name == "web")
    #expect(view.namespace(of: "old") == nil)
    #expect(PingModel.ping(view, from: "old", to: IPv4Address(1)) == .unreachable(.notALabNamespace("old")))
  }
}
