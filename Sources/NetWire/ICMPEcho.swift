/// ICMP echo request and reply (RFC 792, icmp(7)): what ping(8) sends and what comes back. Unlike
/// netlink, these travel as packets, so their integers are in network byte order (big-endian).
public enum ICMPEcho {
  public static let echoReply: UInt8 = 0
  public static let echoRequest: UInt8 = 8
  /// IPPROTO_ICMP, for socket(AF_INET, SOCK_RAW, IPPROTO_ICMP).
  public static let protocolNumber: Int32 = 1

  /// An echo request: type 8, code 0, checksum, identifier, sequence number, then the payload
  /// (boxwalk sends a fixed text: the reply must carry it back unchanged).
  public static func request(identifier: UInt16, sequence: UInt16, payload: [UInt8] = Array("boxwalk ping".utf8))
    -> [UInt8]
  {
    var packet: [UInt8] = [echoRequest, 0, 0, 0] + bigEndian(identifier) + bigEndian(sequence) + payload
    let sum = checksum(packet)
    packet[2] = UInt8(sum >> 8)
    packet[3] = UInt8(sum & 0xff)
    return packet
  }

  /// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
  /// 16-bit words, an odd last byte padded with zero.
  public static func checksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i + 1 < bytes.count {
      sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
      i += 2
    }
    if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
  }

  /// What a raw ICMP socket received: an IPv4 header (its length is in the low nibble of the first
  /// byte, in 32-bit words), then the ICMP message.
  public struct Received: Equatable, Sendable {
    public var source: [UInt8]
    public var type: UInt8
    public var identifier: UInt16
    public var sequence: UInt16
  }

  public static func parse(_ datagram: [UInt8]) -> Received? {
    guard datagram.count >= 20, datagram[0] >> 4 == 4 else { return nil }
    let headerLength = Int(datagram[0] & 0x0f) * 4
    guard headerLength >= 20, datagram.count >= headerLength + 8 else { return nil }
    let icmp = Array(datagram[headerLength...])
    return Received(
      source: Array(datagram[12..<16]), type: icmp[0], identifier: UInt16(icmp[4]) << 8 | UInt16(icmp[5]),
      sequence: UInt16(icmp[6]) << 8 | UInt16(icmp[7]))
  }

  /// Is this the reply to our request (same identifier and sequence, from the address we pinged)?
  public static func isReply(_ r: Received, to address: [UInt8], identifier: UInt16, sequence: UInt16) -> Bool {
    r.type == echoReply && r.source == address && r.identifier == identifier && r.sequence == sequence
  }

  static func bigEndian(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
}
