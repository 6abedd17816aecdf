// NetWire: the bytes boxwalk sends to and reads from the kernel for networking, built and parsed
// by pure code, so the same functions serve boxwalk (which builds requests) and boxwalk-helper
// (which sends them in its network namespace and reads the answers), and tests compare them with
// byte goldens. No system call happens here.
//
// rtnetlink(7) is how ip(8) talks to the kernel: messages on an AF_NETLINK socket of protocol
// NETLINK_ROUTE. Every message is a header (netlink(7)), a fixed struct for its family (ifinfomsg
// for links, ifaddrmsg for addresses, rtmsg for routes) and a list of attributes, each a
// length-type-value record padded to 4 bytes. Integers are in the host's byte order: netlink
// never leaves the machine.

/// The constants of linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h and
/// linux/veth.h that boxwalk uses, under their C names.
public enum Netlink {
  /// socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)
  public static let AF_NETLINK: Int32 = 16
  public static let NETLINK_ROUTE: Int32 = 0

  // nlmsghdr.nlmsg_type: control messages, then rtnetlink's.
  public static let NLMSG_ERROR: UInt16 = 2
  public static let NLMSG_DONE: UInt16 = 3
  public static let RTM_NEWLINK: UInt16 = 16
  public static let RTM_GETLINK: UInt16 = 18
  public static let RTM_NEWADDR: UInt16 = 20
  public static let RTM_GETADDR: UInt16 = 22
  public static let RTM_NEWROUTE: UInt16 = 24
  public static let RTM_GETROUTE: UInt16 = 26
  public static let RTM_NEWNSID: UInt16 = 88
  public static let RTM_GETNSID: UInt16 = 90

  // nlmsghdr.nlmsg_flags
  public static let NLM_F_REQUEST: UInt16 = 0x1
  public static let NLM_F_MULTI: UInt16 = 0x2
  public static let NLM_F_ACK: UInt16 = 0x4
  public static let NLM_F_DUMP: UInt16 = 0x300  // NLM_F_ROOT|NLM_F_MATCH
  public static let NLM_F_EXCL: UInt16 = 0x200
  public static let NLM_F_CREATE: UInt16 = 0x400

  // Address families (ifi_family, ifa_family, rtm_family).
  public static let AF_UNSPEC: UInt8 = 0
  public static let AF_INET: UInt8 = 2

  // IFLA_*: link attributes.
  public static let IFLA_ADDRESS: UInt16 = 1
  public static let IFLA_IFNAME: UInt16 = 3
  public static let IFLA_LINK: UInt16 = 5
  public static let IFLA_MASTER: UInt16 = 10
  public static let IFLA_LINKINFO: UInt16 = 18
  public static let IFLA_NET_NS_PID: UInt16 = 19
  public static let IFLA_EXT_MASK: UInt16 = 29
  public static let IFLA_LINK_NETNSID: UInt16 = 37
  // Inside IFLA_LINKINFO.
  public static let IFLA_INFO_KIND: UInt16 = 1
  public static let IFLA_INFO_DATA: UInt16 = 2
  // Inside IFLA_INFO_DATA of a veth: the peer, as an ifinfomsg followed by IFLA_* attributes.
  public static let VETH_INFO_PEER: UInt16 = 1
  /// IFLA_EXT_MASK bit: leave the statistics out of link dumps (they are large and unused here).
  public static let RTEXT_FILTER_SKIP_STATS: UInt32 = 1 << 3

  // ifinfomsg.ifi_flags (netdevice(7)) and ifi_type.
  public static let IFF_UP: UInt32 = 0x1
  public static let ARPHRD_LOOPBACK: UInt16 = 772

  // IFA_*: address attributes. For IPv4, IFA_LOCAL is the address itself; IFA_ADDRESS is the
  // peer's on point-to-point links and the same as IFA_LOCAL everywhere else.
  public static let IFA_ADDRESS: UInt16 = 1
  public static let IFA_LOCAL: UInt16 = 2

  // rtmsg fields and RTA_* route attributes.
  public static let RT_TABLE_MAIN: UInt8 = 254
  public static let RTPROT_BOOT: UInt8 = 3
  public static let RT_SCOPE_UNIVERSE: UInt8 = 0
  public static let RTN_UNICAST: UInt8 = 1
  public static let RTA_DST: UInt16 = 1
  public static let RTA_OIF: UInt16 = 4
  public static let RTA_GATEWAY: UInt16 = 5
  public static let RTA_TABLE: UInt16 = 15

  // NETNSA_*: network namespace id attributes (RTM_GETNSID / RTM_NEWNSID).
  public static let NETNSA_NSID: UInt16 = 1
  public static let NETNSA_PID: UInt16 = 2

  /// sizeof(struct nlmsghdr), sizeof(struct nlattr).
  public static let headerSize = 16
  public static let attributeHeaderSize = 4

  /// NLMSG_ALIGN / NLA_ALIGN: everything is padded to a multiple of 4 bytes.
  public static func aligned(_ n: Int) -> Int { (n + 3) & ~3 }
}

/// One netlink message: the header fields and the body (family struct and attributes).
public struct NetlinkMessage: Equatable, Sendable {
  public var type: UInt16
  public var flags: UInt16
  public var sequence: UInt32
  /// The family struct followed by the attributes, each padded.
  public var body: [UInt8]

  public init(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) {
    self.type = type
    self.flags = flags
    self.sequence = sequence
    self.body = body
  }

  /// struct nlmsghdr { u32 nlmsg_len; u16 nlmsg_type; u16 nlmsg_flags; u32 nlmsg_seq; u32 nlmsg_pid; }
  /// then the body. nlmsg_pid is 0: the kernel fills in our port id.
  public func encoded() -> [UInt8] {
    var out = HostOrder.bytes(UInt32(Netlink.headerSize + body.count))
    out += HostOrder.bytes(type) + HostOrder.bytes(flags) + HostOrder.bytes(sequence) + HostOrder.bytes(UInt32(0))
    return out + body
  }

  /// Every message in one datagram from the kernel (a dump packs several), or nil if a length
  /// field does not fit the bytes.
  public static func split(_ bytes: [UInt8]) -> [NetlinkMessage]? {
    var messages: [NetlinkMessage] = []
    var offset = 0
    while offset + Netlink.headerSize <= bytes.count {
      let length = Int(HostOrder.u32(bytes, offset))
      guard length >= Netlink.headerSize, offset + length <= bytes.count else { return nil }
      messages.append(
        NetlinkMessage(
          type: HostOrder.u16(bytes, offset + 4), flags: HostOrder.u16(bytes, offset + 6),
          sequence: HostOrder.u32(bytes, offset + 8), body: Array(bytes[offset + Netlink.headerSize..<offset + length]))
      )
      offset += Netlink.aligned(length)
    }
    return offset >= bytes.count ? messages : nil
  }

  /// For NLMSG_ERROR: the error field, 0 for an acknowledgement or a negative errno.
  public var errorCode: Int32? {
    guard type == Netlink.NLMSG_ERROR, body.count >= 4 else { return nil }
    return Int32(bitPattern: HostOrder.u32(body, 0))
  }
}

/// Netlink attributes: struct nlattr { u16 nla_len; u16 nla_type; } then the payload, padded to
/// 4 bytes. nla_len counts the header and the payload, not the padding.
public enum Attribute {
  public static func raw(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
    var out = HostOrder.bytes(UInt16(Netlink.attributeHeaderSize + payload.count)) + HostOrder.bytes(type) + payload
    out += [UInt8](repeating: 0, count: Netlink.aligned(out.count) - out.count)
    return out
  }

  /// A C string: the bytes and the terminating NUL.
  public static func string(_ type: UInt16, _ s: String) -> [UInt8] { raw(type, Array(s.utf8) + [0]) }
  public static func u32(_ type: UInt16, _ v: UInt32) -> [UInt8] { raw(type, HostOrder.bytes(v)) }
  /// Attributes inside an attribute (IFLA_LINKINFO holds IFLA_INFO_KIND, ...).
  public static func nested(_ type: UInt16, _ children: [[UInt8]]) -> [UInt8] { raw(type, children.flatMap { $0 }) }

  /// The attributes in `bytes` from `offset` on, as (type, payload); the NLA_F_NESTED and
  /// NLA_F_NET_BYTEORDER bits of the type are cleared. Stops at the first malformed one.
  public static func parse(_ bytes: [UInt8], from offset: Int = 0) -> [(type: UInt16, payload: [UInt8])] {
    var out: [(UInt16, [UInt8])] = []
    var i = offset
    while i + Netlink.attributeHeaderSize <= bytes.count {
      let length = Int(HostOrder.u16(bytes, i))
      guard length >= Netlink.attributeHeaderSize, i + length <= bytes.count else { break }
      out.append((HostOrder.u16(bytes, i + 2) & 0x3fff, Array(bytes[i + Netlink.attributeHeaderSize..<i + length])))
      i += Netlink.aligned(length)
    }
    return out
  }

  /// A NUL-terminated string payload.
  public static func text(_ payload: [UInt8]) -> String {
    String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
  }
}

/// Integers in the host's byte order, which is what netlink uses.
public enum HostOrder {
  public static func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

  public static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { load(b, i) }
  public static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { load(b, i) }

  static func load<T: FixedWidthInteger>(_ b: [UInt8], _ i: Int) -> T {
    guard i >= 0, i + MemoryLayout<T>.size <= b.count else { return 0 }
    return b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: T.self) }
  }
}
