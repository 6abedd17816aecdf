import Testing

@testable import NetWire

/// Parsing what the kernel answers: messages written field by field as the kernel builds them
/// (rtnl_fill_ifinfo, inet_fill_ifaddr, fib_dump_info), little-endian.
@Suite(.enabled(if: UInt16(1).littleEndian == 1, "the goldens are little-endian"))
struct RouteRecordTests {
  /// The host end of a veth that is a bridge port, as a link dump reports it.
  static let vethLink: [UInt8] = [
    0x78, 0x00, 0x00, 0x00,  // nlmsg_len = 120
    0x10, 0x00, 0x02, 0x00,  // RTM_NEWLINK, NLM_F_MULTI (part of a dump)
    0x06, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,  // nlmsg_seq = 6, nlmsg_pid = 42 (our port)
    0x00, 0x00,  // ifi_family, pad
    0x01, 0x00,  // ifi_type = ARPHRD_ETHER
    0x03, 0x00, 0x00, 0x00,  // ifi_index = 3
    0x43, 0x10, 0x01, 0x00,  // ifi_flags = IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST|IFF_LOWER_UP
    0x00, 0x00, 0x00, 0x00,  // ifi_change
    0x0d, 0x00, 0x03, 0x00, 0x76, 0x65, 0x74, 0x68, 0x2d, 0x77, 0x65, 0x62, 0x00, 0x00, 0x00, 0x00,  // IFLA_IFNAME
    0x08, 0x00, 0x04, 0x00, 0xdc, 0x05, 0x00, 0x00,  // IFLA_MTU = 1500: not used, skipped
    0x08, 0x00, 0x0a, 0x00, 0x04, 0x00, 0x00, 0x00,  // IFLA_MASTER = 4
    0x08, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00,  // IFLA_LINK_NETNSID = 0: the peer is elsewhere
    0x08, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00,  // IFLA_LINK = 2: the peer's index there
    0x0a, 0x00, 0x01, 0x00, 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x00, 0x00,  // IFLA_ADDRESS, 6 bytes, padding
    0x1c, 0x00, 0x12, 0x00,  // IFLA_LINKINFO, nla_len = 28
    0x09, 0x00, 0x01, 0x00, 0x76, 0x65, 0x74, 0x68, 0x00, 0x00, 0x00, 0x00,  // IFLA_INFO_KIND "veth"
    0x0b, 0x00, 0x04, 0x00, 0x62, 0x72, 0x69, 0x64, 0x67, 0x65, 0x00, 0x00,  // IFLA_INFO_SLAVE_KIND "bridge"
  ]

  @Test func aVethThatIsABridgePort() throws {
    let messages = try #require(NetlinkMessage.split(Self.vethLink))
    #expect(messages.count == 1)
    let link = try #require(LinkRecord(messages[0]))
    #expect(
      link
        == LinkRecord(
          index: 3, name: "veth-web", kind: "veth", flags: 0x11043, master: 4, link: 2, linkNamespaceID: 0,
          mac: "02:ab:cd:ef:01:23"))
    #expect(link.isUp)
  }

  @Test func loopbackHasNoLinkInfo() throws {
    let lo: [UInt8] = [
      0x28, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x04, 0x03,  // ifi_type = ARPHRD_LOOPBACK (772)
      0x01, 0x00, 0x00, 0x00,  // ifi_index = 1
      0x08, 0x00, 0x00, 0x00,  // ifi_flags = IFF_LOOPBACK, not up
      0x00, 0x00, 0x00, 0x00,
      0x07, 0x00, 0x03, 0x00, 0x6c, 0x6f, 0x00, 0x00,  // IFLA_IFNAME "lo\0"
    ]
    let link = try #require(NetlinkMessage.split(lo).flatMap { LinkRecord($0[0]) })
    #expect(link.kind == "loopback")
    #expect(link.name == "lo")
    #expect(!link.isUp)
    #expect(link.linkNamespaceID == nil)
  }

  @Test func anAddressAndTwoRoutesInOneDatagram() throws {
    let datagram: [UInt8] = [
      // RTM_NEWADDR 10.0.0.2/24 on index 2
      0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x18, 0x80, 0x00,  // AF_INET, /24, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE
      0x02, 0x00, 0x00, 0x00,  // ifa_index = 2
      0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x02,  // IFA_ADDRESS
      0x08, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02,  // IFA_LOCAL
      // RTM_NEWROUTE 10.0.0.0/24 dev 2 (connected), main table
      0x3c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x18, 0x00, 0x00, 0xfe, 0x02, 0xfd, 0x01,  // AF_INET, /24, main, RTPROT_KERNEL, RT_SCOPE_LINK, RTN_UNICAST
      0x00, 0x00, 0x00, 0x00,  // rtm_flags
      0x08, 0x00, 0x0f, 0x00, 0xfe, 0x00, 0x00, 0x00,  // RTA_TABLE = 254
      0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00,  // RTA_DST = 10.0.0.0
      0x08, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x02,  // RTA_PREFSRC: skipped
      0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,  // RTA_OIF = 2
      // RTM_NEWROUTE local 10.0.0.2 in the local table: not kept
      0x24, 0x00, 0x00, 0x00, 0x18, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x20, 0x00, 0x00, 0xff, 0x02, 0xfe, 0x02,  // /32, RT_TABLE_LOCAL, RTN_LOCAL
      0x00, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x02,
    ]
    let messages = try #require(NetlinkMessage.split(datagram))
    #expect(messages.count == 3)
    #expect(AddressRecord(messages[0]) == AddressRecord(index: 2, address: [10, 0, 0, 2], prefixLength: 24))
    #expect(RouteRecord(messages[1]) == RouteRecord(destination: [10, 0, 0, 0], prefixLength: 24, outputIndex: 2))
    #expect(RouteRecord(messages[2]) == nil)
  }

  @Test func anAcknowledgementAndAnError() throws {
    func error(_ code: Int32) -> [UInt8] {
      // NLMSG_ERROR (2), NLM_F_CAPPED (0x100): the answer carries only our header, not our body.
      [0x24, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00]
        + HostOrder.bytes(code)  // error: 0, or -errno
        // The header of the request it answers (RTM_NEWADDR, sequence 5).
        + [0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
    }
    #expect(try #require(NetlinkMessage.split(error(0)))[0].errorCode == 0)
    #expect(try #require(NetlinkMessage.split(error(-17)))[0].errorCode == -17)  // -EEXIST
    #expect(NetlinkMessage.split([0x40, 0x00, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)) == nil)  // too short
  }

  @Test func namespaceIDAnswer() throws {
    let answer: [UInt8] = [
      0x1c, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,  // RTM_NEWNSID
      0x00, 0x00, 0x00, 0x00,  // rtgenmsg
      0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,  // NETNSA_NSID = 1
    ]
    #expect(try #require(NetlinkMessage.split(answer)).first.flatMap(namespaceID) == 1)
  }

  @Test func dumpTextRoundTrip() throws {
    var dump = Dump()
    dump.links = [
      LinkRecord(index: 1, name: "lo", kind: "loopback", flags: 0x49, mac: "00:00:00:00:00:00"),
      LinkRecord(
        index: 3, name: "veth-web", kind: "veth", flags: 1, master: 4, link: 2, linkNamespaceID: 0,
        mac: "02:ab:cd:ef:01:23"),
      LinkRecord(index: 5, name: "tunl0", kind: "", flags: 0, mac: ""),
    ]
    dump.addresses = [AddressRecord(index: 3, address: [10, 0, 0, 1], prefixLength: 24)]
    dump.routes = [
      RouteRecord(destination: [0, 0, 0, 0], prefixLength: 0, gateway: [10, 0, 0, 1], outputIndex: 3),
      RouteRecord(destination: [10, 0, 0, 0], prefixLength: 24, outputIndex: 3),
    ]
    dump.namespaceIDs = [(4242, 0), (4243, -1)]
    #expect(
      dump.text == """
        link 1 lo loopback 73 - - - 00:00:00:00:00:00
        link 3 veth-web veth 1 4 2 0 02:ab:cd:ef:01:23
        link 5 tunl0 - 0 - - - -
        addr 3 10.0.0.1 24
        route 0.0.0.0 0 10.0.0.1 3
        route 10.0.0.0 24 - 3
        nsid 4242 0
        nsid 4243 -1
        """)
    #expect(Dump(text: dump.text) == dump)
    #expect(Dump(text: "link oops\nnonsense\n") == Dump())
  }

  @Test func icmpChecksumAndEcho() throws {
    // RFC 1071's worked example: the sum of 0001 f203 f4f5 f6f7 is ddf2; the checksum its complement.
    #expect(ICMPEcho.checksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == 0x220d)
    let request = ICMPEcho.request(identifier: 0x1234, sequence: 1, payload: [0xab])
    #expect(Array(request[0..<2]) == [8, 0])  // ICMP_ECHO, code 0
    #expect(Array(request[4..<8]) == [0x12, 0x34, 0x00, 0x01])  // identifier, sequence: big-endian
    #expect(ICMPEcho.checksum(request) == 0)  // a packet with its checksum in sums to all ones
    // A reply as a raw socket delivers it: a 20-byte IPv4 header, then the ICMP message.
    var ip = [UInt8](repeating: 0, count: 20)
    ip[0] = 0x45  // version 4, header length 5 words
    ip.replaceSubrange(12..<16, with: [10, 0, 0, 1])  // source address
    let reply = ip + [0, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 0xab]
    let parsed = try #require(ICMPEcho.parse(reply))
    #expect(ICMPEcho.isReply(parsed, to: [10, 0, 0, 1], identifier: 0x1234, sequence: 1))
    #expect(!ICMPEcho.isReply(parsed, to: [10, 0, 0, 2], identifier: 0x1234, sequence: 1))
    #expect(ICMPEcho.parse(Array(reply.prefix(24))) == nil)
  }
}
