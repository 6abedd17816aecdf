import Kernel
import Simulator
import Testing

/// `BOX.pid.proc` and `BOX.user.setgroups` in the simulator (docs/state-paths.md), as the real
/// backend reads them (LinuxKernelTests checks the same sessions on the kernel).
@Suite struct SimulatedProcAndSetgroupsTests {
  func kernel(_ steps: Step...) throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for s in steps { try k.perform(s) }
    return k
  }

  func box(_ k: SimulatedKernel, _ name: String = "web") throws -> ProcessFacts {
    try #require(try k.facts().box(name)?.process)
  }

  /// A box sees the host's /proc until its root has a proc mounted for its own pid namespace:
  /// `unshare pid` alone changes nothing, nor does a proc mounted in a root not entered yet.
  @Test func procShowsTheHostsNamespaceUntilTheBoxMountsItsOwnAndEntersIt() throws {
    let k = try kernel(.process(.boxNew(box: "web")))
    let hostPID = try k.facts().host.namespaces[.pid]
    #expect(try box(k).procPIDNamespace == hostPID)
    try k.perform(.namespace(.unshare(box: "web", kinds: [.mnt, .pid, .ipc])))
    let own = try box(k).namespaces[.pid]
    #expect(own != hostPID)
    #expect(try box(k).procPIDNamespace == hostPID)
    try k.perform(.layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])))
    try k.perform(.mount(.mount(box: "web", request: .proc(path: "/proc"))))
    #expect(try box(k).procPIDNamespace == hostPID)
    try k.perform(.mount(.pivotRoot(box: "web")))
    #expect(try box(k).procPIDNamespace == own)
    // Still the same namespace once it has processes, and after its PID 1 died.
    try k.perform(.process(.run(box: "web", argv: ["sleep", "1000"], background: true)))
    #expect(try box(k).procPIDNamespace == own)
    try k.perform(.process(.kill(box: "web", pid: 1)))
    #expect(try box(k).procPIDNamespace == own)
  }

  /// Mounted over the host's /proc while the box still has the host's root, it shows at once.
  @Test func procMountedOnTheHostsTreeShowsAtOnce() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt, .pid])))
    try k.perform(.mount(.mount(box: "web", request: .proc(path: "/proc"))))
    #expect(try box(k).procPIDNamespace == box(k).namespaces[.pid])
    try k.perform(.mount(.umount(box: "web", path: "/proc")))
    #expect(try box(k).procPIDNamespace == k.facts().host.namespaces[.pid])
  }

  /// A root filesystem with nothing at /proc, or another file system over it, has no proc there.
  @Test func noProcInARootWithoutOne() throws {
    let k = try kernel(
      .process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt, .pid])),
      .layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])), .mount(.pivotRoot(box: "web")))
    #expect(try box(k).procPIDNamespace == nil)
    try k.perform(.mount(.mount(box: "web", request: .proc(path: "/proc"))))
    #expect(try box(k).procPIDNamespace == box(k).namespaces[.pid])
    try k.perform(.mount(.mount(box: "web", request: .tmpfs(path: "/proc"))))
    #expect(try box(k).procPIDNamespace == nil)
  }

  /// A bind mount shows the proc its source showed: the host's /proc, or the box's own.
  @Test func aBindOfAProcShowsItsNamespace() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt, .pid])))
    let hostPID = try k.facts().host.namespaces[.pid]
    try k.perform(.mount(.mount(box: "web", request: .bind(source: "/proc", target: "/mnt"))))
    try k.perform(.mount(.mount(box: "web", request: .tmpfs(path: "/proc"))))
    #expect(try box(k).procPIDNamespace == nil)
    try k.perform(.mount(.mount(box: "web", request: .bind(source: "/mnt", target: "/proc"))))
    #expect(try box(k).procPIDNamespace == hostPID)
    try k.perform(.mount(.mount(box: "web", request: .proc(path: "/srv"))))
    try k.perform(.mount(.mount(box: "web", request: .bind(source: "/srv", target: "/proc"))))
    #expect(try box(k).procPIDNamespace == box(k).namespaces[.pid])
  }

  /// The tree shows labels: the host's pid:0 first, the box's own once it sees it, "none" without.
  @Test func theTreeShowsALabelOrNone() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.mnt, .pid])))
    var builder = StateTreeBuilder()
    #expect(builder.build(try k.facts())["web"]?["pid"]?["proc"] == .string("pid:0"))
    try k.perform(.mount(.mount(box: "web", request: .proc(path: "/proc"))))
    #expect(builder.build(try k.facts())["web"]?["pid"]?["proc"] == .string("pid:1"))
    try k.perform(.mount(.mount(box: "web", request: .tmpfs(path: "/proc"))))
    #expect(builder.build(try k.facts())["web"]?["pid"]?["proc"] == .string("none"))
  }

  /// setgroups is "allow" until `map gid` writes "deny" first; a refused gid map leaves it
  /// denied all the same, and a new user namespace starts with its parent's value.
  @Test func setgroupsIsDeniedBeforeTheGidMapAndInherited() throws {
    let k = try kernel(.process(.boxNew(box: "web")))
    #expect(try k.facts().host.user.setgroupsAllowed)
    #expect(try box(k).user.setgroupsAllowed)
    try k.perform(.namespace(.unshare(box: "web", kinds: [.user])))
    #expect(try box(k).user.setgroupsAllowed)
    try k.perform(.namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 100000, count: 65536))))
    #expect(try box(k).user.setgroupsAllowed)
    try k.perform(.namespace(.map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 100000, count: 65536))))
    #expect(try !box(k).user.setgroupsAllowed)
    #expect(try k.facts().host.user.setgroupsAllowed)
    // A user namespace made inside web's starts denied.
    try k.perform(.namespace(.unshare(box: "web", kinds: [.user])))
    #expect(try !box(k).user.setgroupsAllowed)

    let refused = try kernel(.process(.boxNew(box: "db")), .namespace(.unshare(box: "db", kinds: [.user])))
    let outOfRange = IDMapRange(inside: 0, outside: 4_294_000_000, count: 1_000_000)
    #expect(errno(refused, .namespace(.map(box: "db", kind: .gid, range: outOfRange))) == .EPERM)
    #expect(try !box(refused, "db").user.setgroupsAllowed)
  }

  @Test func theTreeShowsAllowOrDeny() throws {
    let k = try kernel(.process(.boxNew(box: "web")), .namespace(.unshare(box: "web", kinds: [.user])))
    var builder = StateTreeBuilder()
    #expect(builder.build(try k.facts())["web"]?["user"]?["setgroups"] == .string("allow"))
    try k.perform(.namespace(.map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 100000, count: 65536))))
    #expect(builder.build(try k.facts())["web"]?["user"]?["setgroups"] == .string("deny"))
    #expect(builder.build(try k.facts())["host"]?["user"]?["setgroups"] == .string("allow"))
  }
}
