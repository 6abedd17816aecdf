/// The namespace area's plan entries as the helper makes them (HelperCall.swift).
package enum NamespaceCall: Equatable, Sendable {
  /// sethostname(2) in the helper's UTS namespace. The name is bytes, as the kernel keeps it.
  case sethostname([UInt8])
  /// setdomainname(2), likewise.
  case setdomainname([UInt8])

  /// The entry's fields: its name, then its arguments.
  package var fields: [[UInt8]] {
    switch self {
    case .sethostname(let name): [Framing.text("sethostname"), name]
    case .setdomainname(let name): [Framing.text("setdomainname"), name]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    switch (name, args.count) {
    case ("sethostname", 1): self = .sethostname(args[0])
    case ("setdomainname", 1): self = .setdomainname(args[0])
    default: return nil
    }
  }
}
