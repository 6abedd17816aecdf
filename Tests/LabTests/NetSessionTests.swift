import Kernel
import Simulator
import Testing

@testable import Lab

/// Networking through the session on the simulator: every class of bad input gets one headline
/// that names the rule and changes nothing (docs/architecture.md, "Errors"), and ping says why when
/// it does not reach.
@Suite struct NetSessionTests {
  func session(_ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines {
      let out = s.execute(l)
      #expect(!(out.first ?? "").hasPrefix("error:"), "\(l): \(out)")
    }
    return s
  }

  /// web: own network, veth up both ends, 10.0.0.2/24 <-> host 10.0.0.1/24; old: the machine's;
  /// a bridge br0 on the host side. web is current.
  func wired() throws -> Session {
    try session(
      "box new old", "box new web", "unshare net", "net veth", "net addr eth0 10.0.0.2/24",
      "net addr host:veth-web 10.0.0.1/24", "net up eth0", "net up host:veth-web", "net bridge br0")
  }

  @Test(arguments: [
    // A box in the machine's network namespace: refused, with the reason.
    (
      "use old", "net veth",
      "error: refused: old shares the machine's network namespace, so net veth would change the machine's network",
      "unshare net"
    ),
    (
      "use old", "net addr eth0 10.0.0.5/24",
      "error: refused: old shares the machine's network namespace, so net addr would change the machine's network",
      "net:0, the machine's"
    ),
    (
      "use old", "net up lo",
      "error: refused: old shares the machine's network namespace, so net up would change the machine's network",
      "unshare net"
    ),
    (
      "use old", "net route default via 10.0.0.1",
      "error: refused: old shares the machine's network namespace, so net route would change the machine's network",
      "unshare net"
    ),
    (
      "use old", "net attach br0",
      "error: refused: old shares the machine's network namespace, so net attach would change the machine's network",
      "unshare net"
    ),
    (
      "use old", "ping 10.0.0.1",
      "error: refused: old shares the machine's network namespace, and boxwalk never sends packets there", "unshare net"
    ),
    (
      "use web", "ping 10.0.0.1 --from old",
      "error: refused: old shares the machine's network namespace, and boxwalk never sends packets there", "unshare net"
    ),
    // Bad addresses.
    (
      "use web", "net addr eth0 10.0.0.3", "error: \"10.0.0.3\" is not an IPv4 address with a prefix length",
      "example: 10.0.0.2/24"
    ),
    (
      "use web", "net addr eth0 10.0.0.3/33", "error: \"10.0.0.3/33\" is not an IPv4 address with a prefix length",
      "prefix length 0-32"
    ),
    (
      "use web", "net addr eth0 10.0.0.256/24", "error: \"10.0.0.256/24\" is not an IPv4 address with a prefix length",
      "0-255"
    ),
    (
      "use web", "net addr eth0 010.0.0.3/24", "error: \"010.0.0.3/24\" is not an IPv4 address with a prefix length",
      "0-255"
    ),
    ("use web", "net addr eth0 8.8.8.8/24", "error: 8.8.8.8 is not a private address", "RFC 1918"),
    (
      "use web", "net addr eth0 10.0.0.0/24",
      "error: 10.0.0.0 is the network address of 10.0.0.0/24, not an address for a link", "example: 10.0.0.1/24"
    ),
    (
      "use web", "net addr eth0 10.0.0.255/24",
      "error: 10.0.0.255 is the broadcast address of 10.0.0.0/24, not an address for a link", "broadcast"
    ),
    ("use web", "net addr eth0 10.0.0.2/24", "error: eth0 already has 10.0.0.2/24", "nothing was changed"),
    ("use web", "ping 10.0.0", "error: \"10.0.0\" is not an IPv4 address", "four numbers"),
    // Bad names.
    (
      "use web", "net bridge averyveryverylongbr", "error: \"averyveryverylongbr\" is not a valid interface name",
      "at most 15 bytes (IFNAMSIZ"
    ),
    ("use web", "net bridge -br", "error: \"-br\" is not a valid interface name", "[A-Za-z0-9][A-Za-z0-9_.-]*"),
    ("use web", "net bridge br/0", "error: \"br/0\" is not a valid interface name", "character 3"),
    ("use web", "net veth veth-x eth:1", "error: \"eth:1\" is not a valid interface name", "character 4"),
    (
      "use web", "net veth veth-x", "error: net veth takes no names (veth-web and eth0) or both: net veth HOSTIF BOXIF",
      "usage: net veth [HOSTIF BOXIF]"
    ),
    (
      "use web", "net veth veth-web eth1", "error: the host side already has a link named veth-web", "pick another name"
    ),
    ("use web", "net veth veth-w2 eth0", "error: web already has a link named eth0", "pick another name"),
    ("use web", "net bridge br0", "error: the host side already has a link named br0", "pick another name"),
    // Unknown interfaces.
    ("use web", "net up eth1", "error: no link named \"eth1\" in web", "did you mean: eth0"),
    ("use web", "net up veth-web", "error: no link named \"veth-web\" in web", "host:veth-web is on the host side"),
    (
      "use web", "net addr host:br1 10.0.0.9/24", "error: no link named \"br1\" on the host side",
      "did you mean: host:br0"
    ),
    // attach
    ("use web", "net attach br9", "error: no link named \"br9\" on the host side", "did you mean: host:br0"),
    ("use web", "net attach veth-web", "error: host:veth-web is a veth, not a bridge", "bridges: br0"),
    // route
    (
      "use web", "net route default via 10.0.5.1", "error: 10.0.5.1 is not on any subnet web has a route for",
      "subnets: 10.0.0.0/24"
    ),
    (
      "use web", "net route default via 10.0.0.2", "error: 10.0.0.2 is an address of web itself",
      "a gateway is another machine"
    ),
    ("use web", "net route default via 8.8.8.8", "error: 8.8.8.8 is not a private address", "RFC 1918"),
    (
      "use web", "net route 10.0.5.0/24 via 10.0.0.1", "error: net route takes: default via ADDR",
      "usage: net route default via ADDR"
    ),
    // ping and net themselves
    ("use web", "ping 10.0.0.1 --from nobody", "error: no box named \"nobody\"", "boxes:"),
    (
      "use web", "ping 10.0.0.1 --to host", "error: ping takes ADDR, then optionally --from host|BOX",
      "usage: ping ADDR"
    ),
    (
      "use web", "net",
      "error: net needs a subcommand: veth, bridge, attach, addr, up, down, route, outside, forward, nat, publish, listen or rules",
      "usage:"
    ),
    // Forwarding, the outside and NAT: exact errors, nothing changed.
    ("use web", "net forward sideways", "error: net forward takes on or off", "usage: net forward on|off"),
    ("use web", "net forward", "error: net forward takes on or off", "usage: net forward on|off"),
    ("use web", "net forward off", "error: the host side already does not forward", "host.net.forward = 0"),
    ("use web", "net outside now", "error: too many arguments for net outside", "usage: net outside"),
    ("use web", "net nat", "error: net nat needs an argument, got 0", "usage: net nat BRIDGE"),
    ("use web", "net nat veth-web", "error: no bridge named \"veth-web\" on the host side", "bridges: br0"),
    (
      "use web", "net nat br0", "error: br0 has no address, so it has no subnet to masquerade",
      "net addr host:br0 ADDR/PREFIX"
    ),
    ("use web", "net nat br/0", "error: \"br/0\" is not a valid interface name", "character 3"),
    ("use web", "net rules all", "error: too many arguments for net rules", "usage: net rules"),
    ("use web", "net link add", "error: unknown command \"net link\"", "see:"),
    ("use web", "links now", "error: too many arguments for links", "usage: links"),
  ])
  func badInputChangesNothing(_ use: String, _ line: String, _ headline: String, _ detail: String) throws {
    let s = try wired()
    _ = s.execute(use)
    let before = s.tree
    let out = s.execute(line)
    #expect(out.first == headline, "\(line): \(out)")
    #expect(out.dropFirst().contains { $0.contains(detail) }, "\(line): \(out)")
    #expect(out.contains { $0.contains("nothing was changed") } || !out.contains { $0.contains("state:") })
    #expect(s.tree == before, "\(line)")
  }

  @Test func attachWithoutAVethAndARouteViaADownLink() throws {
    let s = try session("net bridge br0", "box new web", "unshare net")
    let out = s.execute("net attach br0")
    #expect(out.first == "error: web has no veth to the host side, so there is nothing to attach")
    #expect(out.contains { $0.contains("net veth first") })
    _ = s.execute("net veth")
    _ = s.execute("net addr eth0 10.0.0.2/24")
    let route = s.execute("net route default via 10.0.0.1")
    #expect(route.first == "error: 10.0.0.1 is on web's eth0, which is down: a link that is down has no routes")
    #expect(route.contains { $0.contains("net up eth0 first") })
    #expect(s.execute("net attach br0").first == "host:veth-web (web's veth) is now a port of br0")
    #expect(s.execute("net attach br0").first == "error: host:veth-web is already a port of br0")
  }

  @Test func theDefaultHostEndNameMustFitIFNAMSIZ() throws {
    let s = try session("box new abcdefghijklmno", "unshare net")
    let out = s.execute("net veth")
    #expect(
      out.first
        == "error: the default name of the host end, veth-abcdefghijklmno, has 20 bytes; an interface name has at most 15"
    )
    #expect(out.contains { $0.contains("net veth HOSTIF BOXIF") })
    #expect(s.execute("net veth v-abc eth0").first?.hasPrefix("made a veth pair") == true)
  }

  @Test func netWorksWithoutABoxOnTheHostSide() throws {
    let s = try session()
    #expect(s.execute("net bridge br0").first == "made bridge br0 on the host side: no ports yet, down")
    #expect(s.execute("net up host:br0").first == "host:br0 is up")
    #expect(s.execute("net up br0").first == "error: net up acts on the current box, and there is none")
    #expect(s.execute("links").first == "  SIDE  LINK  KIND      STATE  MASTER  PEER  ADDRS")
    #expect(s.execute("ping 10.0.0.1").first == "10.0.0.1 is not reachable from host: no route to 10.0.0.1")
  }

  @Test func pingSaysWhyAndHowToFixIt() throws {
    let s = try wired()
    #expect(
      s.execute("ping 10.0.0.1").prefix(2) == [
        "10.0.0.1 is reachable from web", "  path     web:eth0 -> host:veth-web",
      ])
    _ = s.execute("net down host:veth-web")
    let down = s.execute("ping 10.0.0.1")
    #expect(
      down.prefix(3) == [
        "10.0.0.1 is not reachable from web: link down",
        "  why      host:veth-web (the host end of web:eth0) is down: a veth pair passes frames only while both ends are up",
        "  fix      net up host:veth-web",
      ])
    #expect(s.failures == 0)  // an answer, not an error
    #expect(s.execute("explain").contains { $0.contains("syscall  sendto(ICMP_ECHO, inet_addr(\"10.0.0.1\"))") })
  }

  @Test func pingInJSONCarriesTheVerdict() throws {
    let s = try wired()
    s.jsonMode = true
    let line = try #require(s.execute("ping 10.0.0.1").first)
    #expect(line.contains("\"step\":\"ping\""))
    #expect(line.contains("10.0.0.1 is reachable from web"))
  }

  /// A kernel that answers every ping the opposite way from the model: the kernel's answer is
  /// printed, and the disagreement is flagged.
  final class Contrary: Kernel {
    let inner = SimulatedKernel()
    var backend: Backend { .sim }
    func perform(_ step: Step) throws(KernelError) -> StepResult {
      var result = try inner.perform(step)
      if let answer = result.ping { result.ping = PingAnswer(reachable: !answer.reachable) }
      return result
    }
    func facts() throws(KernelError) -> KernelFacts { try inner.facts() }
    func teardown() { inner.teardown() }
  }

  @Test func aDisagreementBetweenKernelAndModelIsFlagged() throws {
    let s = try Session(kernel: Contrary())
    for l in ["box new web", "unshare net", "net up lo"] { _ = s.execute(l) }
    let out = s.execute("ping 127.0.0.1")
    #expect(out.first == "127.0.0.1 is not reachable from web: the kernel's answer")
    #expect(out[1].contains("boxwalk's model expected reachable"))
    #expect(out[1].contains("bug in boxwalk"))
  }

  @Test func completion() throws {
    let s = try wired()
    #expect(s.completions(before: "net ", word: "").contains("attach"))
    #expect(s.completions(before: "net up ", word: "").contains("host:veth-web"))
    #expect(s.completions(before: "net up ", word: "").contains("eth0"))
    #expect(s.completions(before: "net attach ", word: "") == ["br0"])
  }

  @Test func helpListsTheNetCommands() throws {
    let s = try session()
    let help = s.execute("help net")
    #expect(help.contains("usage: net veth [HOSTIF BOXIF]"))
    #expect(help.contains("usage: net route default via ADDR"))
    #expect(!s.execute("help").contains { $0.contains("coming in later versions") && $0.contains("net") })
  }

  /// A second outside, or a second masquerade rule for the same subnet: refused before any system
  /// call, and the tree is exactly as before.
  @Test func theOutsideAndARuleAreMadeOnce() throws {
    let s = try session(
      "net bridge br0", "net addr host:br0 10.0.0.1/24", "net up host:br0", "net outside", "net nat br0")
    let before = s.tree
    let again = s.execute("net outside")
    #expect(again.first == "error: the outside is already there")
    let twice = s.execute("net nat br0")
    #expect(
      twice.first
        == "error: the host side already masquerades 10.0.0.0/24 (ip saddr 10.0.0.0/24 oifname != \"br0\" masquerade)")
    #expect(s.tree == before)
    #expect(
      s.tree.value(at: StatePath(keys: "host", "net", "rules"))
        == .list([.string("postrouting: ip saddr 10.0.0.0/24 oifname != \"br0\" masquerade")]))
    #expect(s.tree.value(at: StatePath(keys: "outside", "net", "links", "eth0", "peer")) == .string("host:uplink"))
    // The outside is not a box.
    #expect(s.boxNames == [])
    #expect(s.execute("box ls").first == "no boxes yet: box new NAME creates one")
  }
}
