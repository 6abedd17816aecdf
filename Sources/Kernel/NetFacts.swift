/// What one network namespace holds, as rtnetlink(7) reports it: links, their IPv4 addresses, and
/// the routes of the main table. Both kernels report these; the state tree and the ping model are
/// built from them by pure code.
///
/// Only what boxwalk makes is shown: links of kind loopback, veth and bridge (some kernels add
/// fallback tunnel devices such as tunl0 or sit0 to every new namespace, which would make output
/// differ between hosts), IPv4 only (the kernel gives every link that comes up an IPv6 link-local
/// address by itself), and the main routing table (`ip route`; the local table is the kernel's
/// own bookkeeping of local addresses).
public struct NetFacts: Equatable, Sendable {
  /// In the kernel's order: by interface index, which each namespace hands out from 1 (lo).
  public var links: [NetLinkFacts]
  /// The main table, in the canonical order of `NetRouteFacts.sorted`.
  public var routes: [NetRouteFacts]
  /// net.ipv4.ip_forward of this namespace: whether it passes on packets addressed to others
  /// (proc_sys_net_ipv4(5)). Each network namespace has its own; boxwalk shows the host side's.
  public var forward = false
  /// The rules of boxwalk's nftables table, in the order nft lists them (host side only).
  public var rules: [NetRule] = []
  /// The TCP sockets in state LISTEN (listen(2)) in this namespace, as /proc/net/tcp lists them
  /// (proc_net_tcp(5)): the local address (0.0.0.0 for any) and port, in port order.
  public var listening: [NetListener] = []

  public init(links: [NetLinkFacts], routes: [NetRouteFacts]) {
    self.links = links
    self.routes = NetRouteFacts.sorted(routes)
  }

  /// A new network namespace (network_namespaces(7)): only the loopback link, down, with no
  /// address and no route.
  public static let fresh = NetFacts(links: [NetLinkFacts.freshLoopback], routes: [])

  public func link(_ name: String) -> NetLinkFacts? { links.first { $0.name == name } }

  /// The kinds boxwalk shows (see above).
  public static let shownKinds: Set<String> = [NetLinkFacts.loopback, NetLinkFacts.veth, NetLinkFacts.bridge]
}

/// One network device (netdevice(7)).
public struct NetLinkFacts: Equatable, Sendable {
  public static let loopback = "loopback"
  public static let veth = "veth"
  public static let bridge = "bridge"

  public var name: String
  /// loopback, veth or bridge (the IFLA_INFO_KIND of ip-link(8) `type`).
  public var kind: String
  /// Administratively up (IFF_UP, what `ip link set IF up` sets). The operational state (carrier)
  /// follows a moment later and is not shown: when it settles is a matter of timing.
  public var up: Bool
  /// The bridge this link is a port of (IFLA_MASTER), by name.
  public var master: String?
  /// For a veth: the other end, in whichever namespace it is.
  public var peer: NetEndpoint?
  /// IPv4 addresses, in the kernel's order.
  public var addrs: [IPv4CIDR]
  /// The interface index (volatile: it depends on what the namespace made before).
  public var index: Int
  /// The hardware address (volatile: random for veths and bridges).
  public var mac: String

  public init(
    name: String, kind: String, up: Bool, master: String? = nil, peer: NetEndpoint? = nil, addrs: [IPv4CIDR] = [],
    index: Int, mac: String
  ) {
    self.name = name
    self.kind = kind
    self.up = up
    self.master = master
    self.peer = peer
    self.addrs = addrs
    self.index = index
    self.mac = mac
  }

  public static let freshLoopback = NetLinkFacts(
    name: "lo", kind: loopback, up: false, index: 1, mac: "00:00:00:00:00:00")
}

/// A link named by the namespace it is in: `host:veth-web`, `web:eth0`. A namespace is named
/// `host` (boxwalk's host side) or after the first box in it.
public struct NetEndpoint: Hashable, Sendable, CustomStringConvertible {
  public var owner: String
  public var link: String
  public init(_ owner: String, _ link: String) {
    self.owner = owner
    self.link = link
  }
  public var description: String { "\(owner):\(link)" }
}

/// One route of the main table, written the way `ip route` prints it, without the parts that
/// vary (proto, scope, src, and the linkdown flag, which follows the carrier).
public struct NetRouteFacts: Equatable, Sendable, CustomStringConvertible {
  public var destination: IPv4CIDR
  public var gateway: IPv4Address?
  public var device: String

  public init(destination: IPv4CIDR, gateway: IPv4Address? = nil, device: String) {
    self.destination = destination.subnet
    self.gateway = gateway
    self.device = device
  }

  public var isDefault: Bool { destination.prefixLength == 0 }

  public var description: String {
    let dst = isDefault ? "default" : destination.description
    return dst + (gateway.map { " via \($0)" } ?? "") + " dev \(device)"
  }

  /// The order `ip route` lists them in for the tables boxwalk makes (the kernel walks its
  /// routing trie in address order): the default route first, then by destination. Routes to the
  /// same destination (two links with addresses on one subnet) keep the order they come in: the
  /// kernel's, which is the order they were made in (a connected route is appended after the
  /// others for its prefix, fib_magic in net/ipv4/fib_frontend.c), and the order a lookup tries
  /// them in: the first one wins.
  public static func sorted(_ routes: [NetRouteFacts]) -> [NetRouteFacts] {
    routes.enumerated().sorted {
      ($0.element.destination.network.value, $0.element.destination.prefixLength, $0.offset)
        < ($1.element.destination.network.value, $1.element.destination.prefixLength, $1.offset)
    }.map(\.element)
  }
}

/// A socket waiting for others on a port: a listening TCP socket, which a connection to
/// `address:port` (or any local address, when `address` is 0.0.0.0, INADDR_ANY) completes its
/// handshake with (tcp(7)), or a bound UDP socket, which receives the datagrams sent there
/// (udp(7)). `proto` is "tcp" or "udp": the two have separate port spaces.
public struct NetListener: Equatable, Hashable, Sendable, Comparable, CustomStringConvertible {
  public var address: IPv4Address
  public var port: Int
  public var proto: String
  public init(address: IPv4Address, port: Int, proto: String = "tcp") {
    self.address = address
    self.port = port
    self.proto = proto
  }
  public static let any = IPv4Address(0)
  public func accepts(_ destination: IPv4Address, _ port: Int, proto: String = "tcp") -> Bool {
    proto == self.proto && port == self.port && (address == Self.any || address == destination)
  }
  public static func < (a: NetListener, b: NetListener) -> Bool {
    (a.port, a.proto, a.address.value) < (b.port, b.proto, b.address.value)
  }
  /// `tcp 0.0.0.0:80` or `udp 0.0.0.0:53`, as the state tree shows it.
  public var description: String { "\(proto) \(address):\(port)" }
}
