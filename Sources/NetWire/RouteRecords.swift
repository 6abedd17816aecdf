/// What the kernel's answers to the dumps say, one record per link, address, route or
/// namespace id, with only the fields boxwalk shows. boxwalk-helper parses the dumps into these
/// and sends them to boxwalk as text lines (`DumpText`): a dump is too large for one helper
/// message, its records are not.

/// One RTM_NEWLINK message of a link dump.
public struct LinkRecord: Equatable, Sendable {
  public var index: Int32
  public var name: String
  /// IFLA_INFO_KIND (veth, bridge, ...), "loopback" for ARPHRD_LOOPBACK, "" when neither.
  public var kind: String
  public var flags: UInt32
  /// IFLA_MASTER: the index of the bridge this link is a port of.
  public var master: Int32?
  /// IFLA_LINK: for a veth, the peer's index (in the peer's namespace).
  public var link: Int32?
  /// IFLA_LINK_NETNSID: the id this namespace gives the peer's namespace; absent when the peer is
  /// in the same namespace, -1 when the kernel has none to give (the peer's namespace is dying).
  public var linkNamespaceID: Int32?
  /// IFLA_ADDRESS, as aa:bb:cc:dd:ee:ff.
  public var mac: String

  public init(
    index: Int32, name: String, kind: String, flags: UInt32, master: Int32? = nil, link: Int32? = nil,
    linkNamespaceID: Int32? = nil, mac: String
  ) {
    self.index = index
    self.name = name
    self.kind = kind
    self.flags = flags
    self.master = master
    self.link = link
    self.linkNamespaceID = linkNamespaceID
    self.mac = mac
  }

  public var isUp: Bool { flags & Netlink.IFF_UP != 0 }

  /// Reads an RTM_NEWLINK body: ifinfomsg (16 bytes), then attributes.
  public init?(_ message: NetlinkMessage) {
    guard message.type == Netlink.RTM_NEWLINK, message.body.count >= 16 else { return nil }
    let b = message.body
    let type = HostOrder.u16(b, 2)
    index = Int32(bitPattern: HostOrder.u32(b, 4))
    flags = HostOrder.u32(b, 8)
    name = ""
    kind = type == Netlink.ARPHRD_LOOPBACK ? "loopback" : ""
    mac = ""
    for (t, payload) in Attribute.parse(b, from: 16) {
      switch t {
      case Netlink.IFLA_IFNAME: name = Attribute.text(payload)
      case Netlink.IFLA_ADDRESS: mac = payload.map { Self.hex($0) }.joined(separator: ":")
      case Netlink.IFLA_MASTER where payload.count == 4: master = Int32(bitPattern: HostOrder.u32(payload, 0))
      case Netlink.IFLA_LINK where payload.count == 4: link = Int32(bitPattern: HostOrder.u32(payload, 0))
      case Netlink.IFLA_LINK_NETNSID where payload.count == 4:
        linkNamespaceID = Int32(bitPattern: HostOrder.u32(payload, 0))
      case Netlink.IFLA_LINKINFO:
        for (inner, value) in Attribute.parse(payload) where inner == Netlink.IFLA_INFO_KIND {
          kind = Attribute.text(value)
        }
      default: continue
      }
    }
  }

  static func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
  }
}

/// One IPv4 RTM_NEWADDR message of an address dump.
public struct AddressRecord: Equatable, Sendable {
  public var index: Int32
  public var address: [UInt8]
  public var prefixLength: UInt8

  public init(index: Int32, address: [UInt8], prefixLength: UInt8) {
    self.index = index
    self.address = address
    self.prefixLength = prefixLength
  }

  /// Reads an RTM_NEWADDR body: ifaddrmsg (8 bytes), then attributes. IPv4 only.
  public init?(_ message: NetlinkMessage) {
    let b = message.body
    guard message.type == Netlink.RTM_NEWADDR, b.count >= 8, b[0] == Netlink.AF_INET else { return nil }
    prefixLength = b[1]
    index = Int32(bitPattern: HostOrder.u32(b, 4))
    var local: [UInt8]?
    var address: [UInt8]?
    for (t, payload) in Attribute.parse(b, from: 8) where payload.count == 4 {
      if t == Netlink.IFA_LOCAL { local = payload }
      if t == Netlink.IFA_ADDRESS { address = payload }
    }
    guard let found = local ?? address else { return nil }
    self.address = found
  }
}

/// One IPv4 unicast route of the main table.
public struct RouteRecord: Equatable, Sendable {
  public var destination: [UInt8]
  public var prefixLength: UInt8
  public var gateway: [UInt8]?
  public var outputIndex: Int32

  public init(destination: [UInt8], prefixLength: UInt8, gateway: [UInt8]? = nil, outputIndex: Int32) {
    self.destination = destination
    self.prefixLength = prefixLength
    self.gateway = gateway
    self.outputIndex = outputIndex
  }

  /// Reads an RTM_NEWROUTE body: rtmsg (12 bytes), then attributes; nil for anything but an IPv4
  /// unicast route of the main table (RTA_TABLE, when present, overrides the 8-bit rtm_table).
  public init?(_ message: NetlinkMessage) {
    let b = message.body
    guard message.type == Netlink.RTM_NEWROUTE, b.count >= 12, b[0] == Netlink.AF_INET, b[7] == Netlink.RTN_UNICAST
    else { return nil }
    var table = UInt32(b[4])
    prefixLength = b[1]
    destination = [0, 0, 0, 0]
    outputIndex = 0
    for (t, payload) in Attribute.parse(b, from: 12) {
      switch t {
      case Netlink.RTA_TABLE where payload.count == 4: table = HostOrder.u32(payload, 0)
      case Netlink.RTA_DST where payload.count == 4: destination = payload
      case Netlink.RTA_GATEWAY where payload.count == 4: gateway = payload
      case Netlink.RTA_OIF where payload.count == 4: outputIndex = Int32(bitPattern: HostOrder.u32(payload, 0))
      default: continue
      }
    }
    guard table == UInt32(Netlink.RT_TABLE_MAIN) else { return nil }
  }
}

/// The NETNSA_NSID of an RTM_NEWNSID answer (-1: none assigned).
public func namespaceID(_ message: NetlinkMessage) -> Int32? {
  guard message.type == Netlink.RTM_NEWNSID, message.body.count >= 4 else { return nil }
  for (t, payload) in Attribute.parse(message.body, from: 4) where t == Netlink.NETNSA_NSID && payload.count == 4 {
    return Int32(bitPattern: HostOrder.u32(payload, 0))
  }
  return nil
}
