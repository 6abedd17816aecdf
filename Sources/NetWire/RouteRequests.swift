/// The rtnetlink requests boxwalk makes, as bytes. Each one is what ip(8) sends for the command
/// in its comment. Requests that change something carry NLM_F_ACK: the kernel then answers with
/// an NLMSG_ERROR message whose error is 0 (done) or -errno (rtnetlink(7)).
public enum RouteRequest {
  static let change = Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK
  static let create = change | Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL
  static let dump = Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP

  /// struct ifinfomsg { u8 ifi_family; u8 pad; u16 ifi_type; s32 ifi_index; u32 ifi_flags; u32 ifi_change; }
  /// An index of 0 lets IFLA_IFNAME name the link.
  static func ifinfomsg(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
    [Netlink.AF_UNSPEC, 0] + HostOrder.bytes(UInt16(0)) + HostOrder.bytes(index) + HostOrder.bytes(flags)
      + HostOrder.bytes(change)
  }

  /// struct ifaddrmsg { u8 ifa_family; u8 ifa_prefixlen; u8 ifa_flags; u8 ifa_scope; u32 ifa_index; }
  static func ifaddrmsg(prefixLength: UInt8 = 0, index: UInt32 = 0) -> [UInt8] {
    [Netlink.AF_INET, prefixLength, 0, Netlink.RT_SCOPE_UNIVERSE] + HostOrder.bytes(index)
  }

  /// struct rtmsg { u8 rtm_family, rtm_dst_len, rtm_src_len, rtm_tos, rtm_table, rtm_protocol,
  /// rtm_scope, rtm_type; u32 rtm_flags; }. `origin` is rtm_protocol (who made the route).
  static func rtmsg(table: UInt8 = 0, origin: UInt8 = 0, type: UInt8 = 0) -> [UInt8] {
    [Netlink.AF_INET, 0, 0, 0, table, origin, Netlink.RT_SCOPE_UNIVERSE, type] + HostOrder.bytes(UInt32(0))
  }

  /// `ip link add NAME type veth peer name PEER netns PID`: both ends in one message. The peer is
  /// described by its own ifinfomsg and attributes inside IFLA_LINKINFO / IFLA_INFO_DATA /
  /// VETH_INFO_PEER, and IFLA_NET_NS_PID creates it directly in that process's network namespace.
  public static func newVeth(name: String, peer: String, peerNamespacePID: UInt32, sequence: UInt32) -> [UInt8] {
    let peerInfo =
      ifinfomsg() + Attribute.string(Netlink.IFLA_IFNAME, peer)
      + Attribute.u32(Netlink.IFLA_NET_NS_PID, peerNamespacePID)
    let linkInfo = Attribute.nested(
      Netlink.IFLA_LINKINFO,
      [
        Attribute.string(Netlink.IFLA_INFO_KIND, "veth"),
        Attribute.nested(Netlink.IFLA_INFO_DATA, [Attribute.raw(Netlink.VETH_INFO_PEER, peerInfo)]),
      ])
    let body = ifinfomsg() + Attribute.string(Netlink.IFLA_IFNAME, name) + linkInfo
    return NetlinkMessage(type: Netlink.RTM_NEWLINK, flags: create, sequence: sequence, body: body).encoded()
  }

  /// `ip link add NAME type bridge`
  public static func newBridge(name: String, sequence: UInt32) -> [UInt8] {
    let body =
      ifinfomsg() + Attribute.string(Netlink.IFLA_IFNAME, name)
      + Attribute.nested(Netlink.IFLA_LINKINFO, [Attribute.string(Netlink.IFLA_INFO_KIND, "bridge")])
    return NetlinkMessage(type: Netlink.RTM_NEWLINK, flags: create, sequence: sequence, body: body).encoded()
  }

  /// `ip link set NAME master BRIDGE`: IFLA_MASTER takes the bridge's interface index.
  public static func setMaster(name: String, masterIndex: UInt32, sequence: UInt32) -> [UInt8] {
    let body =
      ifinfomsg() + Attribute.string(Netlink.IFLA_IFNAME, name) + Attribute.u32(Netlink.IFLA_MASTER, masterIndex)
    return NetlinkMessage(type: Netlink.RTM_NEWLINK, flags: change, sequence: sequence, body: body).encoded()
  }

  /// `ip link set NAME up|down`: ifi_change says which flag to touch, ifi_flags its new value.
  public static func setUp(name: String, up: Bool, sequence: UInt32) -> [UInt8] {
    let body =
      ifinfomsg(flags: up ? Netlink.IFF_UP : 0, change: Netlink.IFF_UP) + Attribute.string(Netlink.IFLA_IFNAME, name)
    return NetlinkMessage(type: Netlink.RTM_NEWLINK, flags: change, sequence: sequence, body: body).encoded()
  }

  /// `ip addr add ADDRESS/PREFIX dev IF`: RTM_NEWADDR names the link by index only.
  public static func newAddress(index: UInt32, address: [UInt8], prefixLength: UInt8, sequence: UInt32) -> [UInt8] {
    let body =
      ifaddrmsg(prefixLength: prefixLength, index: index) + Attribute.raw(Netlink.IFA_LOCAL, address)
      + Attribute.raw(Netlink.IFA_ADDRESS, address)
    return NetlinkMessage(type: Netlink.RTM_NEWADDR, flags: create, sequence: sequence, body: body).encoded()
  }

  /// `ip route add default via GATEWAY`: destination 0.0.0.0/0 (no RTA_DST, rtm_dst_len 0) in the
  /// main table; without RTA_OIF the kernel finds the link from the gateway.
  public static func newDefaultRoute(gateway: [UInt8], sequence: UInt32) -> [UInt8] {
    let body =
      rtmsg(table: Netlink.RT_TABLE_MAIN, origin: Netlink.RTPROT_BOOT, type: Netlink.RTN_UNICAST)
      + Attribute.raw(Netlink.RTA_GATEWAY, gateway)
    return NetlinkMessage(type: Netlink.RTM_NEWROUTE, flags: create, sequence: sequence, body: body).encoded()
  }

  /// `ip link show`: every link of the namespace, without statistics.
  public static func dumpLinks(sequence: UInt32) -> [UInt8] {
    let body = ifinfomsg() + Attribute.u32(Netlink.IFLA_EXT_MASK, Netlink.RTEXT_FILTER_SKIP_STATS)
    return NetlinkMessage(type: Netlink.RTM_GETLINK, flags: dump, sequence: sequence, body: body).encoded()
  }

  /// `ip -4 addr show`
  public static func dumpAddresses(sequence: UInt32) -> [UInt8] {
    NetlinkMessage(type: Netlink.RTM_GETADDR, flags: dump, sequence: sequence, body: ifaddrmsg()).encoded()
  }

  /// `ip -4 route show table all` (boxwalk keeps the main table's unicast routes).
  public static func dumpRoutes(sequence: UInt32) -> [UInt8] {
    NetlinkMessage(type: Netlink.RTM_GETROUTE, flags: dump, sequence: sequence, body: rtmsg()).encoded()
  }

  /// `ip netns identify`-like: the id this namespace gives the network namespace of process PID
  /// (the IFLA_LINK_NETNSID of a veth whose peer is there). struct rtgenmsg is one byte, padded to 4.
  public static func getNamespaceID(pid: UInt32, sequence: UInt32) -> [UInt8] {
    let body = [Netlink.AF_UNSPEC, 0, 0, 0] + Attribute.u32(Netlink.NETNSA_PID, pid)
    return NetlinkMessage(type: Netlink.RTM_GETNSID, flags: Netlink.NLM_F_REQUEST, sequence: sequence, body: body)
      .encoded()
  }
}
