import Kernel
import Simulator
import Testing

/// Rules of the kernel the differential tester found the simulator breaking, each checked on the
/// real kernel first (transcripts/regressions/ replays the same sessions on both backends).
@Suite struct SimulatedKernelRulesTests {
  func kernel(_ steps: Step...) throws -> SimulatedKernel {
    let k = SimulatedKernel()
    for s in steps { try k.perform(s) }
    return k
  }

  @Test func aMountNeedsCapabilitiesInTheUserNamespaceThatOwnsTheMountNamespace() throws {
    // mnt first, user second: the host's user namespace owns the box's mounts.
    let k = try kernel(
      .process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.mnt])),
      .namespace(.unshare(box: "a", kinds: [.user])))
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/mnt")))) == .EPERM)
    #expect(errno(k, .mount(.mount(box: "a", request: .proc(path: "/proc")))) == .EPERM)
    #expect(errno(k, .mount(.propagation(box: "a", mode: .shared))) == .EPERM)
    #expect(errno(k, .layer(.overlay(box: "a", names: ["busybox"], layers: ["busybox"]))) == .EPERM)
    // Both at once: the new user namespace owns the new mount namespace.
    let owned = try kernel(.process(.boxNew(box: "b")), .namespace(.unshare(box: "b", kinds: [.user, .mnt])))
    #expect(errno(owned, .mount(.mount(box: "b", request: .tmpfs(path: "/mnt")))) == nil)
    // ... but not the host's pid and network namespaces, which proc and sysfs would show.
    #expect(errno(owned, .mount(.mount(box: "b", request: .proc(path: "/proc")))) == .EPERM)
    #expect(errno(owned, .mount(.mount(box: "b", request: .sysfs(path: "/sys")))) == .EPERM)
  }

  @Test func overlayInAUserNamespaceNeedsBothIDsMapped() throws {
    let k = try kernel(
      .process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.user, .mnt])),
      .namespace(.map(box: "a", kind: .uid, range: IDMapRange(inside: 0, outside: 0, count: 1))))
    let step = Step.layer(.overlay(box: "a", names: ["busybox"], layers: ["busybox"]))
    #expect(errno(k, step) == .EACCES)
    try k.perform(.namespace(.map(box: "a", kind: .gid, range: IDMapRange(inside: 0, outside: 0, count: 1))))
    #expect(errno(k, step) == nil)
  }

  @Test func unshareUserIsRefusedWithAnUnmappedIDOrInAChroot() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.user])))
    #expect(errno(k, .namespace(.unshare(box: "a", kinds: [.user]))) == .EPERM)
    let c = try kernel(
      .process(.boxNew(box: "c")), .namespace(.unshare(box: "c", kinds: [.mnt])),
      .layer(.overlay(box: "c", names: ["busybox"], layers: ["busybox"])),
      .mount(.chroot(box: "c")))
    #expect(errno(c, .namespace(.unshare(box: "c", kinds: [.user]))) == .EPERM)
  }

  /// mount(2) said EBUSY for the same sysfs on top of itself; move_mount(2), which the helper
  /// attaches with, does not (regressions/01 shows it on the real kernel).
  @Test func sysfsOnTopOfTheSameSysfsIsAllowedByMoveMount() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.mnt])))
    #expect(errno(k, .mount(.mount(box: "a", request: .sysfs(path: "/sys")))) == nil)
    #expect(errno(k, .mount(.mount(box: "a", request: .sysfs(path: "/mnt")))) == nil)
    try k.perform(.namespace(.unshare(box: "a", kinds: [.net])))
    #expect(errno(k, .mount(.mount(box: "a", request: .sysfs(path: "/sys")))) == nil)
  }

  /// The helper opens every mount path with O_DIRECTORY (openat2), so a file is ENOTDIR for each
  /// kind, a bind of a file included (regressions/06 shows it on the real kernel).
  @Test func aDirectoryMountsOnlyOnADirectory() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.mnt])))
    #expect(errno(k, .mount(.mount(box: "a", request: .tmpfs(path: "/etc/hostname")))) == .ENOTDIR)
    #expect(errno(k, .mount(.mount(box: "a", request: .proc(path: "/etc/hostname")))) == .ENOTDIR)
    #expect(
      errno(k, .mount(.mount(box: "a", request: .bind(source: "/etc/hostname", target: "/etc/passwd")))) == .ENOTDIR)
  }

  @Test func loGets127001EveryTimeItComesUpAndFirst() throws {
    let k = try kernel(.process(.boxNew(box: "a")), .namespace(.unshare(box: "a", kinds: [.net])))
    let lo = NetLinkRef(.host, "lo")
    try k.perform(.net(.netAddr(link: lo, cidr: try #require(IPv4CIDR("10.0.1.1/24")))))
    try k.perform(.net(.netState(link: lo, up: true)))
    let addrs = try k.facts().host.net?.links.first { $0.name == "lo" }?.addrs.map(\.description)
    #expect(addrs == ["127.0.0.1/8", "10.0.1.1/24"])
  }

  @Test func nothingListensForARegistryServer() throws {
    let k = try kernel(.process(.boxNew(box: "a")))
    let ref = try RegistryRef.parse("localhost:5000/site:v1").get()
    #expect(errno(k, .layer(.imagePull(ref: ref))) == .ECONNREFUSED)
  }

  @Test func localhostAnd127001AreOneRegistryServer() throws {
    let k = try kernel(.process(.boxNew(box: "a")))
    k.registryListens = { $0 == 5000 }
    let image = try ImageName.parse("busybox").get()
    try k.perform(.layer(.imagePush(image: image, ref: try RegistryRef.parse("localhost:5000/bb:v1").get())))
    #expect(errno(k, .layer(.imagePull(ref: try RegistryRef.parse("127.0.0.1:5000/bb:v1").get()))) == nil)
    #expect(errno(k, .layer(.imagePull(ref: try RegistryRef.parse("127.0.0.1:5001/bb:v1").get()))) == .ECONNREFUSED)
  }

  /// A box behind a veth with `hostCIDR` on the host end and `boxCIDR` on eth0, both up.
  func wire(_ k: SimulatedKernel, _ box: String, host hostCIDR: String, box boxCIDR: String) throws {
    try k.perform(.process(.boxNew(box: box)))
    try k.perform(.namespace(.unshare(box: box, kinds: [.net])))
    try k.perform(.net(.netVeth(box: box, hostLink: "veth-\(box)", boxLink: "eth0")))
    for (link, cidr) in [(NetLinkRef(.host, "veth-\(box)"), hostCIDR), (NetLinkRef(.box(box), "eth0"), boxCIDR)] {
      try k.perform(.net(.netAddr(link: link, cidr: try #require(IPv4CIDR(cidr)))))
      try k.perform(.net(.netState(link: link, up: true)))
    }
  }

  func reachable(_ k: SimulatedKernel, from side: NetSide, _ address: String) throws -> Bool? {
    try k.perform(.net(.ping(from: side, address: try #require(IPv4Address(address))))).ping?.reachable
  }

  @Test func ofTwoRoutesToOneSubnetTheOneMadeFirstWins() throws {
    let k = SimulatedKernel()
    try wire(k, "web", host: "10.0.1.1/24", box: "10.0.1.2/24")
    try wire(k, "db", host: "10.0.1.1/24", box: "10.0.1.3/24")
    #expect(try reachable(k, from: .host, "10.0.1.2") == true)
    #expect(try reachable(k, from: .host, "10.0.1.3") == false)
    #expect(try reachable(k, from: .box("db"), "10.0.1.1") == false)
  }

  @Test func anAddressOnLoMakesItsPrefixLocalOnlyWhileLoIsUp() throws {
    let k = SimulatedKernel()
    try k.perform(.process(.boxNew(box: "x")))
    try k.perform(.namespace(.unshare(box: "x", kinds: [.net])))
    try k.perform(.net(.netAddr(link: NetLinkRef(.host, "lo"), cidr: try #require(IPv4CIDR("10.0.1.1/24")))))
    try wire(k, "web", host: "10.0.1.1/24", box: "10.0.1.2/24")
    #expect(try reachable(k, from: .host, "10.0.1.2") == true)
    try k.perform(.net(.netState(link: NetLinkRef(.host, "lo"), up: true)))
    #expect(try reachable(k, from: .box("web"), "10.0.1.1") == false)
  }
}
