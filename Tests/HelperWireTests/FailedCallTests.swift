import Testing

@testable import HelperWire

/// The failing call of an `err` reply: a closed list, written on the wire as the call's name.
@Suite struct FailedCallTests {
  static func words(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

  static let calls: [FailedCall] =
    FailedCall.plainCases + [
      .planEntry(0), .planEntry(27),
    ]

  @Test(arguments: calls)
  func aCallIsItsNameAndBack(_ call: FailedCall) throws {
    #expect(FailedCall(name: call.name) == call)
    let bytes = try #require(HelperReply.err(errno: 1, call: call, note: nil).encoded())
    #expect(HelperReply(fields: try Framing.decode(bytes)) == .err(errno: 1, call: call, note: nil))
  }

  @Test func theNamesAreTheSystemCallsOwn() {
    #expect(FailedCall.ifNametoindex.name == "if_nametoindex")
    #expect(FailedCall.planEntry(3).name == "call#3")
    #expect(Set(Self.calls.map(\.name)).count == Self.calls.count)
  }

  /// A call outside the list is the helper out of protocol, as an unknown verb is: the reply
  /// does not decode, rather than name a call boxwalk would have to guess the entry of.
  @Test func anErrNamingNoKnownCallIsNotAReply() {
    // A step's entries name their position in a `calls` request, never the call: the names of
    // the calls a plan makes are not replies.
    for name in [
      "bogus", "", "call#", "call#x", "call#-1", "openat2(target)", "fsconfig(upperdir)", "mount", "pivot_root",
      "sethostname", "unshare", "write",
    ] {
      #expect(HelperReply(fields: Self.words("err", "1", name)) == nil, "\(name)")
    }
    #expect(HelperReply(fields: Self.words("err", "1", "call#4")) == .err(errno: 1, call: .planEntry(4), note: nil))
  }
}
