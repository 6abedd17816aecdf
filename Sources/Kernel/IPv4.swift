/// An IPv4 address, parsed strictly: four decimal numbers 0-255 with dots, no leading zeros (so
/// "010.0.0.1" is refused: inet_aton(3) would read 010 as octal 8, a classic surprise).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The address as a number, most significant byte first ("10.0.0.1" is 0x0A000001).
  public let value: UInt32

  public init(_ value: UInt32) { self.value = value }

  public init?(_ text: String) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
      guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
        part == "0" || part.first != "0", let n = UInt32(part), n <= 255
      else { return nil }
      value = value << 8 | n
    }
    self.value = value
  }

  /// The four bytes in network order, as they travel in a packet or a netlink attribute.
  public var bytes: [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
  }

  public init?(bytes: [UInt8]) {
    guard bytes.count == 4 else { return nil }
    value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
  }

  public var description: String { bytes.map(String.init).joined(separator: ".") }

  public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

  /// 127.0.0.0/8: addresses that never leave a network namespace (they are all local to lo).
  public var isLoopback: Bool { value >> 24 == 127 }
}

/// An address with a prefix length, as `ip addr add 10.0.0.2/24` takes it: the address, and the
/// subnet it is on (10.0.0.0/24: every address whose first 24 bits are the same).
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
  public let address: IPv4Address
  public let prefixLength: Int

  public init(_ address: IPv4Address, _ prefixLength: Int) {
    self.address = address
    self.prefixLength = max(0, min(32, prefixLength))
  }

  /// "10.0.0.2/24". The prefix length is required: without it, ip(8) would assume /32, a subnet
  /// of one address, which is rarely what a learner means.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(String(parts[0])), !parts[1].isEmpty, parts[1].count <= 2,
      parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]), length <= 32
    else { return nil }
    self.init(address, length)
  }

  /// The default route's destination: every address.
  public static let any = IPv4CIDR(IPv4Address(0), 0)

  public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength) }
  /// The first address of the subnet (host bits zero).
  public var network: IPv4Address { IPv4Address(address.value & mask) }
  /// The last address of the subnet (host bits one): the subnet's broadcast address.
  public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }
  /// The subnet itself, written as a route destination: 10.0.0.0/24.
  public var subnet: IPv4CIDR { IPv4CIDR(network, prefixLength) }

  public func contains(_ a: IPv4Address) -> Bool { a.value & mask == address.value & mask }

  public var description: String { "\(address)/\(prefixLength)" }
}

/// The private ranges of RFC 1918. boxwalk keeps lab addresses in them: they are never routed
/// on the Internet, so a lab address can never be mistaken for a real machine's.
public enum PrivateRanges {
  public static let all = [
    IPv4CIDR(IPv4Address(0x0A00_0000), 8), IPv4CIDR(IPv4Address(0xAC10_0000), 12),
    IPv4CIDR(IPv4Address(0xC0A8_0000), 16),
  ]
  public static func contains(_ a: IPv4Address) -> Bool { all.contains { $0.contains(a) } }
  public static var text: String { all.map(\.description).joined(separator: ", ") }
}
