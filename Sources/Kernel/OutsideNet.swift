/// The lab's outside: a network namespace boxwalk makes for the session (never the machine's own
/// network) that stands for the internet beyond a Docker host. One veth joins it to the lab's host
/// side: `uplink` on the host side, `eth0` in the outside. Its addresses come from 203.0.113.0/24,
/// a block reserved for documentation (RFC 5737) that no real network routes, so they look like a
/// public address and cannot collide with anything real. The outside, like the internet, has no
/// route to the lab's private subnets: a reply to a box's private address has nowhere to go
/// unless the host side rewrites the box's address into its own on the way out (NAT).
public enum OutsideNet {
  /// The side's name in `links`, the state tree (`outside.*`) and link names (`outside:eth0`).
  public static let name = "outside"
  /// The host side's end of the veth.
  public static let hostLink = "uplink"
  /// The outside's end of the veth.
  public static let outsideLink = "eth0"
  /// The outside's address: the "server on the internet" a box tries to reach.
  public static let outsideAddress = IPv4CIDR(IPv4Address(0xCB00_7101), 24)
  /// The host side's address on the outside's subnet: its "public" address.
  public static let hostAddress = IPv4CIDR(IPv4Address(0xCB00_7102), 24)
}
