import Kernel
import Testing

@testable import Simulator

/// The simulator's network behaves as the kernel's did when the same steps ran on Linux 6.18
/// (checked with ip(8) in throwaway namespaces): routes come and go with link state, lo gets
/// 127.0.0.1/8, a veth dies with either namespace, and the same mistakes give the same errno.
@Suite struct SimulatedNetTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }

  /// web in a network namespace of its own with eth0 10.0.0.2/24 <-> host:veth-web 10.0.0.1/24, both up.
  func wired() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for step: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.net])),
      .net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0")),
      .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: Self.cidr("10.0.0.2/24"))),
      .net(.netAddr(link: NetLinkRef(.host, "veth-web"), cidr: Self.cidr("10.0.0.1/24"))),
      .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),
      .net(.netState(link: NetLinkRef(.host, "veth-web"), up: true)),
    ] {
      try k.perform(step)
    }
    return k
  }

  func routes(_ k: SimulatedKernel, _ box: String?) throws -> [String] {
    let f = try k.facts()
    let net = box.flatMap { f.box($0)?.process.net } ?? f.host.net
    return (net?.routes ?? []).map(\.description)
  }

  @Test func aNewNetworkNamespaceHasOnlyLoDown() throws {
    let k = SimulatedKernel()
    try k.perform(.process(.boxNew(box: "web")))
    #expect(try k.facts().box("web")?.process.net == nil)  // the machine's: never shown
    try k.perform(.namespace(.unshare(box: "web", kinds: [.net])))
    #expect(try k.facts().box("web")?.process.net == .fresh)
    #expect(try k.facts().host.net == .fresh)
    try k.perform(.net(.netState(link: NetLinkRef(.box("web"), "lo"), up: true)))
    #expect(try k.facts().box("web")?.process.net?.link("lo")?.addrs == [Self.cidr("127.0.0.1/8")])
    #expect(try routes(k, "web") == [])
  }

  @Test func theVethPairKnowsBothEnds() throws {
    let f = try wired().facts()
    #expect(f.host.net?.link("veth-web")?.peer == NetEndpoint("web", "eth0"))
    #expect(f.box("web")?.process.net?.link("eth0")?.peer == NetEndpoint("host", "veth-web"))
    #expect(f.box("web")?.process.net?.link("eth0")?.index == 2)  // each namespace counts from lo = 1
  }

  @Test func downFlushesEveryRouteAndUpRestoresOnlyConnectedOnes() throws {
    let k = try wired()
    try k.perform(.net(.netRoute(box: "web", gateway: IPv4Address(0x0A00_0001))))
    #expect(try routes(k, "web") == ["default via 10.0.0.1 dev eth0", "10.0.0.0/24 dev eth0"])
    try k.perform(.net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: false)))
    #expect(try routes(k, "web") == [])
    try k.perform(.net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)))
    #expect(try routes(k, "web") == ["10.0.0.0/24 dev eth0"])
  }

  @Test func addressesOnADownLinkAddNoRouteAndASecondOnTheSubnetIsSecondary() throws {
    let k = try wired()
    try k.perform(.net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: Self.cidr("10.0.0.7/24"))))
    #expect(try routes(k, "web") == ["10.0.0.0/24 dev eth0"])
    #expect(
      try k.facts().box("web")?.process.net?.link("eth0")?.addrs == [
        Self.cidr("10.0.0.2/24"), Self.cidr("10.0.0.7/24"),
      ])
    try k.perform(.net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: Self.cidr("10.1.0.2/16"))))
    // A new primary goes before the secondaries, and brings its subnet's route.
    #expect(
      try k.facts().box("web")?.process.net?.link("eth0")?.addrs
        == [Self.cidr("10.0.0.2/24"), Self.cidr("10.1.0.2/16"), Self.cidr("10.0.0.7/24")])
    #expect(try routes(k, "web") == ["10.0.0.0/24 dev eth0", "10.1.0.0/16 dev eth0"])
  }

  @Test func theKernelsErrnos() throws {
    let k = try wired()
    let eth0 = NetLinkRef(.box("web"), "eth0")
    #expect(errno(k, .net(.netAddr(link: eth0, cidr: Self.cidr("10.0.0.2/24")))) == .EEXIST)
    #expect(errno(k, .net(.netAddr(link: NetLinkRef(.box("web"), "eth9"), cidr: Self.cidr("10.0.0.3/24")))) == .ENODEV)
    #expect(errno(k, .net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth1"))) == .EEXIST)
    #expect(errno(k, .net(.netRoute(box: "web", gateway: IPv4Address(0x0A00_0501)))) == .ENETUNREACH)
    try k.perform(.net(.netRoute(box: "web", gateway: IPv4Address(0x0A00_0001))))
    #expect(errno(k, .net(.netRoute(box: "web", gateway: IPv4Address(0x0A00_0001)))) == .EEXIST)
    #expect(errno(k, .net(.netAttach(link: "veth-web", bridge: "veth-web"))) == .EOPNOTSUPP)
    #expect(errno(k, .net(.netAttach(link: "veth-web", bridge: "br9"))) == .ENODEV)
    // The machine's network namespace is never touched.
    try k.perform(.process(.boxNew(box: "old")))
    #expect(errno(k, .net(.netVeth(box: "old", hostLink: "veth-old", boxLink: "eth0"))) == .EPERM)
    #expect(errno(k, .net(.ping(from: .box("old"), address: IPv4Address(0x0A00_0001)))) == .EPERM)
  }

  @Test func aVethDiesWithTheBoxNamespaceFromEitherWayOut() throws {
    let k = try wired()
    try k.perform(.process(.boxRemove(box: "web")))
    #expect(try k.facts().host.net?.link("veth-web") == nil)
    #expect(try routes(k, nil) == [])

    let again = try wired()
    try again.perform(.namespace(.unshare(box: "web", kinds: [.net])))  // web leaves; its old namespace dies
    #expect(try again.facts().host.net?.link("veth-web") == nil)
    #expect(try again.facts().box("web")?.process.net == .fresh)

    let joined = try wired()
    try joined.perform(.process(.boxNew(box: "db")))
    try joined.perform(.namespace(.join(box: "db", kind: .net, target: "web")))
    try joined.perform(.process(.boxRemove(box: "web")))  // db still holds the namespace: the veth lives
    #expect(try joined.facts().host.net?.link("veth-web")?.peer == NetEndpoint("db", "eth0"))
  }

  @Test func pingAnswersAsTheModelSays() throws {
    let k = try wired()
    #expect(
      try k.perform(.net(.ping(from: .box("web"), address: IPv4Address(0x0A00_0001)))).ping
        == PingAnswer(reachable: true))
    #expect(
      try k.perform(.net(.ping(from: .box("web"), address: IPv4Address(0x0A00_0101)))).ping
        == PingAnswer(reachable: false, sendErrno: .ENETUNREACH))
    try k.perform(.net(.netState(link: NetLinkRef(.host, "veth-web"), up: false)))
    #expect(
      try k.perform(.net(.ping(from: .box("web"), address: IPv4Address(0x0A00_0001)))).ping
        == PingAnswer(reachable: false))
  }

  @Test func teardownGivesAFreshHostSide() throws {
    let k = try wired()
    try k.perform(.net(.netBridge(name: "br0")))
    k.teardown()
    #expect(try k.facts().host.net == .fresh)
  }

  /// Each entry of a plan is made in turn and an error names the one that failed: a second
  /// listener on a port makes its socket(2), and bind(2), the step's second entry, fails.
  @Test func aSecondListenerFailsAtItsBindEntry() throws {
    let k = try wired()
    let listen = Step.net(.netListen(side: .box("web"), port: 80))
    try k.perform(listen)
    let error = try #require(throws: KernelError.self) { try k.perform(listen) }
    #expect(error.failed == .bind(port: 80))
    #expect(error.failed == listen.plan[1])
    #expect(error.errno == .EADDRINUSE)
    // UDP has a port space of its own, and its listener ends at bind(2).
    try k.perform(.net(.netListen(side: .box("web"), port: 80, proto: "udp")))
    #expect(try k.facts().box("web")?.process.net?.listening.map(\.proto) == ["tcp", "udp"])
  }

  /// A ping without a route fails at its sendto(2) entry, after the socket(2) one; the step
  /// answers it as an unreachable destination, as boxwalk's ping does.
  @Test func aPingWithoutARouteFailsAtItsSendEntry() throws {
    let k = try wired()
    let result = try k.perform(.net(.ping(from: .box("web"), address: IPv4Address(0x0A63_0001))))
    #expect(result.ping == PingAnswer(reachable: false, sendErrno: .ENETUNREACH))
  }

  /// box rm is two entries, the kill(2) and the waitpid(2); the box is gone after the walk.
  @Test func boxRemoveIsMadeEntryByEntry() throws {
    let k = try wired()
    try k.perform(.process(.boxRemove(box: "web")))
    #expect(try k.facts().box("web") == nil)
    #expect(try k.facts().host.net?.links.map(\.name) == ["lo"])
  }
}
