/// The records of a dump as text lines, the form boxwalk-helper sends them to boxwalk in (one
/// helper message holds up to 4096 bytes; a raw link dump would not fit, these lines do):
///
///     link INDEX NAME KIND FLAGS MASTER LINK NETNSID MAC     (- for an absent field)
///     addr INDEX ADDRESS PREFIXLEN
///     route DESTINATION PREFIXLEN GATEWAY OIF                 (GATEWAY - when directly connected)
///     nsid PID NSID
///     forward 0|1                                             (net.ipv4.ip_forward)
///
/// Interface names never contain white space (the kernel refuses it: dev_valid_name), so a line
/// splits on spaces.
public struct Dump: Equatable, Sendable {
  public var links: [LinkRecord] = []
  public var addresses: [AddressRecord] = []
  public var routes: [RouteRecord] = []
  /// (pid, nsid): the id this namespace gives the network namespace of that process.
  public var namespaceIDs: [(pid: Int32, nsid: Int32)] = []
  /// net.ipv4.ip_forward of the namespace, when the helper could read it.
  public var forward: Bool?

  public init() {}

  public static func == (a: Dump, b: Dump) -> Bool {
    a.links == b.links && a.addresses == b.addresses && a.routes == b.routes
      && a.namespaceIDs.map(\.pid) == b.namespaceIDs.map(\.pid)
      && a.namespaceIDs.map(\.nsid) == b.namespaceIDs.map(\.nsid) && a.forward == b.forward
  }

  public var text: String {
    func opt(_ v: Int32?) -> String { v.map(String.init) ?? "-" }
    var lines: [String] = []
    for l in links {
      lines.append(
        "link \(l.index) \(l.name) \(l.kind.isEmpty ? "-" : l.kind) \(l.flags) \(opt(l.master)) \(opt(l.link)) \(opt(l.linkNamespaceID)) \(l.mac.isEmpty ? "-" : l.mac)"
      )
    }
    for a in addresses { lines.append("addr \(a.index) \(Self.dotted(a.address)) \(a.prefixLength)") }
    for r in routes {
      lines.append(
        "route \(Self.dotted(r.destination)) \(r.prefixLength) \(r.gateway.map(Self.dotted) ?? "-") \(r.outputIndex)")
    }
    for n in namespaceIDs { lines.append("nsid \(n.pid) \(n.nsid)") }
    if let forward { lines.append("forward \(forward ? 1 : 0)") }
    return lines.joined(separator: "\n")
  }

  /// Parses `text`; a line it cannot read is skipped.
  public init(text: String) {
    for line in text.split(separator: "\n") {
      let f = line.split(separator: " ").map(String.init)
      switch (f.first, f.count) {
      case ("link", 9):
        guard let index = Int32(f[1]), let flags = UInt32(f[4]) else { continue }
        links.append(
          LinkRecord(
            index: index, name: f[2], kind: f[3] == "-" ? "" : f[3], flags: flags, master: Int32(f[5]),
            link: Int32(f[6]),
            linkNamespaceID: Int32(f[7]), mac: f[8] == "-" ? "" : f[8]))
      case ("addr", 4):
        guard let index = Int32(f[1]), let address = Self.bytes(f[2]), let length = UInt8(f[3]) else { continue }
        addresses.append(AddressRecord(index: index, address: address, prefixLength: length))
      case ("route", 5):
        guard let destination = Self.bytes(f[1]), let length = UInt8(f[2]), let oif = Int32(f[4]) else { continue }
        routes.append(
          RouteRecord(destination: destination, prefixLength: length, gateway: Self.bytes(f[3]), outputIndex: oif))
      case ("forward", 2):
        forward = f[1] == "1"
      case ("nsid", 3):
        guard let pid = Int32(f[1]), let nsid = Int32(f[2]) else { continue }
        namespaceIDs.append((pid, nsid))
      default:
        continue
      }
    }
  }

  public static func dotted(_ b: [UInt8]) -> String { b.map(String.init).joined(separator: ".") }

  static func bytes(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".")
    guard parts.count == 4 else { return nil }
    let values = parts.compactMap { UInt8($0) }
    return values.count == 4 ? values : nil
  }
}
