/// One nftables rule of boxwalk's table in the host side (`table ip boxwalk`, nft(8)), as
/// `nft list table ip boxwalk` prints it, with what it means to the ping model. boxwalk makes
/// these rules in the host side's network namespace only; they die with it.
public struct NetRule: Equatable, Sendable, CustomStringConvertible {
  /// The chain: `postrouting` (source NAT, hook NF_INET_POST_ROUTING) or `prerouting`.
  public var chain: String
  /// The rule as nft prints it: `ip saddr 10.0.0.0/24 oifname != "br0" masquerade`.
  public var text: String

  public init(chain: String, text: String) {
    self.chain = chain
    self.text = text
  }

  /// The table every rule of boxwalk's is in.
  public static let table = "boxwalk"

  /// What Docker does for docker0 (`-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`): a packet from
  /// the bridge's subnet that leaves by any other link gets the address of that link as its
  /// source (masquerade: source NAT to whatever address the outgoing link has).
  public static func masquerade(_ subnet: IPv4CIDR, leavingBy bridge: String) -> NetRule {
    NetRule(chain: "postrouting", text: "ip saddr \(subnet.subnet) oifname != \"\(bridge)\" masquerade")
  }

  /// What `docker run -p HOSTPORT:PORT` does (Docker's DNAT rule in its DOCKER chain): a packet
  /// that arrives for one of the host side's own addresses (`fib daddr type local`, the ADDRTYPE
  /// match Docker uses) on `hostPort` gets `address:port` as its destination before routing
  /// (prerouting, hook NF_INET_PRE_ROUTING), so it is forwarded to the box. Connection tracking
  /// turns the reply's source back into the host side's address and port.
  public static func publish(_ hostPort: Int, _ proto: String, to address: IPv4Address, port: Int) -> NetRule {
    NetRule(chain: "prerouting", text: "fib daddr type local \(proto) dport \(hostPort) dnat to \(address):\(port)")
  }

  /// The rule's meaning, read back from its text (the real kernel's rules come back as nft's text).
  public enum Meaning: Equatable, Sendable {
    case masquerade(subnet: IPv4CIDR, exceptOut: String)
    /// Destination NAT of a published port: `proto` to `port` of a local address goes to
    /// `address:toPort` instead.
    case dnat(proto: String, port: Int, address: IPv4Address, toPort: Int)
    /// Anything boxwalk did not make: the model ignores it.
    case other
  }

  public var meaning: Meaning {
    let words = text.split(separator: " ").map(String.init)
    if chain == "prerouting", words.count == 10, words[0...3] == ["fib", "daddr", "type", "local"],
      words[4] == "tcp" || words[4] == "udp", words[5] == "dport", let port = Int(words[6]), words[7] == "dnat",
      words[8] == "to"
    {
      let target = words[9].split(separator: ":").map(String.init)
      guard target.count == 2, let address = IPv4Address(target[0]), let toPort = Int(target[1]) else { return .other }
      return .dnat(proto: words[4], port: port, address: address, toPort: toPort)
    }
    guard chain == "postrouting", words.count == 7, words[0] == "ip", words[1] == "saddr", words[3] == "oifname",
      words[4] == "!=", words[6] == "masquerade", let subnet = IPv4CIDR(words[2]), let name = Self.unquoted(words[5])
    else { return .other }
    return .masquerade(subnet: subnet, exceptOut: name)
  }

  static func unquoted(_ s: String) -> String? {
    guard s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") else { return nil }
    return String(s.dropFirst().dropLast())
  }

  /// `postrouting: ip saddr ...`, as `net rules` and the state tree show it.
  public var description: String { "\(chain): \(text)" }
}
