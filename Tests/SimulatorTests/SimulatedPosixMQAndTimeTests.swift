import Kernel
import Simulator
import Testing

/// POSIX message queues and time namespaces in the simulator, with the errnos glibc and Linux
/// 6.18 gave for the same calls (checked with a C program and with boxwalk's real backend).
@Suite struct SimulatedPosixMQAndTimeTests {
  func kernel(_ steps: Step...) throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for s in steps { try k.perform(s) }
    return k
  }

  @Test(arguments: [
    ("jobs", Errno.EINVAL), ("/", .ENOENT), ("/a/b", .EACCES), ("/.", .EACCES), ("/..", .EACCES),
    ("/" + String(repeating: "q", count: 256), .ENAMETOOLONG),
  ])
  func aQueueNameIsOneFileNameAfterItsSlash(_ name: String, _ expected: Errno) throws {
    let k = try kernel(.process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.ipc])))
    #expect(errno(k, .namespace(.posixMQNew(box: "a", name: name))) == expected)
    #expect(try k.facts().box("a")?.process.posixMQ == [])
  }

  @Test func aQueueLivesInItsIPCNamespace() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.posixMQNew(box: "web", name: "/jobs")))
    #expect(errno(k, .namespace(.posixMQNew(box: "web", name: "/jobs"))) == .EEXIST)
    #expect(try k.facts().host.posixMQ == ["/jobs"])
    try k.perform(.process(.boxNew(box: "db")))
    try k.perform(.namespace(.unshare(box: "db", kinds: [.ipc])))
    #expect(try k.facts().box("db")?.process.posixMQ == [])
    try k.perform(.namespace(.posixMQNew(box: "db", name: "/jobs")))
    try k.perform(.namespace(.posixMQNew(box: "db", name: "/a" + String(repeating: "q", count: 254))))
    #expect(try k.facts().box("db")?.process.posixMQ.count == 2)
    #expect(try k.facts().host.posixMQ == ["/jobs"])
    // The host's queues go at teardown, as boxwalk removes them.
    k.teardown()
    #expect(try k.facts().host.posixMQ == [])
  }

  @Test func mountingMqueueNeedsCapabilitiesOverTheIPCNamespace() throws {
    // ipc first, user second: the host's user namespace owns the box's IPC namespace.
    let k = try kernel(
      .process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.ipc])),
      .namespace(.unshare(box: "a", kinds: [.user, .mnt])))
    #expect(errno(k, .mount(.mount(box: "a", request: .mqueue(path: "/mnt")))) == .EPERM)
    try k.perform(.namespace(.unshare(box: "a", kinds: [.ipc])))
    #expect(errno(k, .mount(.mount(box: "a", request: .mqueue(path: "/mnt")))) == nil)
  }

  @Test func clockOffsetsAreFrozenOnceAProcessEntered() throws {
    let k = try kernel(.process(.boxNew(box: "a")))
    // The host's time namespace has had processes since boot.
    #expect(errno(k, .namespace(.clockOffset(box: "a", clock: .boottime, seconds: 5))) == .EACCES)
    try k.perform(.namespace(.unshare(box: "a", kinds: [.time])))
    try k.perform(.namespace(.clockOffset(box: "a", clock: .boottime, seconds: 86400)))
    try k.perform(.namespace(.clockOffset(box: "a", clock: .monotonic, seconds: 60)))
    try k.perform(.namespace(.clockOffset(box: "a", clock: .monotonic, seconds: 61)))
    #expect(try k.facts().box("a")?.process.clockOffsets == ClockOffsets(monotonic: 61, boottime: 86400))
    #expect(errno(k, .namespace(.clockOffset(box: "a", clock: .boottime, seconds: -1))) == .ERANGE)
    try k.perform(.process(.run(box: "a", argv: ["true"], background: false)))
    #expect(errno(k, .namespace(.clockOffset(box: "a", clock: .boottime, seconds: 5))) == .EACCES)
    #expect(try k.facts().box("a")?.process.clockOffsets == ClockOffsets(monotonic: 61, boottime: 86400))
  }

  @Test func joiningATimeNamespaceFreezesIt() throws {
    let k = try kernel(
      .process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.time])), .process(.boxNew(box: "b")))
    try k.perform(.namespace(.join(box: "b", kind: .time, target: "a")))
    #expect(errno(k, .namespace(.clockOffset(box: "a", clock: .monotonic, seconds: 5))) == .EACCES)
  }

  @Test func timensOffsetsParseAsTheKernelPrintsThem() {
    #expect(
      ClockOffsets.parse("monotonic           5         0\nboottime   1000000000         0\n")
        == ClockOffsets(monotonic: 5, boottime: 1_000_000_000))
    #expect(ClockOffsets.parse("1 7 0\n7 -3 0\n") == ClockOffsets(monotonic: 7, boottime: -3))
    #expect(ClockOffsets.parse("") == ClockOffsets())
  }
}
