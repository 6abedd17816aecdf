/// The namespace area's plan entries as the helper makes them (HelperCall.swift).
package enum NamespaceCall: Equatable, Sendable {
  /// unshare(2) with these CLONE_NEW* flags. With CLONE_NEWNS the helper's anchors move into the
  /// new namespace with it, and a later entry's failure moves the helper back into the
  /// namespaces it left (where the kernel allows it).
  case unshare(flags: UInt32)
  /// mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL): the make-private after unshare(CLONE_NEWNS)
  /// (Step.makeRootPrivate).
  case makeRootPrivate
  /// open(path, O_RDONLY|O_CLOEXEC) of a namespace file, then setns(2) with that fd and `nstype`.
  case setns(path: [UInt8], nstype: UInt32)
  /// sethostname(2) in the helper's UTS namespace. The name is bytes, as the kernel keeps it.
  case sethostname([UInt8])
  /// setdomainname(2), likewise.
  case setdomainname([UInt8])
  /// msgget(2) / shmget(2) / semget(2) with IPC_CREAT|IPC_EXCL; answered with the object's id
  /// (IPCCreated).
  case sysvGet(kind: HelperRequest.IPCKind, key: Int32)
  /// mq_open(3) with O_CREAT|O_EXCL; answered with the queue's inode (QueueCreated).
  case mqOpen(name: [UInt8])
  /// setresuid(2) or setresgid(2) to 0, all three IDs, after boxwalk wrote the map.
  case becomeRoot(IDKind)

  /// Which IDs `becomeRoot` sets.
  package enum IDKind: String, CaseIterable, Sendable {
    case uid, gid
  }

  /// The entry's fields: its name, then its arguments.
  package var fields: [[UInt8]] {
    switch self {
    case .unshare(let flags): [Framing.text("unshare"), Framing.number(flags)]
    case .makeRootPrivate: [Framing.text("make-root-private")]
    case .setns(let path, let nstype): [Framing.text("setns"), path, Framing.number(nstype)]
    case .sethostname(let name): [Framing.text("sethostname"), name]
    case .setdomainname(let name): [Framing.text("setdomainname"), name]
    case .sysvGet(let kind, let key): [Framing.text("sysvget"), Framing.text(kind.rawValue), Framing.number(key)]
    case .mqOpen(let name): [Framing.text("mq_open"), name]
    case .becomeRoot(let kind): [Framing.text("become-root"), Framing.text(kind.rawValue)]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    switch (name, args.count) {
    case ("unshare", 1):
      guard let flags = Framing.integer(args[0], as: UInt32.self) else { return nil }
      self = .unshare(flags: flags)
    case ("make-root-private", 0): self = .makeRootPrivate
    case ("setns", 2):
      guard let nstype = Framing.integer(args[1], as: UInt32.self) else { return nil }
      self = .setns(path: args[0], nstype: nstype)
    case ("sethostname", 1): self = .sethostname(args[0])
    case ("setdomainname", 1): self = .setdomainname(args[0])
    case ("sysvget", 2):
      guard let kind = HelperRequest.IPCKind(rawValue: Framing.string(args[0])),
        let key = Framing.integer(args[1], as: Int32.self)
      else { return nil }
      self = .sysvGet(kind: kind, key: key)
    case ("mq_open", 1): self = .mqOpen(name: args[0])
    case ("become-root", 1):
      guard let kind = IDKind(rawValue: Framing.string(args[0])) else { return nil }
      self = .becomeRoot(kind)
    default: return nil
    }
  }
}
