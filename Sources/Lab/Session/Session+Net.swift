import Kernel

/// `net veth|bridge|attach|addr|up|down|route`, `links` and `ping`: networking by hand, the way
/// Docker wires a container to docker0 (network_namespaces(7), veth(4), ip-link(8)). The host
/// side is boxwalk's own network namespace, standing in for the host; the machine's network is
/// never read or changed (README.md, "Never harm the host").
extension Session {
  /// `net SUB ...`: one function per subcommand that checks its words and the state first, so a
  /// mistake is refused before any system call, then runs the one step it stands for.
  func netCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard let sub = args.first else {
      throw usage(
        "net",
        "net needs a subcommand: veth, bridge, attach, addr, up, down, route, outside, forward, nat, publish, listen or rules"
      )
    }
    let rest = Array(args.dropFirst())
    switch sub {
    case "veth":
      try netVethCommand(rest, line: line, into: &out)
    case "bridge":
      try arity("net bridge", rest, 1)
      try checkInterfaceName(rest[0])
      try refuseExistingLink(NetLinkRef(.host, rest[0]))
      try runStep(.net(.netBridge(name: rest[0])), input: line, into: &out)
    case "attach":
      try netAttachCommand(rest, line: line, into: &out)
    case "addr":
      try arity("net addr", rest, 2)
      let link = try linkArgument(rest[0], "net addr")
      let cidr = try parseCIDR(rest[1])
      if netLink(link)?.addrs.contains(cidr) == true {
        throw LabError("\(link) already has \(cidr)", [LabError.unchanged])
      }
      try runStep(.net(.netAddr(link: link, cidr: cidr)), input: line, into: &out)
    case "up", "down":
      try arity("net \(sub)", rest, 1)
      let link = try linkArgument(rest[0], "net \(sub)")
      try runStep(.net(.netState(link: link, up: sub == "up")), input: line, into: &out)
    case "route":
      try netRouteCommand(rest, line: line, into: &out)
    case "outside":
      try arity("net outside", rest, 0)
      if NetworkView(facts).namespace(named: OutsideNet.name) != nil {
        throw LabError("the outside is already there", [("see", "links"), LabError.unchanged])
      }
      try refuseExistingLink(NetLinkRef(.host, OutsideNet.hostLink))
      try runStep(.net(.netOutside), input: line, into: &out)
    case "nat":
      try netNATCommand(rest, line: line, into: &out)
    case "publish":
      try publishCommand(rest, line: line, into: &out)
    case "listen":
      try netListenCommand(rest, line: line, into: &out)
    case "rules":
      try netRulesCommand(rest, into: &out)
    case "forward":
      try netForwardCommand(rest, line: line, into: &out)
    default:
      throw unknown(
        "net \(sub)",
        candidates: [
          "veth", "bridge", "attach", "addr", "up", "down", "route", "outside", "forward", "nat", "publish", "listen",
          "rules",
        ].map { "net " + $0 })
    }
  }

  /// `net veth [HOSTIF BOXIF]`: a veth(4) pair, one end on the host side and its peer moved into
  /// the current box's network namespace. Both names are checked first: an interface name has
  /// at most 15 bytes (IFNAMSIZ with its NUL, netdevice(7)) and is unique in its namespace.
  func netVethCommand(_ rest: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("net veth")
    guard rest.count == 0 || rest.count == 2 else {
      throw usage("net veth", "net veth takes no names (veth-\(box) and eth0) or both: net veth HOSTIF BOXIF")
    }
    try refuseIfSharingMachineNetwork(box, "net veth")
    let defaultHost = "veth-" + box
    if rest.isEmpty, defaultHost.utf8.count > Names.maxInterfaceName {
      throw LabError(
        "the default name of the host end, \(defaultHost), has \(defaultHost.utf8.count) bytes; an interface name has at most \(Names.maxInterfaceName)",
        [
          ("rule", "IFNAMSIZ is 16 bytes with the terminating NUL (netdevice(7))"),
          ("fix", "name both ends: net veth HOSTIF BOXIF"), LabError.unchanged,
        ])
    }
    let hostLink = rest.first ?? defaultHost
    let boxLink = rest.count == 2 ? rest[1] : "eth0"
    try checkInterfaceName(hostLink)
    try checkInterfaceName(boxLink)
    try refuseExistingLink(NetLinkRef(.host, hostLink))
    try refuseExistingLink(NetLinkRef(.box(box), boxLink))
    try runStep(.net(.netVeth(box: box, hostLink: hostLink, boxLink: boxLink)), input: line, into: &out)
  }

  /// `net attach BRIDGE`: the host end of the current box's one veth becomes a port of a bridge
  /// on the host side (`ip link set IF master BRIDGE`, ip-link(8)), as Docker puts a container's
  /// veth on docker0. Refused when the link is not a bridge, when the box has no veth or more
  /// than one, and when that end is already a port of the bridge.
  func netAttachCommand(_ rest: [String], line: String, into out: inout Output) throws {
    try arity("net attach", rest, 1)
    let box = try currentBox("net attach")
    try refuseIfSharingMachineNetwork(box, "net attach")
    let bridge = try existingLink(rest[0].hasPrefix("host:") ? rest[0] : "host:" + rest[0], box: box)
    guard netLink(bridge)?.kind == NetLinkFacts.bridge else {
      throw LabError(
        "\(bridge) is a \(netLink(bridge)?.kind ?? "link"), not a bridge",
        [
          ("bridges", hostBridges().isEmpty ? "none yet (net bridge NAME)" : hostBridges().joined(separator: " ")),
          LabError.unchanged,
        ])
    }
    let hostEnds = hostEndsOfVeths(box)
    guard hostEnds.count == 1, let hostEnd = hostEnds.first else {
      throw LabError(
        hostEnds.isEmpty
          ? "\(box) has no veth to the host side, so there is nothing to attach"
          : "\(box) has \(hostEnds.count) veths to the host side: \(hostEnds.joined(separator: " "))",
        [
          ("rule", "net attach puts the host end of the box's one veth on the bridge"),
          ("fix", hostEnds.isEmpty ? "net veth first" : "a box with one veth"), LabError.unchanged,
        ])
    }
    if netLink(NetLinkRef(.host, hostEnd))?.master == bridge.name {
      throw LabError("host:\(hostEnd) is already a port of \(bridge.name)", [LabError.unchanged])
    }
    try runStep(.net(.netAttach(link: hostEnd, bridge: bridge.name)), input: line, into: &out)
  }

  /// `net route default via ADDR`: the current box's default route (`ip route add default via`,
  /// ip-route(8)). The gateway must be a neighbour on an up link, as the kernel refuses anything
  /// else with ENETUNREACH.
  func netRouteCommand(_ rest: [String], line: String, into out: inout Output) throws {
    guard rest.count == 3, rest[0] == "default", rest[1] == "via" else {
      throw usage("net route", "net route takes: default via ADDR")
    }
    let box = try currentBox("net route")
    try refuseIfSharingMachineNetwork(box, "net route")
    let gateway = try parseAddress(rest[2], what: "gateway")
    try checkGateway(gateway, box: box)
    try runStep(.net(.netRoute(box: box, gateway: gateway)), input: line, into: &out)
  }

  /// `net nat BRIDGE`: a masquerade rule in the host side's nftables (nft(8)) for the subnet of
  /// a bridge, what Docker does for docker0: packets from that subnet leaving by another link
  /// take the address of that link. The bridge must have an address, which names the subnet.
  func netNATCommand(_ rest: [String], line: String, into out: inout Output) throws {
    try arity("net nat", rest, 1)
    let name = rest[0].hasPrefix("host:") ? String(rest[0].dropFirst("host:".count)) : rest[0]
    try checkInterfaceName(name)
    guard let bridge = netLink(NetLinkRef(.host, name)), bridge.kind == NetLinkFacts.bridge else {
      throw LabError(
        "no bridge named \(quotedForTerminal(name)) on the host side",
        [
          ("bridges", hostBridges().isEmpty ? "none yet (net bridge NAME)" : hostBridges().joined(separator: " ")),
          ("rule", "net nat masquerades the subnet of a bridge, as Docker does for docker0"), LabError.unchanged,
        ])
    }
    guard let cidr = bridge.addrs.first else {
      throw LabError(
        "\(name) has no address, so it has no subnet to masquerade",
        [("fix", "net addr host:\(name) ADDR/PREFIX first"), LabError.unchanged])
    }
    let rule = NetRule.masquerade(cidr.subnet, leavingBy: name)
    if hostRules().contains(rule) {
      throw LabError(
        "the host side already masquerades \(cidr.subnet) (\(rule.text))", [("see", "net rules"), LabError.unchanged])
    }
    try runStep(.net(.netNAT(bridge: name, subnet: cidr.subnet)), input: line, into: &out)
  }

  /// `net listen PORT [tcp|udp] [--on SIDE]`: a socket bound to PORT in that side's network
  /// namespace (the current box's, or the host side's), which answers `connect`. One socket per
  /// port and protocol: a second bind(2) fails with EADDRINUSE, so it is refused first.
  func netListenCommand(_ rest: [String], line: String, into out: inout Output) throws {
    let (words, proto) = try splitProtocol(rest, "net listen")
    guard words.count == 1 || (words.count == 3 && words[1] == "--on") else {
      throw usage(
        "net listen", "net listen takes PORT, then optionally tcp or udp, then optionally --on host|outside|BOX")
    }
    let port = try parsePort(words[0], what: "port")
    let side = words.count == 3 ? try parseSide(words[2], "net listen") : current.map { .box($0) } ?? .host
    try refuseMachineNetworkSide(side)
    if let ns = NetworkView(facts).namespace(of: side.name),
      ns.net.listening.contains(where: { $0.port == port && $0.proto == proto })
    {
      throw LabError(
        "\(PingText.prose(ns.name)) already listens on \(proto) port \(port)",
        [
          ("rule", "one socket per port and address: bind(2) fails with EADDRINUSE (tcp and udp ports are apart)"),
          LabError.unchanged,
        ])
    }
    try runStep(.net(.netListen(side: side, port: port, proto: proto)), input: line, into: &out)
  }

  /// `net rules`: the nftables rules boxwalk made in the host side's network namespace (what
  /// `nft list table ip boxwalk` would show there, nft(8)). A read: no step runs.
  func netRulesCommand(_ rest: [String], into out: inout Output) throws {
    try arity("net rules", rest, 0)
    try refresh()
    let rules = hostRules()
    out.lines +=
      rules.isEmpty
      ? ["the host side has no nftables rules of boxwalk's (net nat BRIDGE or net publish makes one)"]
      : ["  table ip \(NetRule.table) in the host side's network namespace:"] + rules.map { "  " + $0.description }
  }

  /// `net forward on|off`: IPv4 forwarding in the host side's network namespace
  /// (/proc/sys/net/ipv4/ip_forward, which is per network namespace), without which the host
  /// side passes no packet from one link to another. Setting what is already set is refused.
  func netForwardCommand(_ rest: [String], line: String, into out: inout Output) throws {
    guard rest.count == 1, rest[0] == "on" || rest[0] == "off" else {
      throw usage("net forward", "net forward takes on or off")
    }
    let on = rest[0] == "on"
    if NetworkView(facts).namespace(of: NetSide.host.name)?.net.forward == on {
      throw LabError(
        "the host side already \(on ? "forwards" : "does not forward")",
        [("now", "host.net.forward = \(on ? 1 : 0)"), LabError.unchanged])
    }
    try runStep(.net(.netForward(on: on)), input: line, into: &out)
  }

  /// `ping ADDR [--from host|BOX]`: from the current box, or the host side when there is none.
  func pingCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard args.count == 1 || (args.count == 3 && args[1] == "--from") else {
      throw usage("ping", args.isEmpty ? "ping needs an address" : "ping takes ADDR, then optionally --from host|BOX")
    }
    let address = try parseAddress(args[0], what: "address")
    let from = args.count == 3 ? try parseSide(args[2], "ping") : current.map { .box($0) } ?? .host
    try refuseMachineNetworkSide(from)
    try runStep(.net(.ping(from: from, address: address)), input: line, into: &out)
    lastPing = (from, address)
  }

  /// `connect ADDR:PORT [--from host|outside|BOX]`: one TCP connect from that side's network
  /// namespace (the current box's, or the host side's when there is none).
  func connectCommand(_ all: [String], line: String, into out: inout Output) throws {
    let (args, proto) = try splitProtocol(all, "connect")
    guard args.count == 1 || (args.count == 3 && args[1] == "--from") else {
      throw usage(
        "connect",
        args.isEmpty
          ? "connect needs ADDR:PORT"
          : "connect takes ADDR:PORT, then optionally tcp or udp, then optionally --from host|outside|BOX")
    }
    let parts = args[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2 else {
      throw LabError(
        "\(quotedForTerminal(args[0])) is not ADDR:PORT",
        [("example", "connect 203.0.113.2:8080"), LabError.unchanged])
    }
    let address = try parseAddress(parts[0], what: "address")
    let port = try parsePort(parts[1], what: "port")
    let from = args.count == 3 ? try parseSide(args[2], "connect") : current.map { .box($0) } ?? .host
    try refuseMachineNetworkSide(from)
    try runStep(.net(.connect(from: from, address: address, port: port, proto: proto)), input: line, into: &out)
  }

  /// `tcp` or `udp` right after the first word (PORT or ADDR:PORT), as in `net listen 53 udp`;
  /// tcp when it is not there. The other words, and the protocol.
  func splitProtocol(_ args: [String], _ command: String) throws -> ([String], String) {
    guard args.count >= 2, !args[1].hasPrefix("--") else { return (args, "tcp") }
    let word = args[1]
    guard word == "tcp" || word == "udp" else {
      throw LabError(
        "\(quotedForTerminal(word)) is not a protocol \(command) knows",
        [("rule", "tcp or udp (tcp when left out)"), ("example", "\(command) \(args[0]) udp"), LabError.unchanged])
    }
    return ([args[0]] + args.dropFirst(2), word)
  }

  /// `net publish HOSTPORT BOX:PORT [tcp|udp]`: what `docker run -p HOSTPORT:PORT` does, a
  /// destination NAT rule on the host side towards the box's address on its bridge.
  func publishCommand(_ rest: [String], line: String, into out: inout Output) throws {
    guard rest.count == 2 || rest.count == 3 else {
      throw usage("net publish", "net publish takes HOSTPORT BOX:PORT, then optionally tcp or udp")
    }
    let hostPort = try parsePort(rest[0], what: "host port")
    let target = rest[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard target.count == 2 else {
      throw LabError(
        "\(quotedForTerminal(rest[1])) is not BOX:PORT",
        [("example", "net publish 8080 web:80"), LabError.unchanged])
    }
    let proto = rest.count == 3 ? rest[2] : "tcp"
    guard proto == "tcp" || proto == "udp" else {
      throw LabError(
        "\(quotedForTerminal(proto)) is not a protocol net publish knows",
        [("rule", "tcp or udp, as docker run -p 8080:80/udp"), LabError.unchanged])
    }
    let box = try existingBox(target[0])
    let port = try parsePort(target[1], what: "port")
    try refuseIfSharingMachineNetwork(box, "net publish")
    guard let address = addressOnABridge(box) else {
      throw LabError(
        "\(box) has no address on a bridge of the host side, so nothing could reach it there",
        [
          ("rule", "a published port sends connections to the box's address on its bridge, as Docker does for docker0"),
          ("fix", "net veth, net attach BRIDGE and net addr eth0 ADDR/PREFIX in \(box) first"), LabError.unchanged,
        ])
    }
    for rule in hostRules() {
      guard case .dnat(proto, hostPort, let to, let toPort) = rule.meaning else { continue }
      throw LabError(
        "\(proto) port \(hostPort) of the host side is already published, to \(to):\(toPort)",
        [("rule", "one published port, one destination (\(rule.text))"), ("see", "net rules"), LabError.unchanged])
    }
    try runStep(
      .net(.netPublish(hostPort: hostPort, proto: proto, box: box, address: address, port: port)), input: line,
      into: &out)
  }

  /// The box's first address on a link whose host end is a port of a host-side bridge.
  func addressOnABridge(_ box: String) -> IPv4Address? {
    let view = NetworkView(facts)
    for link in view.namespace(of: box)?.net.links ?? [] {
      guard let peer = link.peer, peer.owner == NetSide.host.name,
        view.namespace(of: NetSide.host.name)?.net.link(peer.link)?.master != nil,
        let address = link.addrs.first?.address
      else { continue }
      return address
    }
    return nil
  }

  /// A port number: 1-65535, decimal, no sign and no leading zero.
  func parsePort(_ text: String, what: String) throws -> Int {
    guard let n = Int(text), n >= 1, n <= 65535, String(n) == text else {
      throw LabError(
        "\(quotedForTerminal(text)) is not a \(what)",
        [("rule", "a TCP or UDP port is a number from 1 to 65535"), LabError.unchanged])
    }
    return n
  }

  /// `host`, `outside` (once it exists) or a box's name.
  func parseSide(_ text: String, _ command: String) throws -> NetSide {
    if text == NetSide.host.name { return .host }
    if text == OutsideNet.name {
      guard NetworkView(facts).namespace(named: OutsideNet.name) != nil else {
        throw LabError("there is no outside yet", [("fix", "net outside"), LabError.unchanged])
      }
      return .outside
    }
    return .box(try existingBox(text))
  }

  /// A box still in the machine's network namespace: boxwalk never sends packets or listens there.
  func refuseMachineNetworkSide(_ side: NetSide) throws {
    guard case .box(let box) = side, shares(box, .net) else { return }
    throw LabError(
      "refused: \(box) shares the machine's network namespace, and boxwalk never sends packets there",
      [
        ("rule", "boxwalk's traffic stays in network namespaces it made"), ("fix", "unshare net"),
        LabError.unchanged,
      ])
  }

  /// `links`: the current box's links beside the host side's, and both routing tables.
  func linksCommand(_ args: [String], into out: inout Output) throws {
    try arity("links", args, 0)
    try refresh()
    var sides: [String] = []
    var notes: [String] = []
    if let box = current {
      if shares(box, .net) {
        notes.append(
          "\(box) shares the machine's network namespace: boxwalk does not show or change its links (unshare net gives \(box) its own)"
        )
      } else {
        sides.append(box)
      }
    }
    sides.append(NetSide.host.name)
    if facts.outside != nil { sides.append(OutsideNet.name) }
    var rows = [["SIDE", "LINK", "KIND", "STATE", "MASTER", "PEER", "ADDRS"]]
    var routes: [String] = []
    for side in sides {
      let label =
        side == NetSide.host.name || side == OutsideNet.name
        ? side : "\(side) (\(tree.value(at: StatePath(keys: side, "ns", "net"))?.stringValue ?? "?"))"
      guard case .map(let links)? = tree.value(at: StatePath(keys: side, "net", "links")) else { continue }
      for (name, link) in links.entries {
        let addrs =
          (link["addrs"].flatMap { v -> [String]? in
            guard case .list(let items) = v.unwrapped else { return nil }
            return items.compactMap(\.stringValue)
          }) ?? []
        rows.append([
          label, name, link["kind"]?.stringValue ?? "?", link["state"]?.stringValue ?? "?",
          link["master"]?.stringValue ?? "-", link["peer"]?.stringValue ?? "-",
          addrs.isEmpty ? "-" : addrs.joined(separator: " "),
        ])
      }
      let table = stringList(StatePath(keys: side, "net", "routes"))
      routes.append("routes of \(side): " + (table.isEmpty ? "none" : table.joined(separator: "; ")))
    }
    out.lines += DiffTable.table(rows) + routes.map { "  " + $0 } + notes
  }

  // MARK: Checks

  /// Net commands on a box that still shares the machine's network namespace would change the
  /// machine's network: refused before any system call (runc's validator does the same).
  func refuseIfSharingMachineNetwork(_ box: String, _ command: String) throws {
    guard shares(box, .net) else { return }
    let label = tree.value(at: StatePath(keys: box, "ns", "net"))?.stringValue ?? "net:0"
    throw LabError(
      "refused: \(box) shares the machine's network namespace, so \(command) would change the machine's network",
      [
        (
          "rule",
          "boxwalk never touches the machine's links, addresses or routes; \(box) is in \(label), the machine's"
        ),
        ("fix", "unshare net"), LabError.unchanged,
      ])
  }

  /// IFNAMSIZ and the name rule (docs/architecture.md, "Errors"), checked before any system call.
  func checkInterfaceName(_ name: String) throws {
    guard let problem = Names.checkInterfaceName(name) else { return }
    let rule: String
    switch problem {
    case .tooLong(let bytes, let limit):
      rule = "at most \(limit) bytes (IFNAMSIZ is 16 with the terminating NUL, netdevice(7)); this one has \(bytes)"
    case .empty: rule = "a name cannot be empty"
    default: rule = "names match [A-Za-z0-9][A-Za-z0-9_.-]*"
    }
    var details = [("name", quotedForTerminal(name)), ("rule", rule)]
    if case .badCharacter(_, let column) = problem { details.insert(("where", "character \(column)"), at: 1) }
    details.append(LabError.unchanged)
    throw LabError("\(quotedForTerminal(name)) is not a valid interface name", details)
  }

  /// IF or host:IF, an existing link of the current box or of the host side.
  func linkArgument(_ text: String, _ command: String) throws -> NetLinkRef {
    if text.hasPrefix("host:") { return try existingLink(text, box: current) }
    let box = try currentBox(command)
    try refuseIfSharingMachineNetwork(box, command)
    return try existingLink(text, box: box)
  }

  func existingLink(_ text: String, box: String?) throws -> NetLinkRef {
    let onHost = text.hasPrefix("host:")
    let name = onHost ? String(text.dropFirst("host:".count)) : text
    try checkInterfaceName(name)
    let side: NetSide = onHost ? .host : .box(box ?? "")
    let ref = NetLinkRef(side, name)
    guard netLink(ref) == nil else { return ref }
    let known = linkNames(side)
    let prefix = onHost ? "host:" : ""
    var details: [(String, String)] = [
      ("links", known.isEmpty ? "none" : known.map { prefix + $0 }.joined(separator: " "))
    ]
    if let near = Nearest.match(name, in: known) { details.append(("did you mean", prefix + near)) }
    if !onHost, linkNames(.host).contains(name) { details.append(("note", "host:\(name) is on the host side")) }
    details.append(LabError.unchanged)
    throw LabError(
      "no link named \(quotedForTerminal(name)) \(onHost ? "on the host side" : "in \(side.name)")",
      details)
  }

  func refuseExistingLink(_ ref: NetLinkRef) throws {
    guard netLink(ref) != nil else { return }
    throw LabError(
      "\(ref.side == .host ? "the host side" : ref.side.name) already has a link named \(ref.name)",
      [("fix", "pick another name"), LabError.unchanged])
  }

  /// "10.0.0.2/24": an IPv4 address with a prefix length, in a private range, not the subnet's
  /// network or broadcast address.
  func parseCIDR(_ text: String) throws -> IPv4CIDR {
    guard let cidr = IPv4CIDR(text) else {
      throw LabError(
        "\(quotedForTerminal(text)) is not an IPv4 address with a prefix length",
        [
          ("rule", "four numbers 0-255 with dots, then / and the prefix length 0-32 (the subnet's size)"),
          ("example", "10.0.0.2/24"), LabError.unchanged,
        ])
    }
    try checkLabAddress(cidr.address, text: text)
    if cidr.prefixLength < 31, cidr.address == cidr.network || cidr.address == cidr.broadcast {
      let which = cidr.address == cidr.network ? "network address" : "broadcast address"
      throw LabError(
        "\(cidr.address) is the \(which) of \(cidr.subnet), not an address for a link",
        [
          ("rule", "in a subnet the first address names the subnet and the last is for broadcast"),
          ("example", "\(IPv4Address(cidr.network.value + 1))/\(cidr.prefixLength)"), LabError.unchanged,
        ])
    }
    return cidr
  }

  func parseAddress(_ text: String, what: String) throws -> IPv4Address {
    guard let address = IPv4Address(text) else {
      throw LabError(
        "\(quotedForTerminal(text)) is not an IPv4 address",
        [("rule", "four numbers 0-255 with dots, no leading zeros"), ("example", "10.0.0.1"), LabError.unchanged])
    }
    if what == "gateway" { try checkLabAddress(address, text: text) }
    return address
  }

  func checkLabAddress(_ address: IPv4Address, text: String) throws {
    guard !PrivateRanges.contains(address) else { return }
    throw LabError(
      "\(address) is not a private address",
      [
        ("rule", "lab addresses come from the private ranges of RFC 1918: \(PrivateRanges.text)"),
        ("example", "10.0.0.2/24"), LabError.unchanged,
      ])
  }

  /// A gateway is a neighbour: on a subnet one of the box's links is on, and up (the kernel
  /// refuses anything else with ENETUNREACH), and not one of the box's own addresses.
  func checkGateway(_ gateway: IPv4Address, box: String) throws {
    guard let ns = NetworkView(facts).namespace(of: box) else { return }
    if ns.net.links.contains(where: { $0.addrs.contains { $0.address == gateway } }) {
      throw LabError(
        "\(gateway) is an address of \(box) itself",
        [("rule", "a gateway is another machine on the box's link, which passes packets on"), LabError.unchanged])
    }
    if ns.net.routes.contains(where: { $0.gateway == nil && $0.destination.contains(gateway) }) { return }
    if let down = ns.net.links.first(where: { !$0.up && $0.addrs.contains { $0.contains(gateway) } }) {
      throw LabError(
        "\(gateway) is on \(box)'s \(down.name), which is down: a link that is down has no routes",
        [("fix", "net up \(down.name) first"), LabError.unchanged])
    }
    let subnets = ns.net.routes.filter { $0.gateway == nil }.map(\.destination.description)
    throw LabError(
      "\(gateway) is not on any subnet \(box) has a route for",
      [
        ("subnets", subnets.isEmpty ? "none yet (net addr, then net up)" : subnets.joined(separator: " ")),
        ("rule", "a gateway must be reachable on one of the box's links (the kernel says ENETUNREACH)"),
        LabError.unchanged,
      ])
  }

  // MARK: Reading the tree

  func netLink(_ ref: NetLinkRef) -> NetLinkFacts? {
    guard let ns = NetworkView(facts).namespace(of: ref.side.name) else { return nil }
    return ns.net.link(ref.name)
  }

  func linkNames(_ side: NetSide) -> [String] {
    NetworkView(facts).namespace(of: side.name)?.net.links.map(\.name) ?? []
  }

  func hostRules() -> [NetRule] { NetworkView(facts).namespace(of: NetSide.host.name)?.net.rules ?? [] }

  func hostBridges() -> [String] {
    NetworkView(facts).namespace(of: NetSide.host.name)?.net.links.filter { $0.kind == NetLinkFacts.bridge }.map(\.name)
      ?? []
  }

  /// The host-side ends of the box's veths.
  func hostEndsOfVeths(_ box: String) -> [String] {
    (NetworkView(facts).namespace(of: box)?.net.links ?? []).compactMap { link in
      guard let peer = link.peer, peer.owner == NetSide.host.name else { return nil }
      return peer.link
    }
  }
}

extension Session {
  /// The verdict of `ping`: boxwalk's model of the network says reachable or not and why; the
  /// kernel's answer (a reply came or not) must agree. If they ever differ, the kernel's answer is
  /// printed, and the disagreement is flagged: it is a bug in boxwalk's model.
  func pingLines(_ side: NetSide, _ address: IPv4Address, _ result: StepResult) -> [String] {
    let view = NetworkView(facts)
    let verdict = PingModel.ping(view, from: side.name, to: address)
    let text = PingText(current: current, view: view)
    let kernelSays = result.ping?.reachable ?? verdict.reachable
    if kernelSays == verdict.reachable {
      return [text.headline(address, from: side.name, verdict)]
        + text.details(address, verdict).map { "  " + $0.0.padding(7) + "  " + $0.1 }
    }
    let expected = verdict.reachable ? "reachable" : "not reachable (\(text.short(verdictFailure(verdict))))"
    return [
      "\(address) is \(kernelSays ? "" : "not ")reachable from \(side.name): the kernel's answer",
      "  note     boxwalk's model expected \(expected); the kernel and the model disagree, which is a bug in boxwalk (please report it with this session)",
    ]
  }

  /// The verdict of `connect`, checked against the kernel's answer like ping's: how it ended, and
  /// the line that came back (the far end's responder says whom it heard, so a wrong guess about
  /// NAT shows here too).
  func connectLines(_ side: NetSide, _ address: IPv4Address, _ port: Int, _ proto: String, _ result: StepResult)
    -> [String]
  {
    let view = NetworkView(facts)
    let verdict = ConnectModel.connect(view, from: side.name, to: address, port: port, proto: proto)
    let expected = verdict.outcome(from: side.name, view, proto: proto)
    let expectedAnswer = ConnectModel.answer(view, from: side.name, to: address, port: port, proto: proto)
    let kernelSays = result.connect ?? expected
    let kernelAnswer = result.connect == nil ? expectedAnswer : result.answer
    let text = ConnectText(ping: PingText(current: current, view: view), proto: proto)
    if kernelSays == expected && kernelAnswer == expectedAnswer {
      return text.lines(address, port, from: side.name, verdict, answer: kernelAnswer)
    }
    let said =
      ConnectText.outcome(kernelSays) + (kernelAnswer.map { ", answer \(quotedForTerminal($0))" } ?? "")
    let model = ConnectText.outcome(expected) + (expectedAnswer.map { ", answer \(JSON.quote($0))" } ?? "")
    return [
      "connect to \(address):\(port) (\(proto)) from \(side.name): \(said), the kernel's answer",
      "  note     boxwalk's model expected \(model); the kernel and the model disagree, which is a bug in boxwalk (please report it with this session)",
    ]
  }

  private func verdictFailure(_ verdict: PingVerdict) -> PingFailure {
    if case .unreachable(let failure) = verdict { return failure }
    return .notALabNamespace("?")
  }
}
