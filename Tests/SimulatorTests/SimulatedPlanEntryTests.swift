import Kernel
import Simulator
import Testing

/// The simulator makes a step's plan entry by entry, as the real kernel does: a step that fails
/// at a later entry names that entry, and what the entries before it changed stays changed.
@Suite struct SimulatedPlanEntryTests {
  func userBox() throws -> SimulatedKernel {
    let k = SimulatedKernel()
    try k.perform(.process(.boxNew(box: "web")))
    try k.perform(.namespace(.unshare(box: "web", kinds: [.user])))
    return k
  }

  /// `map gid` is [deny setgroups, write gid_map, setresgid]: a range the parent does not map
  /// fails at the gid_map write, the second entry, and the "deny" before it stays written.
  @Test func aRefusedGidMapNamesTheMapWriteAndKeepsTheSetgroupsDeny() throws {
    let k = try userBox()
    let range = IDMapRange(inside: 0, outside: 4_294_000_000, count: 1_000_000)
    let error = try #require(failure(k, .namespace(.map(box: "web", kind: .gid, range: range))))
    #expect(error.errno == .EPERM)
    #expect(error.failed == .writeIDMap(box: "web", kind: .gid, range: range))
    #expect(try k.facts().box("web")?.process.user.setgroupsAllowed == false)
  }

  /// A second gid map fails one entry earlier: setgroups can no longer be written once gid_map
  /// has been. So does a gid map of the host's user namespace, whose gid_map is always written.
  @Test func aGidMapOfANamespaceWithOneFailsAtTheSetgroupsWrite() throws {
    let k = try userBox()
    let range = IDMapRange(inside: 0, outside: 100_000, count: 65536)
    try k.perform(.namespace(.map(box: "web", kind: .gid, range: range)))
    let again = try #require(failure(k, .namespace(.map(box: "web", kind: .gid, range: range))))
    #expect(again.failed == .denySetgroups(box: "web"))
    try k.perform(.process(.boxNew(box: "db")))
    let host = try #require(failure(k, .namespace(.map(box: "db", kind: .gid, range: range))))
    #expect(host.errno == .EPERM)
    #expect(host.failed == .denySetgroups(box: "db"))
  }

  /// The uid map and the setresuid(2) after it are two entries: the box is uid 0 inside only
  /// when both were made.
  @Test func aUidMapOfZeroMakesTheBoxRootInside() throws {
    let k = try userBox()
    #expect(try k.facts().box("web")?.process.user.uid == 65534)
    try k.perform(.namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 1000, count: 1))))
    #expect(try k.facts().box("web")?.process.user.uid == 0)
    #expect(try k.facts().box("web")?.process.user.hostUID == 1000)
  }

  /// `cgroup new` is [mkdir, open cgroup.procs]: a box that switched to another host uid cannot
  /// open the file (EACCES at the second entry), and boxwalk removes the directory the first
  /// made, so a second try fails the same way, never with EEXIST.
  @Test func aCgroupTheBoxCannotOpenIsRemovedAgain() throws {
    let k = try userBox()
    try k.perform(.namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 100_000, count: 1))))
    for _ in 0..<2 {
      let error = try #require(failure(k, .cgroup(.cgroupNew(box: "web"))))
      #expect(error.errno == .EACCES)
      #expect(error.failed == .openCgroupProcs(box: "web"))
      #expect(try k.facts().box("web")?.process.cgroup == nil)
    }
  }

  /// `stress` is [fork, enter the cgroup, the work]: past pids.max the fork is refused (EAGAIN,
  /// the first entry), and nothing after it runs.
  @Test func aStressPastPidsMaxFailsAtItsFork() throws {
    let k = SimulatedKernel()
    try k.perform(.process(.boxNew(box: "web")))
    try k.perform(.cgroup(.cgroupNew(box: "web")))
    try k.perform(.cgroup(.cgroupSet(box: "web", setting: try CgroupSetting.parse(key: "pids.max", value: "0"))))
    let error = try #require(failure(k, .cgroup(.stress(box: "web", kind: .cpu(milliseconds: 10)))))
    #expect(error.errno == .EAGAIN)
    #expect(error.failed == .fork)
  }
}
