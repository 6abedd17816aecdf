import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import NetWire
import Simulator
import Testing

@testable import LinuxBackend

/// Networking on the real kernel: the same steps on LinuxKernel and on the simulator give the
/// same errno, the same links, addresses and routes, and the same ping answers; and the
/// machine's own network is exactly as it was, with no veth of ours in it, during and after.
@Suite(.requiresRoot, .serialized, .hostUnchanged) struct LinuxNetTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }
  static func ip(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }

  /// The machine's network as independent tools see it (the host snapshot, HostSnapshot.swift):
  /// links, addresses, routes of every table, rules. Lifetimes are cut: they count down on their
  /// own.
  static func machineNetwork() throws -> String {
    var out = ""
    for args in [
      ["-o", "link"], ["-o", "addr"], ["route", "show", "table", "all"], ["-6", "route", "show", "table", "all"],
      ["rule"],
    ] {
      let run = try TestChild.run(["ip"] + args)
      out += "## ip \(args.joined(separator: " ")) (status \(run.status))\n"
      out += run.output.replacingOccurrences(
        of: #"(valid_lft|preferred_lft|expires) \S+"#, with: "$1 -", options: .regularExpression)
    }
    return out
  }

  static func machineVeths() throws -> String {
    try TestChild.run(["ip", "-o", "link", "show", "type", "veth"]).output
  }

  /// Every step, with the one before it: errno equal, net facts equal (MAC addresses aside), ping equal.
  static let session: [Step] = [
    .net(.netBridge(name: "bwt-br0")),
    .net(.netAddr(link: NetLinkRef(.host, "bwt-br0"), cidr: cidr("10.231.0.1/24"))),
    .net(.netState(link: NetLinkRef(.host, "bwt-br0"), up: true)),
    .process(.boxNew(box: "web")), .process(.boxNew(box: "db")), .process(.boxNew(box: "old")),
    .net(.netVeth(box: "old", hostLink: "bwt-old", boxLink: "eth0")),  // the machine's namespace: EPERM
    .net(.ping(from: .box("old"), address: ip("10.231.0.1"))),  // EPERM: no packet ever leaves there
    .namespace(.unshare(box: "web", kinds: [.net])), .namespace(.unshare(box: "db", kinds: [.net])),
    .net(.ping(from: .box("web"), address: ip("127.0.0.1"))),  // ENETUNREACH
    .net(.netState(link: NetLinkRef(.box("web"), "lo"), up: true)),
    .net(.ping(from: .box("web"), address: ip("127.0.0.1"))),
    .net(.netVeth(box: "web", hostLink: "bwt-web", boxLink: "eth0")),
    .net(.netVeth(box: "db", hostLink: "bwt-web", boxLink: "eth0")),  // EEXIST on the host side
    .net(.netVeth(box: "db", hostLink: "bwt-db", boxLink: "eth0")),
    .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: cidr("10.231.0.2/24"))),
    .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: cidr("10.231.0.2/24"))),  // EEXIST
    .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: cidr("10.231.0.7/24"))),  // a secondary
    .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: cidr("10.232.0.2/16"))),  // a second primary
    .net(.netAddr(link: NetLinkRef(.box("db"), "eth0"), cidr: cidr("10.231.0.3/24"))),
    .net(.netRoute(box: "web", gateway: ip("10.231.0.1"))),  // ENETUNREACH: eth0 is down, no route to it
    .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),
    .net(.netState(link: NetLinkRef(.box("db"), "eth0"), up: true)),
    .net(.ping(from: .box("web"), address: ip("10.231.0.1"))),  // link down: the host end is down
    .net(.netState(link: NetLinkRef(.host, "bwt-web"), up: true)),
    .net(.netState(link: NetLinkRef(.host, "bwt-db"), up: true)),
    // The request reaches host:bwt-web, but the reply leaves through the bridge.
    .net(.ping(from: .box("web"), address: ip("10.231.0.1"))),
    .net(.netAttach(link: "bwt-web", bridge: "bwt-web")),  // EOPNOTSUPP: a veth takes no ports
    .net(.netAttach(link: "bwt-web", bridge: "bwt-br0")),
    .net(.ping(from: .box("web"), address: ip("10.231.0.1"))),
    .net(.ping(from: .box("web"), address: ip("10.231.0.3"))),  // db is not on the bridge
    .net(.netAttach(link: "bwt-db", bridge: "bwt-br0")),
    .net(.ping(from: .box("web"), address: ip("10.231.0.3"))),
    .net(.ping(from: .box("db"), address: ip("10.231.0.7"))),  // web's secondary address answers too
    .net(.ping(from: .host, address: ip("10.231.0.2"))),
    .net(.netRoute(box: "web", gateway: ip("10.231.0.1"))),
    .net(.netRoute(box: "web", gateway: ip("10.231.0.1"))),  // EEXIST
    .net(.ping(from: .box("web"), address: ip("10.99.0.1"))),  // the host side does not forward
    .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: false)),
    .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),  // only the connected routes return
    .net(.netState(link: NetLinkRef(.host, "bwt-br0"), up: false)),
    .net(.ping(from: .box("web"), address: ip("10.231.0.3"))),  // link down: the bridge
    .net(.netState(link: NetLinkRef(.host, "bwt-br0"), up: true)),
    .process(.boxNew(box: "cache")), .namespace(.join(box: "cache", kind: .net, target: "db")),
    .process(.boxRemove(box: "db")),  // cache still holds db's namespace: its veth lives
    .net(.ping(from: .box("web"), address: ip("10.231.0.3"))),
    .namespace(.unshare(box: "cache", kinds: [.net])),  // now it dies, and the host end with it
    .net(.ping(from: .box("web"), address: ip("10.231.0.3"))),
    .net(.netVeth(box: "cache", hostLink: "bwt-db", boxLink: "eth0")),  // the name is free again
    // A user namespace made after the network namespace owns nothing of it: no capability there.
    .namespace(.unshare(box: "cache", kinds: [.user])),
    .net(.netState(link: NetLinkRef(.box("cache"), "eth0"), up: true)),  // EPERM
    .net(.ping(from: .box("cache"), address: ip("127.0.0.1"))),  // EPERM, from socket(2)
    .net(.netVeth(box: "cache", hostLink: "bwt-c2", boxLink: "eth1")),  // made from the host side: fine
    // The other way round, the new network namespace belongs to the new user namespace.
    .process(.boxNew(box: "inner")), .namespace(.unshare(box: "inner", kinds: [.user, .net])),
    .net(.netState(link: NetLinkRef(.box("inner"), "lo"), up: true)),
    .net(.ping(from: .box("inner"), address: ip("127.0.0.1"))),
    .process(.boxRemove(box: "web")),
  ]

  static func withoutMACs(_ net: NetFacts?) -> NetFacts? {
    guard var net else { return nil }
    for i in net.links.indices { net.links[i].mac = "" }
    return net
  }

  static func outcome(_ kernel: any Kernel, _ step: Step) -> String {
    do {
      let result = try kernel.perform(step)
      return result.ping.map { "ping reachable=\($0.reachable) errno=\($0.sendErrno?.name ?? "-")" } ?? "ok"
    } catch {
      return "\(error.call): \(error.errno.name)"
    }
  }

  @Test func theSimulatorAgreesWithTheKernelStepByStepAndTheMachineIsUntouched() throws {
    let before = try Self.machineNetwork()
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let real = try LinuxKernel(stateRoot: root.path + "/state")
    let sim = SimulatedKernel()
    do {
      defer { real.teardown() }
      for (n, step) in Self.session.enumerated() {
        let a = Self.outcome(real, step)
        let b = Self.outcome(sim, step)
        #expect(a == b, "step \(n) \(step): kernel \(a), simulator \(b)")
        let rf = try real.facts()
        let sf = try sim.facts()
        #expect(Self.withoutMACs(rf.host.net) == Self.withoutMACs(sf.host.net), "host side after step \(n) \(step)")
        for box in sf.boxes {
          #expect(
            Self.withoutMACs(rf.box(box.name)?.process.net) == Self.withoutMACs(box.process.net),
            "\(box.name) after step \(n) \(step)")
        }
        #expect(try Self.machineVeths() == "", "a veth in the machine's namespace after step \(n)")
      }
    }
    #expect(try Self.machineNetwork() == before)
    #expect(try Self.machineVeths() == "")
    #expect(root.entries("/state") == [])
  }

  @Test func iprouteInsideTheNamespacesSeesWhatBoxwalkShows() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    defer { kernel.teardown() }
    for step: Step in [
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.net])),
      .net(.netVeth(box: "web", hostLink: "bwt-web", boxLink: "eth0")),
      .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: Self.cidr("10.231.0.2/24"))),
      .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),
    ] {
      try kernel.perform(step)
    }
    let web = try #require(kernel.facts().box("web")).process.hostPID
    let addr = try TestChild.run(["nsenter", "-t", String(web), "-n", "ip", "-o", "-4", "addr", "show", "dev", "eth0"])
    #expect(addr.output.contains("inet 10.231.0.2/24"))
    let link = try TestChild.run(["nsenter", "-t", String(web), "-n", "ip", "-o", "link", "show", "eth0"])
    #expect(link.output.contains("eth0@if2"))  // its peer is index 2 on the host side
    #expect(link.output.contains(",UP"))
    let host = try #require(kernel.hostNetwork).pid
    let hostLinks = try TestChild.run(["nsenter", "-t", String(host), "-n", "ip", "-o", "link"])
    #expect(hostLinks.output.contains("bwt-web@if2"))
    // The host side's helper is not a box, and is in the ledger.
    #expect(try kernel.facts().boxes.map(\.name) == ["web"])
    let session = try #require(root.entries("/state").first)
    #expect(try SmallFiles.readText(root.path + "/state/" + session + "/ledger").contains("helper host \(host) "))
  }

  @Test func theHostSidesHelperDiesAtTeardown() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    try kernel.perform(.net(.netBridge(name: "bwt-br0")))
    let helper = try #require(kernel.hostNetwork)
    let start = startTime(of: helper.pid)
    #expect(start != nil)
    kernel.teardown()
    #expect(startTime(of: helper.pid) != start)
    #expect(kernel.hostNetwork == nil)
    #expect(try kernel.facts().host.net == .fresh)
  }

  /// The helper makes a plan's entries one by one and its error names the one that failed: a
  /// second listener's socket(2) is made, then its bind(2), the second entry of the request,
  /// fails, and the socket the first entry made is closed (the first listener stays).
  @Test func aHelperCallFailingMidPlanNamesItsEntry() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    defer { kernel.teardown() }
    let listen = Step.net(.netListen(side: .host, port: 80))
    try kernel.perform(listen)
    let error = try #require(throws: KernelError.self) { try kernel.perform(listen) }
    #expect(error.failed == listen.plan[1])
    #expect(error.errno == .EADDRINUSE)
    #expect(try kernel.facts().host.net?.listening.map(\.port) == [80])
  }
}

/// Dumps to facts, without root: peers across namespaces by namespace id, dying veths left out.
@Suite struct NetworkFactsTests {
  @Test func peersAreFoundThroughNamespaceIDs() {
    var host = Dump()
    host.links = [
      LinkRecord(index: 1, name: "lo", kind: "loopback", flags: 0, mac: ""),
      LinkRecord(index: 2, name: "veth-web", kind: "veth", flags: 1, master: 3, link: 2, linkNamespaceID: 0, mac: "x"),
      LinkRecord(index: 3, name: "br0", kind: "bridge", flags: 1, mac: "y"),
      LinkRecord(index: 4, name: "veth-gone", kind: "veth", flags: 1, link: 2, linkNamespaceID: -1, mac: "z"),
      LinkRecord(index: 5, name: "tunl0", kind: "ipip", flags: 0, mac: ""),
    ]
    host.addresses = [AddressRecord(index: 3, address: [10, 0, 0, 1], prefixLength: 24)]
    host.routes = [
      RouteRecord(destination: [10, 0, 0, 0], prefixLength: 24, outputIndex: 3),
      RouteRecord(destination: [10, 9, 0, 0], prefixLength: 24, outputIndex: 4),
    ]
    host.namespaceIDs = [(200, 0)]
    var web = Dump()
    web.links = [LinkRecord(index: 2, name: "eth0", kind: "veth", flags: 0, link: 2, linkNamespaceID: 0, mac: "w")]
    web.namespaceIDs = [(100, 0)]
    let facts = NetworkFacts.resolve([host, web], names: ["host", "web"], pids: [100, 200], at: 0)
    #expect(facts.links.map(\.name) == ["lo", "veth-web", "br0"])
    #expect(facts.link("veth-web")?.peer == NetEndpoint("web", "eth0"))
    #expect(facts.link("veth-web")?.master == "br0")
    #expect(facts.link("br0")?.addrs.map(\.description) == ["10.0.0.1/24"])
    #expect(facts.routes.map(\.description) == ["10.0.0.0/24 dev br0"])
    let other = NetworkFacts.resolve([host, web], names: ["host", "web"], pids: [100, 200], at: 1)
    #expect(other.link("eth0")?.peer == NetEndpoint("host", "veth-web"))
    #expect(other.link("eth0")?.up == false)
  }
}
