/// The system call a helper names in an `err` reply: the one whose failure the errno is. A
/// closed list, as the verbs and kinds are: a name outside it is not a reply (HelperReply.init
/// refuses it), and LinuxBackend turns each case into the entry of the step's plan the error
/// points at without comparing any text (LinuxKernel.entry(_:failed:)).
///
/// On the wire each case is the call's own name, as strace(1) and the man pages spell it
/// (`sethostname`, `mq_open`), with what it was for where one request makes several of a name
/// (`openat2(source)`), or, for a `calls` request, the position of the failing call in it
/// (`call#N`).
package enum FailedCall: Hashable, Sendable {
  /// The helper refused to start (its reply instead of hello).
  case start
  /// The request could not be decoded.
  case protocolError
  // Namespaces (namespaces(7), user_namespaces(7)).
  case unshare
  /// mount(2) with a propagation flag: the make-private after unshare(CLONE_NEWNS), a
  /// `propagation` request, the make-private before pivot_root(2).
  case mount
  /// open(2) of a /proc file (before its write(2)).
  case open
  case sethostname, setdomainname
  // Processes.
  case fork, uname
  /// write(2) of a /proc or cgroup file.
  case write
  // The mount steps go as `calls` (MountCall), which name their entry by position.
  /// openat2(2) of a box path: of what the request names, when it names several.
  case openat2(OpenedFor?)
  // Networking (rtnetlink(7), socket(2), ip(7)).
  case sendmsg, recvmsg, socket, ifNametoindex
  /// The call at this position of a `calls` request (HelperCall.swift): boxwalk knows which
  /// plan entry it sent it for.
  case planEntry(Int)

  /// Which path of a `mount` request an openat2(2) opened.
  package enum OpenedFor: String, Hashable, Sendable {
    case target, source
  }

  /// The calls that are their name alone, each with it.
  private static let plain: [(FailedCall, String)] = [
    (.start, "start"), (.protocolError, "protocol"), (.unshare, "unshare"), (.mount, "mount"), (.open, "open"),
    (.sethostname, "sethostname"), (.setdomainname, "setdomainname"), (.fork, "fork"), (.uname, "uname"),
    (.write, "write"), (.openat2(nil), "openat2"), (.sendmsg, "sendmsg"), (.recvmsg, "recvmsg"), (.socket, "socket"),
    (.ifNametoindex, "if_nametoindex"),
  ]

  /// Every call without an argument (for tests that walk them all).
  package static var plainCases: [FailedCall] { plain.map(\.0) }

  /// The call as the wire spells it, and as an error shows it outside a step.
  package var name: String {
    switch self {
    case .openat2(let what?): "openat2(\(what.rawValue))"
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
    } else if let inner = Self.argument(of: "openat2", in: name), let what = OpenedFor(rawValue: inner) {
      self = .openat2(what)
    } else {
      return nil
    }
  }

  /// `ARG` of "FUNCTION(ARG)", or nil when `name` is not that shape.
  private static func argument(of function: String, in name: String) -> String? {
    guard name.hasPrefix(function + "("), name.hasSuffix(")") else { return nil }
    return String(name.dropFirst(function.count + 1).dropLast())
  }
}
