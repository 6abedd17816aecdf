/// Raw facts about one process as a kernel reports them: what `/proc/PID/ns/*` links point at,
/// what uname(2) says inside. The state tree is built from these by pure code, the same for every
/// backend, so the two kernels cannot disagree on the tree's shape.
public struct ProcessFacts: Equatable, Sendable {
  /// The host PID of the process (volatile: it differs every run).
  public var hostPID: Int
  /// Namespace identity per kind: the inode number of /proc/PID/ns/KIND (for pid and time, of
  /// pid_for_children and time_for_children). Two processes share a namespace when these match.
  public var namespaces: [NamespaceKind: UInt64]
  /// uname(2) nodename as seen inside the process's UTS namespace.
  public var hostname: String
  /// uname(2) domainname ("(none)" when unset, as the kernel reports it).
  public var domainname: String

  public init(hostPID: Int, namespaces: [NamespaceKind: UInt64], hostname: String, domainname: String) {
    self.hostPID = hostPID
    self.namespaces = namespaces
    self.hostname = hostname
    self.domainname = domainname
  }
}

public struct BoxFacts: Equatable, Sendable {
  public var name: String
  public var process: ProcessFacts
  public init(name: String, process: ProcessFacts) {
    self.name = name
    self.process = process
  }
}

public struct KernelFacts: Equatable, Sendable {
  /// The host: the namespaces boxwalk itself runs in.
  public var host: ProcessFacts
  /// Every box, in creation order.
  public var boxes: [BoxFacts]
  public init(host: ProcessFacts, boxes: [BoxFacts]) {
    self.host = host
    self.boxes = boxes
  }

  public func box(_ name: String) -> BoxFacts? { boxes.first { $0.name == name } }
}
