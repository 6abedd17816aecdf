import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import Simulator
import Testing

@testable import LinuxBackend

/// The lab's outside and forwarding on the real kernel: the same steps on LinuxKernel and on the
/// simulator give the same errno, the same links, addresses, routes and ip_forward of every lab
/// namespace (the outside's too), and the same ping answers; the forwarding sysctl written is the
/// host side's, read back inside its namespace, and the machine's own network, firewall and
/// sysctls are as they were (the suite's host snapshot).
@Suite(.requiresRoot, .serialized, .hostUnchanged) struct LinuxOutsideTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }
  static func ip(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }

  static let session: [Step] =
    LabBridgeFixture.webOnBridge + [
      .net(.netRoute(box: "web", gateway: ip("10.231.0.1"))),
      .net(.ping(from: .box("web"), address: ip("203.0.113.1"))),  // nobody has it yet
      .net(.netOutside),
      .net(.netOutside),  // EEXIST: there is one
      .net(.ping(from: .host, address: ip("203.0.113.1"))),  // the host side is on its subnet
      .net(.ping(from: .box("web"), address: ip("203.0.113.2"))),  // the host side's own address
      .net(.ping(from: .box("web"), address: ip("203.0.113.1"))),  // the host side does not forward
      .net(.netForward(on: true)),
      .net(.ping(from: .box("web"), address: ip("203.0.113.1"))),  // forwarded; the outside has no route back
      .net(.ping(from: .box("web"), address: ip("198.51.100.7"))),  // forwarded to nowhere: no route on the host side
      .net(.netNAT(bridge: "bwt-br0", subnet: cidr("10.231.0.0/24"))),
      .net(.ping(from: .box("web"), address: ip("203.0.113.1"))),  // masqueraded: the reply comes back
      .net(.ping(from: .box("web"), address: ip("10.231.0.1"))),  // on the bridge: not rewritten
      .net(.netForward(on: false)),
      .net(.ping(from: .box("web"), address: ip("203.0.113.1"))),  // NAT alone is not enough
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

  @Test func theSimulatorAgreesWithTheKernelStepByStep() throws {
    let machineForward = try SmallFiles.readText("/proc/sys/net/ipv4/ip_forward")
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
        #expect(Self.withoutMACs(rf.outside) == Self.withoutMACs(sf.outside), "outside after step \(n) \(step)")
        for box in sf.boxes {
          #expect(
            Self.withoutMACs(rf.box(box.name)?.process.net) == Self.withoutMACs(box.process.net),
            "\(box.name) after step \(n) \(step)")
        }
        #expect(try SmallFiles.readText("/proc/sys/net/ipv4/ip_forward") == machineForward, "after step \(n)")
      }
    }
    #expect(root.entries("/state") == [])
  }

  @Test func theForwardingSysctlIsTheHostSidesAsSysctlSeesItThere() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    defer { kernel.teardown() }
    try kernel.perform(.net(.netForward(on: true)))
    let host = try #require(kernel.hostNetwork).pid
    let inside = try TestChild.run(["nsenter", "-t", String(host), "-n", "sysctl", "-n", "net.ipv4.ip_forward"])
    #expect(inside.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    #expect(try kernel.facts().host.net?.forward == true)
  }

  @Test func theMasqueradeRuleIsInTheHostSidesRulesetOnly() throws {
    let machineRules = try TestChild.run(["nft", "list", "ruleset"]).output
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    do {
      defer { kernel.teardown() }
      try kernel.perform(.net(.netBridge(name: "bwt-br0")))
      try kernel.perform(.net(.netNAT(bridge: "bwt-br0", subnet: Self.cidr("10.231.0.0/24"))))
      let host = try #require(kernel.hostNetwork).pid
      let inside = try TestChild.run(["nsenter", "-t", String(host), "-n", "nft", "list", "ruleset"]).output
      #expect(inside.contains("ip saddr 10.231.0.0/24 oifname != \"bwt-br0\" masquerade"))
      #expect(try kernel.facts().host.net?.rules == [.masquerade(Self.cidr("10.231.0.0/24"), leavingBy: "bwt-br0")])
      #expect(try TestChild.run(["nft", "list", "ruleset"]).output == machineRules)
    }
    #expect(try TestChild.run(["nft", "list", "ruleset"]).output == machineRules)
  }

  @Test func theOutsidesHelperIsLedgeredAndDiesAtTeardown() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state")
    try kernel.perform(.net(.netOutside))
    let helper = try #require(kernel.outsideNetwork)
    let session = try #require(root.entries("/state").first)
    #expect(
      try SmallFiles.readText(root.path + "/state/" + session + "/ledger").contains("helper outside \(helper.pid) "))
    let links = try TestChild.run([
      "nsenter", "-t", String(helper.pid), "-n", "ip", "-o", "-4", "addr", "show", "dev", "eth0",
    ])
    #expect(links.output.contains("inet 203.0.113.1/24"))
    #expect(try kernel.facts().boxes.isEmpty)  // not a box
    let start = startTime(of: helper.pid)
    kernel.teardown()
    #expect(startTime(of: helper.pid) != start)
    #expect(kernel.outsideNetwork == nil)
    #expect(try kernel.facts().outside == nil)
  }
}

/// nft's listing to rules, without root.
@Suite struct NFTListingTests {
  @Test func rulesAreTheLinesOfEachChainButItsHeader() {
    let listing = [
      "table ip boxwalk {", "\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;",
      "\t\tip saddr 10.0.0.0/24 oifname != \"br0\" masquerade", "\t}", "", "\tchain prerouting {",
      "\t\ttype nat hook prerouting priority dstnat; policy accept;", "\t\ttcp dport 8080 dnat to 10.0.0.2:80", "\t}",
      "}",
    ]
    let rules = LinuxKernel.parseRules(listing)
    #expect(
      rules == [
        NetRule(chain: "postrouting", text: "ip saddr 10.0.0.0/24 oifname != \"br0\" masquerade"),
        NetRule(chain: "prerouting", text: "tcp dport 8080 dnat to 10.0.0.2:80"),
      ])
    #expect(rules[0].meaning == .masquerade(subnet: IPv4CIDR("10.0.0.0/24") ?? .any, exceptOut: "br0"))
    #expect(rules[1].meaning == .other)
  }
}

/// Published ports, listeners and connect on the real kernel: the same steps on LinuxKernel and on
/// the simulator give the same errno, the same facts (the prerouting rule and every namespace's
/// listening sockets) and the same connect outcomes, while the machine's ruleset is untouched.
@Suite(.requiresRoot, .serialized, .hostUnchanged) struct LinuxPublishTests {
  static func cidr(_ s: String) -> IPv4CIDR { IPv4CIDR(s) ?? .any }
  static func ip(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }

  static let session: [Step] =
    LabBridgeFixture.webOnBridge + [
      .net(.netOutside),
      .net(.netPublish(hostPort: 8080, proto: "tcp", box: "web", address: ip("10.231.0.2"), port: 80)),
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 8080)),  // the host side does not forward
      .net(.netForward(on: true)),
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 8080)),  // web has no route back
      .net(.netRoute(box: "web", gateway: ip("10.231.0.1"))),
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 8080)),  // nothing listens in web: reset
      .net(.netListen(side: .box("web"), port: 80)),
      .net(.netListen(side: .box("web"), port: 80)),  // EADDRINUSE
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 8080)),  // connected through the rule
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 8081)),  // not published: the host side resets
      .net(.connect(from: .host, address: ip("203.0.113.2"), port: 8080)),  // its own connection skips prerouting
      .net(.connect(from: .box("web"), address: ip("198.51.100.1"), port: 80)),  // forwarded to nowhere
      .net(.netListen(side: .outside, port: 80)),
      .net(.connect(from: .box("web"), address: ip("203.0.113.1"), port: 80)),  // no NAT: no route back
      .net(.netNAT(bridge: "bwt-br0", subnet: cidr("10.231.0.0/24"))),
      .net(.connect(from: .box("web"), address: ip("203.0.113.1"), port: 80)),  // masqueraded: connected
      .net(.ping(from: .outside, address: ip("203.0.113.2"))),
      // UDP: a published udp port, a bound socket, ICMP port unreachable as ECONNREFUSED.
      .net(.netPublish(hostPort: 5353, proto: "udp", box: "web", address: ip("10.231.0.2"), port: 53)),
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 5353, proto: "udp")),  // nothing bound in web
      .net(.netListen(side: .box("web"), port: 53, proto: "udp")),
      .net(.netListen(side: .box("web"), port: 53, proto: "udp")),  // EADDRINUSE
      .net(.netListen(side: .box("web"), port: 53)),  // tcp 53 is another port space
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 5353, proto: "udp")),  // web answers
      .net(.connect(from: .outside, address: ip("203.0.113.2"), port: 5353)),  // tcp 5353 is not published
      // refused, back through NAT
      .net(.connect(from: .box("web"), address: ip("203.0.113.1"), port: 53, proto: "udp")),
      .net(.netListen(side: .outside, port: 53, proto: "udp")),
      .net(.connect(from: .box("web"), address: ip("203.0.113.1"), port: 53, proto: "udp")),  // seen as 203.0.113.2
      // net unreachable: silence
      .net(.connect(from: .box("web"), address: ip("198.51.100.1"), port: 53, proto: "udp")),
      // web to itself, over its loopback: the helper answers its own server while it waits.
      .net(.netState(link: NetLinkRef(.box("web"), "lo"), up: true)),
      .net(.connect(from: .box("web"), address: ip("10.231.0.2"), port: 53, proto: "udp")),  // web to itself
      .net(.connect(from: .box("web"), address: ip("10.231.0.2"), port: 80)),  // web to itself, tcp
      // web's helper leaves the namespace it listens in: the listener closes, and the namespace
      // dies with its veth (a socket left open would keep it alive).
      .namespace(.unshare(box: "web", kinds: [.net])),
      .process(.boxRemove(box: "web")),
    ]

  static func outcome(_ kernel: any Kernel, _ step: Step) -> String {
    do {
      let result = try kernel.perform(step)
      if let c = result.connect { return "connect \(c) answer \(result.answer ?? "-")" }
      return result.ping.map { "ping reachable=\($0.reachable)" } ?? "ok"
    } catch {
      return "\(error.call): \(error.errno.name)"
    }
  }

  @Test func theSimulatorAgreesWithTheKernelStepByStep() throws {
    let machineRules = try TestChild.run(["nft", "list", "ruleset"]).output
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
        #expect(rf.host.net?.rules == sf.host.net?.rules, "rules after step \(n)")
        #expect(
          LinuxOutsideTests.withoutMACs(rf.host.net) == LinuxOutsideTests.withoutMACs(sf.host.net),
          "host side after step \(n)")
        #expect(rf.host.net?.listening == sf.host.net?.listening, "host listening after step \(n)")
        #expect(rf.outside?.listening == sf.outside?.listening, "outside listening after step \(n)")
        #expect(rf.box("web")?.process.net?.listening == sf.box("web")?.process.net?.listening, "web after step \(n)")
        // The model the Lab prints from, on the kernel's facts, says what the kernel did.
        if case .net(.connect(let side, let address, let port, let proto)) = step {
          let view = NetworkView(rf)
          let said = ConnectModel.connect(view, from: side.name, to: address, port: port, proto: proto).outcome(
            from: side.name, view, proto: proto)
          let answer = ConnectModel.answer(view, from: side.name, to: address, port: port, proto: proto)
          #expect(a == "connect \(said) answer \(answer ?? "-")", "step \(n): model \(said), \(answer ?? "-")")
        }
      }
      #expect(try TestChild.run(["nft", "list", "ruleset"]).output == machineRules)
    }
    #expect(root.entries("/state") == [])
    #expect(try TestChild.run(["nft", "list", "ruleset"]).output == machineRules)
  }
}

/// /proc/net/tcp to listeners, without root.
@Suite struct ProcNetTCPTests {
  @Test func onlySocketsInListenStateCount() {
    let text = """
      sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
       0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
       1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
       2: 0200E70A:0050 0100E70A:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
      """
    #expect(
      LinuxKernel.parseListening(text) == [
        NetListener(address: IPv4Address(0), port: 80),
        NetListener(address: IPv4Address("127.0.0.1") ?? IPv4Address(0), port: 8080),
      ])
  }

  /// A namespace's sockstat says whether its tables need reading at all: the TCP table costs
  /// milliseconds to read whatever the namespace holds.
  @Test func sockstatCountsTheSocketsInUse() {
    let text = """
      sockets: used 3
      TCP: inuse 1 orphan 0 tw 0 alloc 2 mem 259
      UDP: inuse 0 mem 0
      UDPLITE: inuse 0
      """
    #expect(LinuxKernel.socketsInUse(text) == (1, 0))
    #expect(LinuxKernel.socketsInUse("sockets: used 0\n") == (nil, nil))
  }

  @Test func aPublishRuleReadsBackAsWhatItMeans() {
    let rule = NetRule(chain: "prerouting", text: "fib daddr type local tcp dport 8080 dnat to 10.0.0.2:80")
    #expect(rule == .publish(8080, "tcp", to: IPv4Address("10.0.0.2") ?? IPv4Address(0), port: 80))
    #expect(
      rule.meaning == .dnat(proto: "tcp", port: 8080, address: IPv4Address("10.0.0.2") ?? IPv4Address(0), toPort: 80))
    #expect(NetRule(chain: "prerouting", text: "tcp dport 8080 dnat to 10.0.0.2:80").meaning == .other)
  }
}

/// nft lists a table chain by chain; the simulator keeps its rules in that order too.
@Suite(.requiresRoot, .serialized, .hostUnchanged) struct LinuxRuleOrderTests {
  @Test func rulesOfTwoChainsListChainByChainOnBothKernels() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let real = try LinuxKernel(stateRoot: root.path + "/state")
    let sim = SimulatedKernel()
    defer { real.teardown() }
    let a = IPv4Address("10.231.0.2") ?? IPv4Address(0)
    let steps: [Step] = [
      .net(.netBridge(name: "bwt-br0")),
      .net(.netPublish(hostPort: 8080, proto: "tcp", box: "web", address: a, port: 80)),
      .net(.netNAT(bridge: "bwt-br0", subnet: IPv4CIDR("10.231.0.0/24") ?? .any)),
      .net(.netPublish(hostPort: 5353, proto: "udp", box: "web", address: a, port: 53)),
    ]
    for step in steps {
      _ = try real.perform(step)
      _ = try sim.perform(step)
    }
    let rules = try real.facts().host.net?.rules ?? []
    #expect(rules.map(\.chain) == ["prerouting", "prerouting", "postrouting"])
    #expect(try sim.facts().host.net?.rules == rules)
  }
}

/// The lab network both suites above start from: bridge bwt-br0 at 10.231.0.1/24 on the host side
/// and box web's eth0 at 10.231.0.2/24, its veth's host end up and attached to the bridge.
enum LabBridgeFixture {
  static let webOnBridge: [Step] = [
    .net(.netBridge(name: "bwt-br0")),
    .net(.netAddr(link: NetLinkRef(.host, "bwt-br0"), cidr: IPv4CIDR("10.231.0.1/24") ?? .any)),
    .net(.netState(link: NetLinkRef(.host, "bwt-br0"), up: true)),
    .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.net])),
    .net(.netVeth(box: "web", hostLink: "bwt-web", boxLink: "eth0")),
    .net(.netAddr(link: NetLinkRef(.box("web"), "eth0"), cidr: IPv4CIDR("10.231.0.2/24") ?? .any)),
    .net(.netState(link: NetLinkRef(.box("web"), "eth0"), up: true)),
    .net(.netState(link: NetLinkRef(.host, "bwt-web"), up: true)),
    .net(.netAttach(link: "bwt-web", bridge: "bwt-br0")),
  ]
}
