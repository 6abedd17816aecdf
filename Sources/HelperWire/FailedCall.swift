/// The system call a helper names in an `err` reply: the one whose failure the errno is. A
/// closed list, as the verbs are: a name outside it is not a reply (HelperReply.init refuses it).
///
/// A step's plan entries go to the helper as a `calls` request (HelperCall.swift), and an entry
/// that fails is named by its position in that request (`call#N`): boxwalk knows which plan
/// entry it sent there, so the error carries that entry and no name is compared. The other
/// cases are the calls of the requests that only read (`facts`, `netdump`, `ifindex`), of the
/// helper's start, and of a request it could not decode, each as strace(1) and the man pages
/// spell it.
package enum FailedCall: Hashable, Sendable {
  /// The helper refused to start (its reply instead of hello).
  case start
  /// The request could not be decoded.
  case protocolError
  /// uname(2) of `facts`.
  case uname
  /// The netlink socket of `netdump` (rtnetlink(7)): socket(2), sendmsg(2) of the request,
  /// recvmsg(2) of the dump.
  case socket, sendmsg, recvmsg
  /// if_nametoindex(3) of `ifindex`.
  case ifNametoindex
  /// The call at this position of a `calls` request (HelperCall.swift): boxwalk knows which
  /// plan entry it sent it for.
  case planEntry(Int)

  /// The calls that are their name alone, each with it.
  private static let plain: [(FailedCall, String)] = [
    (.start, "start"), (.protocolError, "protocol"), (.uname, "uname"), (.socket, "socket"), (.sendmsg, "sendmsg"),
    (.recvmsg, "recvmsg"), (.ifNametoindex, "if_nametoindex"),
  ]

  /// Every call without an argument (for tests that walk them all).
  package static var plainCases: [FailedCall] { plain.map(\.0) }

  /// The call as the wire spells it, and as an error shows it outside a step.
  package var name: String {
    switch self {
    case .planEntry(let n): "call#\(n)"
    default: Self.plain.first { $0.0 == self }?.1 ?? ""
    }
  }

  /// The call `name` spells, or nil for a name outside the list.
  package init?(name: String) {
    if let found = Self.plain.first(where: { $0.1 == name }) {
      self = found.0
    } else if name.hasPrefix("call#"), let n = Int(name.dropFirst(5)), n >= 0 {
      self = .planEntry(n)
    } else {
      return nil
    }
  }
}
