import HelperWire
import Kernel
import Testing

@Suite struct HelperProtocolTests {
  static let requests: [HelperRequest] = [
    .calls([.namespace(.unshare(flags: 0x0400_0000 | 0x0002_0000)), .namespace(.makeRootPrivate)]),
    .calls([.namespace(.unshare(flags: 0))]),
    .calls([.namespace(.setns(path: Array("/proc/42/ns/pid_for_children".utf8), nstype: 0x2000_0000))]),
    .calls([.namespace(.sysvGet(kind: .sem, key: -1)), .namespace(.mqOpen(name: Array("/jobs".utf8)))]),
    .calls([.namespace(.becomeRoot(.uid)), .namespace(.becomeRoot(.gid))]),
    .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.touchMemory(bytes: 67_108_864))]),
    .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.forkTimes(4096))]),
    .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.spin(milliseconds: 0))]),
    .calls([
      .cgroup(.openProcs(box: [Array("/sys/fs/cgroup/boxwalk/1-2/web/cgroup.procs".utf8)], home: [])),
      .cgroup(
        .openProcs(box: [Array("/a/cgroup.procs".utf8), Array("/b/cgroup.procs".utf8)], home: [Array("/c".utf8)])),
    ]),
    .calls([.namespace(.sethostname(Array("lab box\n\u{0}".utf8)))]),
    .calls([.namespace(.setdomainname([])), .namespace(.sethostname(Array("web".utf8)))]), .facts(),
    .facts(candidates: [Array("q1".utf8), Array("q 2".utf8)]),
    .calls([
      .process(.fork(argv: [Array("sh".utf8), Array("-c".utf8), Array("echo pid=$$".utf8)], background: false)),
      .process(.execvp), .process(.wait4),
    ]),
    .calls([.process(.fork(argv: [Array("sleep".utf8), Array("1000".utf8), []], background: true)), .process(.execvp)]),
    .calls([.process(.kill(hostPID: 4242))]),
    // `mount bind /etc /mnt` and `mount proc /proc`, entry by entry.
    .calls([
      .mount(.openBeneath(root: Array("/r".utf8), path: Array("/mnt".utf8), keep: .target)),
      .mount(.openBeneath(root: Array("/r".utf8), path: Array("/et".utf8) + [0xff], keep: .source)),
      .mount(.openTreeClone), .mount(.moveMount(from: .newMount, onto: .target)),
    ]),
    .calls([
      .mount(.openBeneath(root: Array("/".utf8), path: Array("/proc".utf8), keep: .target)),
      .mount(.fsopen(fstype: "proc")),
      .mount(.fsconfigPidNamespace), .mount(.fsconfigCreate), .mount(.fsmount(attributes: 0x0f)),
      .mount(.moveMount(from: .newMount, onto: .target)),
    ]),
    // `mount dev`'s kinds of entries.
    .calls([
      .mount(.openTreeDevice(0)), .mount(.deviceReadOnly(0)), .mount(.fsopen(fstype: "tmpfs")),
      .mount(.fsconfigString(key: "mode", value: "0755")), .mount(.fsconfigCreate), .mount(.fsmount(attributes: 0)),
      .mount(.createDeviceFile(5)), .mount(.symlinkat(target: Array("/proc/self/fd".utf8), name: Array("fd".utf8))),
      .mount(.mkdirat(name: Array("mqueue".utf8))), .mount(.moveMount(from: .deviceCopy(5), onto: .deviceFile(5))),
    ]),
    // `umount`, `propagation`, `pivot-root` and `chroot`.
    .calls([
      .mount(.openBeneath(root: Array("/".utf8), path: Array("/".utf8), keep: .parent)), .mount(.fchdir(.parent)),
      .mount(.umount2(path: Array("proc".utf8), flags: 8)), .mount(.umountRoot(root: Array("/r".utf8))),
    ]),
    .calls([.mount(.setPropagation(flag: 1 << 18))]),
    .calls([
      .mount(
        .mkdir(rootfs: Array("/run/boxwalk/1-2/boxes/web-rootfs".utf8), name: Array(".oldroot".utf8), mode: 0o700)),
      .mount(.pivotRoot(putOld: Array(".oldroot".utf8))), .mount(.chdir(Array("/".utf8))),
      .mount(.umount2(path: Array("/.oldroot".utf8), flags: 10)), .mount(.rmdir(Array("/.oldroot".utf8))),
    ]),
    .calls([.mount(.chroot(rootfs: Array("/r".utf8))), .mount(.chdir(Array("/".utf8)))]),
    // The overlay of a box's root filesystem.
    .calls([
      .mount(
        .fsopenOverlay(
          directories: [Array("/a:b".utf8), Array("/c".utf8), Array("/u,x\\\\y".utf8), Array("/w".utf8)],
          target: Array("/m".utf8))),
      .mount(.overlayDirectory(key: "lowerdir+", index: 0)), .mount(.overlayDirectory(key: "upperdir", index: 2)),
      .mount(.fsconfigCreate), .mount(.fsmount(attributes: 6)), .mount(.moveOverlayRoot),
    ]),
    .calls([.net(.rtnetlink([0x10, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01, 0x03]))]), .netdump(pids: []),
    .netdump(pids: [42, 4242]), .ifindex(name: "eth0"),
    // Each net entry, as the steps send them: ping's three, listen's, connect's four, the rest.
    .calls([
      .net(.socket(kind: "icmp")), .net(.sendEcho(address: [10, 0, 0, 1])),
      .net(.receiveEchoReply(address: [10, 0, 0, 1], timeout: 300)),
    ]),
    .calls([.net(.socket(kind: "tcp")), .net(.bind(port: 80, serve: false)), .net(.listen)]),
    .calls([.net(.socket(kind: "udp")), .net(.bind(port: 53, serve: true))]),
    .calls([
      .net(.socket(kind: "tcp")), .net(.connect(address: [172, 17, 0, 2], port: 80, timeout: 2000)),
      .net(.send(line: Array("hello from boxwalk".utf8))), .net(.receive),
    ]),
    .calls([.net(.writeIPForward(true)), .net(.writeIPForward(false))]),
    .calls([.net(.nft(arguments: [Array("add table ip boxwalk; add chain ip boxwalk postrouting".utf8)]))]),
    .calls([.net(.nft(arguments: [Array("list".utf8), Array("table".utf8), Array("ip".utf8), []]))]),
  ]

  @Test(arguments: requests)
  func requestsRoundTrip(_ request: HelperRequest) throws {
    let bytes = try #require(request.encoded())
    #expect(Array(bytes.prefix(3)) == Array("bw3".utf8))
    #expect(HelperRequest(fields: try Framing.decode(bytes)) == request)
  }

  static let replies: [HelperReply] = [
    .hello(version: "bw3", pid: 1234), .ok([]), .ok([Array("web".utf8), Array("(none)".utf8)]),
    .err(errno: 1, call: .planEntry(0), note: nil), .ok([Framing.pack([]), Framing.pack([Array("7".utf8)])]),
    .err(errno: 22, call: .planEntry(1), note: "still in new namespace(s): user"),
    .err(errno: 2, call: .ifNametoindex, note: nil),
    .err(errno: 1, call: .planEntry(3), note: nil),
    .started(hostPID: 4242, boxPID: 1), .out(Array("pid=1\n".utf8)), .out([]),
  ]

  @Test(arguments: replies)
  func repliesRoundTrip(_ reply: HelperReply) throws {
    let bytes = try #require(reply.encoded())
    #expect(HelperReply(fields: try Framing.decode(bytes)) == reply)
  }

  @Test func netdumpTakesOnlyDecimalPIDs() {
    let fields = [Array("netdump".utf8), Array("42,x".utf8)]
    #expect(HelperRequest(fields: fields) == nil)
  }

  /// A net or process entry with arguments out of its range is no call: the request that carries
  /// it is out of protocol, so the helper makes none of its entries.
  @Test func callsWithBadArgumentsAreRefused() {
    let bad: [[[UInt8]]] = [
      [Array("send-echo".utf8), [10, 0, 1]], [Array("receive-echo-reply".utf8), [10, 0, 0, 1], Array("soon".utf8)],
      [Array("bind".utf8), Array("70000".utf8), Array("keep".utf8)], [Array("bind".utf8), Array("80".utf8), []],
      [Array("connect".utf8), [10, 0, 0, 1], Array("0".utf8), Array("300".utf8)],
      [Array("socket".utf8), Array("sctp".utf8)], [Array("write-ip-forward".utf8), Array("yes".utf8)],
      [Array("kill".utf8), Array("0".utf8)], [Array("listen".utf8), Array("now".utf8)],
      [Array("fork".utf8), Array("0".utf8)], [Array("fork".utf8), Array("2".utf8), Array("sh".utf8)],
      [Array("fork".utf8), Array("1".utf8), []],
    ]
    for fields in bad { #expect(HelperCall(fields: fields) == nil, "\(fields)") }
    // The old per-step verbs are gone: each is now entries of a `calls` request.
    for verb in ["netlink", "echo", "forward", "nft", "serve", "exchange", "kill", "run"] {
      #expect(HelperRequest(fields: [Array(verb.utf8), Array("1".utf8)]) == nil)
    }
  }

  @Test func theFramingIsVersionCountThenLengthPrefixedFields() throws {
    let bytes = try #require(HelperRequest.ifindex(name: "ab").encoded())
    let expected: [UInt8] = Array("bw3".utf8) + [2] + [0, 7] + Array("ifindex".utf8) + [0, 2] + Array("ab".utf8)
    #expect(bytes == expected)
    // A `calls` request: each call one field, its own fields packed inside it the same way.
    let calls = try #require(HelperRequest.calls([.namespace(.sethostname(Array("ab".utf8)))]).encoded())
    let call: [UInt8] = [0, 11] + Array("sethostname".utf8) + [0, 2] + Array("ab".utf8)
    #expect(calls == Array("bw3".utf8) + [2] + [0, 5] + Array("calls".utf8) + [0, UInt8(call.count)] + call)
  }

  @Test func decodeRejectsWhatIsNotThisVersion() {
    let good = HelperRequest.facts().encoded() ?? []
    // A helper from an older build speaks bw1: refused.
    #expect(throws: Framing.DecodeError.badVersion) { try Framing.decode(Array("bw1".utf8) + good.dropFirst(3)) }
    #expect(throws: Framing.DecodeError.badVersion) { try Framing.decode([]) }
    #expect(throws: Framing.DecodeError.badFieldCount(0)) { try Framing.decode(Array("bw3".utf8) + [0]) }
    #expect(throws: Framing.DecodeError.truncated) { try Framing.decode(Array(good.dropLast())) }
    #expect(throws: Framing.DecodeError.truncated) { try Framing.decode(Array("bw3".utf8) + [1, 0]) }
    #expect(throws: Framing.DecodeError.trailingBytes(1)) { try Framing.decode(good + [0]) }
    #expect(throws: Framing.DecodeError.tooLarge(5000)) { try Framing.decode([UInt8](repeating: 0, count: 5000)) }
  }

  @Test func encodeRefusesWhatDoesNotFit() {
    #expect(Framing.encode([]) == nil)
    #expect(Framing.encode(Array(repeating: [1], count: 256)) == nil)
    #expect(Framing.encode(Array(repeating: [1], count: 255)) != nil)
    #expect(HelperRequest.ifindex(name: String(repeating: "A", count: 5000)).encoded() == nil)
    #expect(HelperRequest.ifindex(name: String(repeating: "A", count: 4000)).encoded() != nil)
  }

  /// Verbs no part of boxwalk sends are not part of the protocol: a helper answers them as it
  /// answers any unknown verb, `err 71 protocol`.
  @Test func deadVerbsAreGone() {
    #expect(HelperRequest(fields: [Array("ping".utf8)]) == nil)
    #expect(HelperRequest(fields: [Array("uname".utf8)]) == nil)
  }

  /// A kind is one of a fixed few, checked when the request is read: a helper never gets to
  /// decide what to do with a kind it does not know.
  @Test func kindsOutsideTheirListAreNotRequests() {
    func fields(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
    // The old per-step mount verbs are gone: a mount is made entry by entry (MountCall).
    #expect(HelperRequest(fields: fields("mount", "mqueue", "/", "", "/dev/mqueue")) == nil)
    #expect(HelperRequest(fields: fields("pivot", "/r")) == nil)
    // A handle outside the list, or a negative device number, is no call.
    func call(_ words: String...) -> HelperCall? { HelperCall(fields: words.map { Array($0.utf8) }) }
    #expect(call("move_mount", "mount", "target") == .mount(.moveMount(from: .newMount, onto: .target)))
    #expect(call("move_mount", "mount", "elsewhere") == nil)
    #expect(call("fchdir", "copy-1") == nil)
    #expect(call("open_tree-device", "-1") == nil)
    #expect(call("fsmount", "ro") == nil)
    // An overlay has a target and at least one lower, an upper and a work directory.
    #expect(call("fsopen-overlay", "/m", "/u", "/w") == nil)
    #expect(call("fsopen-overlay", "/m", "/l", "", "/w") == nil)
    #expect(HelperCall(fields: fields("sysvget", "msg", "1")) == nil)
    #expect(HelperCall(fields: fields("sysvget", "shm", "1")) == .namespace(.sysvGet(kind: .shm, key: 1)))
    #expect(HelperCall(fields: fields("become-root", "euid")) == nil)
    // `stress` is plan entries now: a fork, then the child's entries.
    #expect(HelperRequest(fields: fields("stress", "cpu", "10")) == nil)
    #expect(HelperCall(fields: fields("spin", "10")) == .cgroup(.spin(milliseconds: 10)))
    #expect(HelperCall(fields: fields("spin", "-1")) == nil)
    #expect(HelperCall(fields: fields("fork-times", "4097")) == nil)
    #expect(HelperCall(fields: fields("fork", "1")) == nil)
  }

  @Test func unknownVerbsAndWrongArgumentsAreNotRequests() {
    func fields(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
    #expect(HelperRequest(fields: fields("reboot")) == nil)
    #expect(HelperRequest(fields: fields("facts", "a", "extra")) == nil)
    // unshare and setns are plan entries now, not requests of their own.
    #expect(HelperRequest(fields: fields("unshare", "131072")) == nil)
    #expect(HelperCall(fields: fields("unshare")) == nil)
    #expect(HelperCall(fields: fields("unshare", "lots")) == nil)
    #expect(HelperCall(fields: fields("unshare", "-1")) == nil)
    #expect(HelperCall(fields: fields("setns", "/proc/1/ns/uts")) == nil)
    #expect(HelperCall(fields: fields("make-root-private", "/")) == nil)
    #expect(HelperRequest(fields: fields("cgroup", "/a/cgroup.procs", "")) == nil)
    #expect(HelperCall(fields: fields("open-cgroup-procs", "a/cgroup.procs", "")) == nil)
    #expect(HelperCall(fields: fields("open-cgroup-procs", "", "")) == nil)
    #expect(HelperReply(fields: fields("err", "EPERM", "x")) == nil)
    #expect(HelperReply(fields: fields("hello", "bw3")) == nil)
    // A `calls` request is at least one call, and every one of them a call.
    let good = Framing.pack(fields("sethostname", "web"))
    #expect(
      HelperRequest(fields: [Array("calls".utf8), good]) == .calls([.namespace(.sethostname(Array("web".utf8)))]))
    #expect(HelperRequest(fields: fields("calls")) == nil)
    #expect(HelperRequest(fields: [Array("calls".utf8), good, Framing.pack(fields("reboot"))]) == nil)
    #expect(HelperRequest(fields: [Array("calls".utf8), good, Framing.pack(fields("sethostname"))]) == nil)
    #expect(HelperRequest(fields: [Array("calls".utf8), good, [0, 9, 65]]) == nil)
  }

  /// The helper cannot import Kernel: its copy of `mount dev`'s lists must be ContainerDev's, or
  /// it would make other nodes than the calls the step prints.
  @Test func containerDevListsMatchTheKernelModel() {
    let helperDevices: [String] = Framing.containerDevices.map { "\($0.name) \($0.major):\($0.minor)" }
    let kernelDevices: [String] = ContainerDev.devices.map { "\($0.name) \($0.major):\($0.minor)" }
    #expect(helperDevices == kernelDevices)
    let helperLinks: [String] = Framing.containerDevLinks.map { $0.name + "->" + $0.target }
    let kernelLinks: [String] = ContainerDev.links.map { $0.name + "->" + $0.target }
    #expect(helperLinks == kernelLinks)
    #expect(Framing.containerDevDirectories == ContainerDev.directories)
  }
}
