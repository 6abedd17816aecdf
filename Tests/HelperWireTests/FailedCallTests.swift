import Testing

@testable import HelperWire

/// The failing call of an `err` reply: a closed list, written on the wire as the call's name.
@Suite struct FailedCallTests {
  static func words(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

  static let calls: [FailedCall] =
    FailedCall.plainCases + [
      .openat2(.target), .openat2(.source), .planEntry(0), .planEntry(27),
    ]

  @Test(arguments: calls)
  func aCallIsItsNameAndBack(_ call: FailedCall) throws {
    #expect(FailedCall(name: call.name) == call)
    let bytes = try #require(HelperReply.err(errno: 1, call: call, note: nil).encoded())
    #expect(HelperReply(fields: try Framing.decode(bytes)) == .err(errno: 1, call: call, note: nil))
  }

  @Test func theNamesAreTheSystemCallsOwn() {
    #expect(FailedCall.sethostname.name == "sethostname")
    #expect(FailedCall.openat2(.source).name == "openat2(source)")
    #expect(FailedCall.planEntry(3).name == "call#3")
    #expect(Set(Self.calls.map(\.name)).count == Self.calls.count)
  }

  /// A call outside the list is the helper out of protocol, as an unknown verb is: the reply
  /// does not decode, rather than name a call boxwalk would have to guess the entry of.
  @Test func anErrNamingNoKnownCallIsNotAReply() {
    // The mount steps' calls name their position in a `calls` request, not the call.
    for name in [
      "bogus", "", "call#", "call#x", "call#-1", "openat2(elsewhere)", "fsconfig(upperdir)", "Mount", "pivot_root",
    ] {
      #expect(HelperReply(fields: Self.words("err", "1", name)) == nil, "\(name)")
    }
    #expect(HelperReply(fields: Self.words("err", "1", "mount")) == .err(errno: 1, call: .mount, note: nil))
  }
}
