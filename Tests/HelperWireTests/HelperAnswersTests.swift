import HelperWire
import Testing

/// Each verb's `ok` reply is a type: the helper writes it from typed values, boxwalk reads typed
/// values back, and the bytes between them are the protocol's (HelperProtocol.swift's header).
@Suite struct HelperAnswersTests {
  static func words(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

  /// Every answer survives the wire: encoded as a reply, decoded, read back as its own type.
  func roundTrips<A: HelperAnswer>(_ answer: A) throws {
    let bytes = try #require(HelperReply.answer(answer).encoded())
    let reply = try #require(HelperReply(fields: try Framing.decode(bytes)))
    #expect(reply.answer(as: A.self) == answer)
  }

  @Test func everyAnswerRoundTrips() throws {
    try roundTrips(Done())
    try roundTrips(
      BoxView(
        nodename: Array("lab-box".utf8), domainname: Array("(none)".utf8), initAlive: true,
        ipc: [.init(kind: .shm, key: 42), .init(kind: .sem, key: -1)], queues: ["/jobs", "/q 2"]))
    try roundTrips(BoxView(nodename: [0xff], domainname: [], initAlive: false, ipc: [], queues: []))
    try roundTrips(Started(hostPID: 4242, boxPID: 1))
    try roundTrips(ProgramEnd.exited(3))
    try roundTrips(ProgramEnd.signaled(9))
    try roundTrips(IPCCreated(id: 32768))
    try roundTrips(QueueCreated(inode: 1 << 40))
    try roundTrips(StressOutcome(status: 0x0900, started: 12, refused: 3))
    try roundTrips(NetworkDump(text: "link lo 1 up\n"))
    try roundTrips(LinkIndex(index: 7))
    try roundTrips(EchoOutcome.silence)
    try roundTrips(ExchangeResult.refused)
    try roundTrips(ExchangeResult.answered("hello from 203.0.113.2"))
    try roundTrips(ToolRun(end: .exited(1), output: Array("Error: no such table\n".utf8)))
    try roundTrips(AnchorDescriptors(scratch: 5, store: -1))
  }

  /// The fields are the protocol's text, unchanged from when each end picked them by position: a
  /// helper and a boxwalk of the same version read each other.
  @Test func theFieldsAreTheProtocolsText() {
    #expect(ProgramEnd.exited(0).fields == Self.words("exited", "0"))
    #expect(ProgramEnd.signaled(9).fields == Self.words("signaled", "9"))
    #expect(Started(hostPID: 10, boxPID: 1).fields == Self.words("10", "1"))
    #expect(StressOutcome(status: 9, started: 0, refused: 0).fields == Self.words("9", "0", "0"))
    #expect(
      BoxView(
        nodename: Array("web".utf8), domainname: Array("(none)".utf8), initAlive: false,
        ipc: [.init(kind: .mq, key: 1), .init(kind: .shm, key: 2)], queues: ["/a", "/b"]
      ).fields == Self.words("web", "(none)", "0", "mq 1\nshm 2", "/a\n/b"))
    #expect(ExchangeResult.timeout.fields == Self.words("timeout", "-"))
    #expect(EchoOutcome.reply.fields == Self.words("reply"))
    #expect(ToolRun(end: .exited(0), output: []).fields == Self.words("exited", "0", ""))
    #expect(Done().fields.isEmpty)
  }

  /// wait(2)'s status, read as WIFEXITED/WEXITSTATUS and WTERMSIG would.
  @Test func aWaitStatusIsAnExitOrASignal() {
    #expect(ProgramEnd(waitStatus: 0) == .exited(0))
    #expect(ProgramEnd(waitStatus: 3 << 8) == .exited(3))
    #expect(ProgramEnd(waitStatus: 9) == .signaled(9))
    #expect(ProgramEnd(waitStatus: 0x80 | 11) == .signaled(11))  // with the core-dump bit
  }

  /// Fields that are not the answer are not read as one: a wrong count, a number that is not
  /// one, a word outside the answer's few.
  @Test func fieldsThatAreNotTheAnswerAreRefused() {
    #expect(Done(fields: Self.words("x")) == nil)
    #expect(Started(fields: Self.words("10")) == nil)
    #expect(Started(fields: Self.words("10", "one")) == nil)
    #expect(ProgramEnd(fields: Self.words("stopped", "19")) == nil)
    #expect(ProgramEnd(fields: Self.words("exited")) == nil)
    #expect(IPCCreated(fields: Self.words("-")) == nil)
    #expect(QueueCreated(fields: Self.words("-1")) == nil)
    #expect(StressOutcome(fields: Self.words("0", "1")) == nil)
    #expect(LinkIndex(fields: Self.words("0")) == nil)
    #expect(EchoOutcome(fields: Self.words("maybe")) == nil)
    #expect(ExchangeResult(fields: Self.words("connected", "now")) == nil)
    #expect(ToolRun(fields: Self.words("exited", "0")) == nil)
    #expect(AnchorDescriptors(fields: Self.words("3")) == nil)
    #expect(BoxView(fields: Self.words("web", "(none)", "yes", "", "")) == nil)
    #expect(BoxView(fields: Self.words("web", "(none)", "1", "msg 1", "")) == nil)
    #expect(BoxView(fields: Self.words("web", "(none)", "1", "", "")) != nil)
    // Only an `ok` reply carries an answer.
    #expect(HelperReply.err(errno: 1, call: .planEntry(0), note: nil).answer(as: Done.self) == nil)
    #expect(HelperReply.out([]).answer(as: Done.self) == nil)
  }
}
