import Glibc
import HelperWire
import Kernel
import Testing

@testable import LinuxBackend

/// The mutation fuzzer of MutationFuzzTests, on the parsers of what the kernel, a box or another
/// process hands boxwalk: the helper's wire (both ways: the REPL decodes replies, the helper
/// requests), /proc/PID/mountinfo, /proc/PID/status, /proc/PID/cgroup, the cgroup interface
/// files, and the ledger file. A box names its mounts, its processes and its cgroups, and a
/// helper that misbehaves could send anything; none of it may trap. Bounded: a few thousand
/// mutants each, about a second in a debug build.
@Suite struct SystemDataFuzzTests {
  static func seeds(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }

  @Test func helperWireMutantsNeverTrapAndGoodMessagesRoundTrip() {
    let requests: [HelperRequest] = [
      .facts(), .calls([.namespace(.unshare(flags: 0x2000_0000)), .namespace(.makeRootPrivate)]),
      .calls([.namespace(.setns(path: Array("/proc/42/ns/net".utf8), nstype: 0x4000_0000))]),
      .calls([.process(.fork(argv: [Array("sleep".utf8), Array("100".utf8)], background: true)), .process(.execvp)]),
      .calls([
        .mount(.openBeneath(root: Array("/".utf8), path: Array("/b".utf8), keep: .target)),
        .mount(.openBeneath(root: Array("/".utf8), path: Array("/a".utf8), keep: .source)), .mount(.openTreeClone),
        .mount(.moveMount(from: .newMount, onto: .target)),
      ]),
      .calls([.cgroup(.fork), .cgroup(.enterCgroup), .cgroup(.touchMemory(bytes: 67_108_864))]),
      .netdump(pids: [1, 2, 3]),
      .calls([
        .mount(
          .fsopenOverlay(directories: [Array("/l".utf8), Array("/u".utf8), Array("/w".utf8)], target: Array("/t".utf8))),
        .mount(.overlayDirectory(key: "lowerdir+", index: 0)), .mount(.moveOverlayRoot),
      ]),
      .calls([
        .cgroup(
          .openProcs(
            box: [Array("/sys/fs/cgroup/memory/boxwalk/1-2/web/cgroup.procs".utf8)],
            home: [Array("/sys/fs/cgroup/memory/cgroup.procs".utf8)]))
      ]),
    ]
    let replies: [HelperReply] = [
      .hello(version: Framing.version, pid: 4242), .started(hostPID: 10, boxPID: 1), .out(Array("x\n".utf8)),
      .ok([Array("exited".utf8), Array("0".utf8)]), .err(errno: 2, call: .recvmsg, note: "a note"),
      .err(errno: 1, call: .planEntry(7), note: nil),
    ]
    for request in requests {
      let bytes = request.encoded() ?? []
      #expect((try? Framing.decode(bytes)).flatMap(HelperRequest.init(fields:)) == request, "\(request)")
    }
    let seeds = requests.compactMap { $0.encoded() } + replies.compactMap { $0.encoded() }
    let outcome = MutationFuzzTests.fuzz(seeds, count: 6000, seed: 0x5749_5245) { bytes, i in
      let fields = try Framing.decode(bytes)
      // Whatever decodes and means something encodes back to the same meaning.
      if let request = HelperRequest(fields: fields) {
        #expect(
          request.encoded().flatMap { try? Framing.decode($0) }.flatMap(HelperRequest.init(fields:)) == request,
          "case \(i)")
      }
      _ = HelperReply(fields: fields)
    }
    #expect(outcome.accepted > 100 && outcome.refused > 100, "\(outcome)")
  }

  static let mountinfo = """
    22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
    35 22 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    36 22 0:33 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
    41 22 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
    50 22 0:40 /sub /a\\040b\\134c rw master:3 shared:4 - tmpfs tmpfs rw,size=4k
    51 22 0:41 / /proc rw - proc proc rw

    """

  @Test func mountinfoMutantsNeverTrap() {
    let seeds = Self.seeds([Self.mountinfo])
    #expect(Mountinfo.parse(bytes: seeds[0]).count == 6)
    MutationFuzzTests.fuzz(seeds, count: 4000, seed: 0x4D4E_5449) { bytes, _ in
      _ = Mountinfo.parse(bytes: bytes)
      let text = String(decoding: bytes, as: UTF8.self)
      let layout = CgroupLayout(mountinfo: text, unifiedControllers: "memory pids")
      _ = layout.description
      _ = layout.choice
    }
  }

  @Test func procStatusMutantsNeverTrap() {
    let status = """
      Name:\tboxwalk-helper
      State:\tS (sleeping)
      Tgid:\t4242
      NSpid:\t4242\t1
      Uid:\t0\t0\t0\t0
      Gid:\t0\t0\t0\t0
      CapEff:\t000001fffeffffff
      CapBnd:\t000001fffeffffff
      Threads:\t1

      """
    let keys = ["Name", "State", "NSpid", "Uid", "Gid", "CapEff", "CapBnd", "Threads"]
    #expect(ProcStatus.fields(Array(status.utf8), keys).count == keys.count)
    MutationFuzzTests.fuzz(Self.seeds([status]), count: 4000, seed: 0x5354_4154) { bytes, _ in
      _ = ProcStatus.fields(bytes, keys)
    }
  }

  @Test func cgroupFileMutantsNeverTrap() {
    let seeds = Self.seeds([
      "12:pids:/user.slice/a:b\n4:cpu,cpuacct:/\n1:name=systemd:/user.slice\n0::/user.slice/x.scope\n",
      "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n", "max 100000\n", "10000 100000\n", "9223372036854771712\n",
      "-1\n", "usage_usec 12\nnr_periods 3\nnr_throttled 1\nthrottled_usec 40\n", "memory pids cpu\n",
    ])
    let driver = CgroupV1Driver(root: "/sys/fs/cgroup")
    let v2 = CgroupV2Driver(root: "/sys/fs/cgroup", hierarchy: "unified")
    MutationFuzzTests.fuzz(seeds, count: 5000, seed: 0x4347_5250) { bytes, _ in
      let text = String(decoding: bytes, as: UTF8.self)
      let membership = ProcCgroup(text: text)
      _ = driver.procsFiles(of: membership)
      _ = v2.procsFiles(of: membership)
      _ = CgroupFileFormat.keyed(text)
      _ = CgroupFileFormat.number(text)
      _ = CgroupFileFormat.limit(text)
      _ = CgroupFileFormat.cpuMax(text)
      _ = CgroupFileFormat.v1MemoryLimit(text)
      _ = CgroupFileFormat.v1Quota(text)
      _ = try? CgroupSetting.parse(key: "memory.max", value: text)
    }
  }

  @Test func ledgerMutantsNeverTrapAndGoodOnesRoundTrip() throws {
    let owner = Ledger.Owner(bootID: "03392221-a224-410b-a2c1-bea7a8bd9e97", pid: 4242, startTime: 987_654)
    let ledger = Ledger(
      owner: owner,
      records: [
        .helper(box: "web", pid: 100, startTime: 5), .helper(box: "a b\n%c", pid: 7, startTime: 8),
        .scratch(box: "web", path: "/run/boxwalk/4242-987654/web"), .ipc(kind: "shm", key: 42, id: 3),
      ])
    #expect(try Ledger.parse(ledger.text) == ledger)
    let outcome = MutationFuzzTests.fuzz(Self.seeds([ledger.text]), count: 5000, seed: 0x4C45_4447) { bytes, i in
      let parsed = try Ledger.parse(String(decoding: bytes, as: UTF8.self))
      // What parses writes back to text that parses to the same ledger.
      #expect((try? Ledger.parse(parsed.text)) == parsed, "case \(i)")
    }
    #expect(outcome.accepted > 100 && outcome.refused > 100, "\(outcome)")
  }
}
