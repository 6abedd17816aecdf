/// The lab's network namespaces, named: the host side (`host`) and each network namespace of
/// boxes, named after the first box in it (boxes that joined another's namespace share its name).
/// Boxes that still share the machine's network namespace are not in it: boxwalk never looks
/// there.
public struct NetworkView: Equatable, Sendable {
  public struct Namespace: Equatable, Sendable {
    /// `host`, or the first box in it.
    public var name: String
    /// Every box in it (none for the host side).
    public var boxes: [String]
    public var net: NetFacts

    public init(name: String, boxes: [String], net: NetFacts) {
      self.name = name
      self.boxes = boxes
      self.net = net
    }
  }

  /// The host side first, then the outside if there is one, then boxes' namespaces in the order of their first box.
  public var namespaces: [Namespace]

  public init(namespaces: [Namespace]) { self.namespaces = namespaces }

  public init(_ facts: KernelFacts) {
    var list = [Namespace(name: NetSide.host.name, boxes: [], net: facts.host.net ?? .fresh)]
    if let outside = facts.outside { list.append(Namespace(name: OutsideNet.name, boxes: [], net: outside)) }
    var byInode: [UInt64: Int] = [:]
    for box in facts.boxes {
      guard let net = box.process.net else { continue }
      if let inode = box.process.namespaces[.net], let i = byInode[inode] {
        list[i].boxes.append(box.name)
        continue
      }
      if let inode = box.process.namespaces[.net] { byInode[inode] = list.count }
      list.append(Namespace(name: box.name, boxes: [box.name], net: net))
    }
    namespaces = list
  }

  /// The namespace a side is in: the host side, or the one holding this box.
  public func namespace(of side: String) -> Namespace? {
    side == NetSide.host.name || side == OutsideNet.name
      ? namespaces.first { $0.name == side } : namespaces.first { $0.boxes.contains(side) }
  }

  public func namespace(named name: String) -> Namespace? { namespaces.first { $0.name == name } }

  public func link(_ endpoint: NetEndpoint) -> NetLinkFacts? {
    namespace(named: endpoint.owner)?.net.link(endpoint.link)
  }
}
