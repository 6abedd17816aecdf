/// One learner action that changes kernel state, as a value (STYLE 5). Both kernels take the same
/// steps; tests compare whole step sequences. Reading commands (`show`, `ns`, `state`) are not
/// steps: they only read the state tree.
public enum Step: Equatable, Hashable, Sendable {
  /// Start the process that will hold a new box's namespaces. It shares every host namespace.
  case boxNew(box: String)
  /// Kill a box's processes; namespaces nobody else uses die with them.
  case boxRemove(box: String)
  /// unshare(2): move the box into new namespaces of these kinds.
  case unshare(box: String, kinds: [NamespaceKind])
  /// setns(2): move the box into `target`'s namespace of this kind.
  case join(box: String, kind: NamespaceKind, target: String)
  /// sethostname(2) inside the box's UTS namespace.
  case setHostname(box: String, name: String)
  /// setdomainname(2) inside the box's UTS namespace.
  case setDomainname(box: String, name: String)

  /// The box the step acts on.
  public var box: String {
    switch self {
    case .boxNew(let b), .boxRemove(let b), .unshare(let b, _), .join(let b, _, _),
      .setHostname(let b, _), .setDomainname(let b, _):
      b
    }
  }

  /// A short kind name, for fault injection and error messages ("unshare", "sethostname").
  public var kindName: String {
    switch self {
    case .boxNew: "box-new"
    case .boxRemove: "box-rm"
    case .unshare: "unshare"
    case .join: "setns"
    case .setHostname: "sethostname"
    case .setDomainname: "setdomainname"
    }
  }
}

/// The combined flags of several namespace kinds, printed the way strace does: `CLONE_NEWUTS|CLONE_NEWIPC`.
public func cloneFlagsDescription(_ kinds: [NamespaceKind]) -> String {
  kinds.map(\.cloneFlagName).joined(separator: "|")
}
