import Kernel
import Simulator
import Testing

@testable import Lab

/// `net publish`, `net listen` and `connect` through the session on the simulator: exact errors
/// that change nothing, the rule in `host.net.rules`, and connect's verdict at each stage of
/// `docker run -p`: no forwarding, nothing listening, connected through the published port.
@Suite struct PublishSessionTests {
  func session(_ lines: [String]) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines {
      let out = s.execute(l)
      #expect(!(out.first ?? "").hasPrefix("error:"), "\(l): \(out)")
    }
    return s
  }

  /// web on br0 (10.0.0.2/24, default route via 10.0.0.1), the outside made; web is current.
  static let wired = [
    "net bridge br0", "net addr host:br0 10.0.0.1/24", "net up host:br0", "box new web", "unshare net", "net veth",
    "net addr eth0 10.0.0.2/24", "net up eth0", "net up host:veth-web", "net attach br0",
    "net route default via 10.0.0.1", "net outside",
  ]

  @Test(arguments: [
    ("net publish 8080", "error: net publish takes HOSTPORT BOX:PORT, then optionally tcp or udp"),
    ("net publish 8080 web", "error: \"web\" is not BOX:PORT"),
    ("net publish 0 web:80", "error: \"0\" is not a host port"),
    ("net publish 65536 web:80", "error: \"65536\" is not a host port"),
    ("net publish 08080 web:80", "error: \"08080\" is not a host port"),
    ("net publish 8080 web:http", "error: \"http\" is not a port"),
    ("net publish 8080 web:80 sctp", "error: \"sctp\" is not a protocol net publish knows"),
    ("net publish 8080 nobody:80", "error: no box named \"nobody\""),
    (
      "net publish 8080 lonely:80",
      "error: lonely has no address on a bridge of the host side, so nothing could reach it there"
    ),
    ("net publish 9090 web:81", "error: tcp port 9090 of the host side is already published, to 10.0.0.2:80"),
    ("net listen", "error: net listen takes PORT, then optionally tcp or udp, then optionally --on host|outside|BOX"),
    ("net listen 80 sctp", "error: \"sctp\" is not a protocol net listen knows"),
    (
      "net listen 80 udp --on",
      "error: net listen takes PORT, then optionally tcp or udp, then optionally --on host|outside|BOX"
    ),
    ("net listen 22 tcp", "error: web already listens on tcp port 22"),
    ("connect 203.0.113.2:80 icmp", "error: \"icmp\" is not a protocol connect knows"),
    ("net listen 80 --on nobody", "error: no box named \"nobody\""),
    ("net listen 22", "error: web already listens on tcp port 22"),
    ("connect 203.0.113.2", "error: \"203.0.113.2\" is not ADDR:PORT"),
    ("connect 203.0.113.2:0", "error: \"0\" is not a port"),
    ("connect 203.0.113.300:80", "error: \"203.0.113.300\" is not an IPv4 address"),
    ("connect 203.0.113.2:80 --from nobody", "error: no box named \"nobody\""),
  ])
  func badInputChangesNothing(line: String, headline: String) throws {
    let s = try session(
      Self.wired + ["net listen 22", "box new lonely", "unshare net", "use web", "net publish 9090 web:80"])
    let before = s.tree
    let out = s.execute(line)
    #expect(out.first == headline, "\(out)")
    #expect(out.last?.hasPrefix("  state:") == true && out.last?.hasSuffix(" nothing was changed") == true, "\(out)")
    #expect(s.tree == before)
  }

  @Test func theOutsideIsRefusedBeforeItExists() throws {
    let s = try session(["box new web", "unshare net"])
    #expect(s.execute("connect 10.0.0.1:80 --from outside").first == "error: there is no outside yet")
    #expect(s.execute("net listen 80 --on outside").first == "error: there is no outside yet")
    #expect(s.execute("ping 10.0.0.1 --from outside").first == "error: there is no outside yet")
  }

  @Test func aPublishedPortIsReachedFromTheOutsideOnceAllThreeAreThere() throws {
    let s = try session(Self.wired)
    let published = s.execute("net publish 8080 web:80")
    #expect(
      published.first
        == "the host side sends tcp port 8080 of its own addresses to web (10.0.0.2:80) now, as docker run -p 8080:80 does"
    )
    #expect(
      s.tree.value(at: StatePath(keys: "host", "net", "rules"))
        == .list([.string("prerouting: fib daddr type local tcp dport 8080 dnat to 10.0.0.2:80")]))
    #expect(s.execute("net rules").last == "  prerouting: fib daddr type local tcp dport 8080 dnat to 10.0.0.2:80")
    // 1. The host side does not forward: the rewritten SYN is dropped there.
    var out = s.execute("connect 203.0.113.2:8080 --from outside")
    #expect(out.first == "could not connect to 203.0.113.2:8080 from outside: the host side does not forward")
    #expect(out.contains("  fix      net forward on"))
    _ = s.execute("net forward on")
    // 2. It gets to web, where nothing listens: a reset.
    out = s.execute("connect 203.0.113.2:8080 --from outside")
    #expect(out.first == "203.0.113.2:8080 refused the connection from outside: nothing listens on port 80 in web")
    // 3. A port with no rule and no listener on the host side.
    out = s.execute("connect 203.0.113.2:8081 --from outside")
    #expect(out.contains { $0.contains("no rule publishes port 8081") })
    _ = s.execute("net listen 80")
    #expect(s.tree.value(at: StatePath(keys: "web", "net", "listening")) == .list([.string("tcp 0.0.0.0:80")]))
    out = s.execute("connect 203.0.113.2:8080 --from outside")
    #expect(out.first == "connected to 203.0.113.2:8080 from outside")
    #expect(out.contains("  path     outside:eth0 -> host:uplink -> host:br0 -> host:veth-web -> web:eth0"))
    #expect(
      out.contains { $0.hasPrefix("  dnat     the host side rewrote the destination 203.0.113.2:8080 to 10.0.0.2:80") })
    // The host side's own connection goes through lo, and never passes prerouting.
    out = s.execute("connect 203.0.113.2:8080 --from host")
    #expect(out.first == "could not connect to 203.0.113.2:8080 from host: lo is down")
    _ = s.execute("net up host:lo")
    out = s.execute("connect 203.0.113.2:8080 --from host")
    #expect(
      out.first == "203.0.113.2:8080 refused the connection from host: nothing listens on port 8080 in the host side")
  }

  @Test func aBoxReachesTheOutsidesServerOnlyWithNAT() throws {
    let s = try session(Self.wired + ["net forward on", "net listen 80 --on outside"])
    var out = s.execute("connect 203.0.113.1:80")
    #expect(out.first == "could not connect to 203.0.113.1:80 from web: no route back from the outside")
    _ = s.execute("net nat br0")
    out = s.execute("connect 203.0.113.1:80")
    #expect(out.first == "connected to 203.0.113.1:80 from web")
    #expect(out.contains { $0.hasPrefix("  nat      the host side rewrote the source 10.0.0.2 to 203.0.113.2") })
  }

  /// The listener is web's helper's: it closes when the helper leaves that network namespace,
  /// even while db keeps the namespace alive.
  @Test func aListenerGoesWhenItsHolderLeavesTheNamespace() throws {
    let s = try session(["box new web", "unshare net", "net listen 80", "box new db", "join net web", "use web"])
    #expect(s.tree.value(at: StatePath(keys: "db", "net", "listening")) == .list([.string("tcp 0.0.0.0:80")]))
    _ = s.execute("unshare net")
    #expect(s.tree.value(at: StatePath(keys: "db", "net", "listening")) == nil)
    #expect(s.tree.value(at: StatePath(keys: "web", "net", "listening")) == nil)
    #expect(
      s.execute("net listen 80").first
        == "web listens on tcp port 80 now, on any of its addresses, and answers each line with the address it came from"
    )
  }

  /// The responder's answer says whom it heard: web's own address through a published port (only
  /// the destination was rewritten), the host side's after the masquerade. UDP has its own ports
  /// and its own published rule; nothing bound is ICMP port unreachable, ECONNREFUSED.
  @Test func theAnswerNamesTheAddressTheFarEndSaw() throws {
    let s = try session(Self.wired + ["net forward on", "net nat br0", "net listen 80 --on outside"])
    var out = s.execute("connect 203.0.113.1:80")
    #expect(
      out.contains { $0.hasPrefix("  answer   \"hello from 203.0.113.2\": the responder in the outside") }, "\(out)")
    out = s.execute("connect 203.0.113.1:80 udp")
    #expect(
      out.first == "203.0.113.1:80 refused the udp datagram from web: nothing listens on udp port 80 in the outside")
    _ = s.execute("net listen 80 udp --on outside")
    #expect(
      s.tree.value(at: StatePath(keys: "outside", "net", "listening"))
        == .list([.string("tcp 0.0.0.0:80"), .string("udp 0.0.0.0:80")]))
    out = s.execute("connect 203.0.113.1:80 udp")
    #expect(out.first == "203.0.113.1:80 answered a udp datagram from web", "\(out)")
    #expect(out.contains { $0.hasPrefix("  answer   \"hello from 203.0.113.2\"") }, "\(out)")
    _ = s.execute("net publish 5353 web:53 udp")
    _ = s.execute("net listen 53 udp")
    out = s.execute("connect 203.0.113.2:5353 udp --from outside")
    #expect(out.contains { $0.hasPrefix("  answer   \"hello from 203.0.113.1\": the responder in web") }, "\(out)")
  }

  /// From the outside, a private address is unreachable, and no fix is offered: the internet
  /// routes no private subnet.
  @Test func theOutsideHasNoRouteToPrivateSubnetsAndNoFix() throws {
    let s = try session(Self.wired)
    let out = s.execute("ping 10.0.0.2 --from outside")
    #expect(out.first == "10.0.0.2 is not reachable from outside: no route to 10.0.0.0/24")
    #expect(!out.contains { $0.hasPrefix("  fix") }, "\(out)")
  }
}
