import HelperWire
import Kernel
import Testing

@testable import LinuxBackend

/// How the failing system call a helper names (FailedCall) becomes the entry of the step's plan
/// the error names: by the entry's kind and what it was for, never by text.
@Suite struct HelperFailureEntryTests {
  @Test func theMountAfterUnshareMntIsTheMakePrivate() {
    let step = Step.unshare(box: "web", kinds: [.mnt])
    #expect(LinuxKernel.entry(step, failed: .mount) == Step.makeRootPrivate)
    #expect(LinuxKernel.entry(step, failed: .unshare) == .unshare([.mnt]))
  }

  @Test func aBindsSourceAndTargetAreTheirOwnOpens() {
    let step = Step.mount(box: "web", request: .bind(source: "/data", target: "/mnt"))
    #expect(LinuxKernel.entry(step, failed: .openat2(.target)) == .openBeneath(box: "web", path: "/mnt", .directory))
    #expect(LinuxKernel.entry(step, failed: .openat2(.source)) == .openBeneath(box: "web", path: "/data", .directory))
    #expect(LinuxKernel.entry(step, failed: .openTree) == .openTreeClone(source: "/data"))
  }

  @Test func anOverlayStageIsTheFsconfigThatSetsIt() {
    let step = Step.overlay(box: "web", names: ["app"], layers: ["a", "b"])
    #expect(
      LinuxKernel.entry(step, failed: .fsconfig(.set(key: "upperdir")))
        == .fsconfig(.setString(key: "upperdir", value: "<web upper>")))
    #expect(
      LinuxKernel.entry(step, failed: .fsconfig(.set(key: "lowerdir+")))
        == .fsconfig(.setString(key: "lowerdir+", value: "<layer a>")))
    #expect(LinuxKernel.entry(step, failed: .fsconfig(.create)) == .fsconfig(.create))
  }

  @Test func mountDevNamesItsEntryByPosition() {
    let step = Step.mount(box: "web", request: .dev(path: "/dev"))
    #expect(LinuxKernel.entry(step, failed: .planEntry(3)) == .openTreeDevice(name: "zero"))
    // A position outside the plan is the helper out of step with boxwalk: the first call.
    #expect(LinuxKernel.entry(step, failed: .planEntry(999)) == step.firstCall)
  }

  @Test func anOpenIsTheNamespaceFileOrTheCgroupsProcs() {
    #expect(LinuxKernel.entry(.cgroupNew(box: "web"), failed: .open) == .openCgroupProcs(box: "web"))
    let join = Step.join(box: "web", kind: .net, target: "db")
    #expect(LinuxKernel.entry(join, failed: .open) == .setns(target: "db", kind: .net))
  }

  @Test func aSetidFailureIsTheBecomeRoot() {
    let step = Step.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 1000, count: 1))
    #expect(LinuxKernel.entry(step, failed: .setresuid) == .becomeRoot(box: "web", kind: .uid))
  }
}

/// FailedCall.makes, the one table that says which plan entries a helper's call is, against the
/// plan's own names for its entries (SystemCall.function): the two never disagree, so a name the
/// helper sends points at the entry it made.
@Suite struct FailedCallPlanTests {
  static let address = IPv4Address(0x0a00_0002)  // 10.0.0.2

  static let steps: [Step] = [
    .boxNew(box: "web"), .boxRemove(box: "web"), .unshare(box: "web", kinds: [.uts, .mnt]),
    .join(box: "web", kind: .net, target: "db"), .setHostname(box: "web", name: "lab"),
    .setDomainname(box: "web", name: "lab"), .run(box: "web", argv: ["sh"], background: true),
    .kill(box: "web", pid: 7), .mount(box: "web", request: .proc(path: "/proc")),
    .mount(box: "web", request: .sysfs(path: "/sys")), .mount(box: "web", request: .tmpfs(path: "/tmp")),
    .mount(box: "web", request: .mqueue(path: "/dev/mqueue")),
    .mount(box: "web", request: .bind(source: "/data", target: "/mnt")),
    .mount(box: "web", request: .dev(path: "/dev")), .umount(box: "web", path: "/mnt"),
    .propagation(box: "web", mode: .private), .pivotRoot(box: "web"), .chroot(box: "web"),
    .ipcNew(box: "web", kind: .mq, key: 1), .ipcNew(box: "web", kind: .shm, key: 1),
    .ipcNew(box: "web", kind: .sem, key: 1), .posixMQNew(box: "web", name: "/q"),
    .clockOffset(box: "web", clock: .monotonic, seconds: 5),
    .map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 1000, count: 1)),
    .map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 1000, count: 1)),
    .cgroupNew(box: "web"), .stress(box: "web", kind: .memory(bytes: 1 << 20)),
    .stress(box: "web", kind: .fork(count: 3)), .stress(box: "web", kind: .cpu(milliseconds: 10)),
    .netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0"), .netBridge(name: "br0"),
    .netRoute(box: "web", gateway: address), .ping(from: .host, address: address), .netForward(on: true),
    .netListen(side: .host, port: 80), .connect(from: .host, address: address, port: 80),
    .overlay(box: "web", names: ["app"], layers: ["a", "b"]),
  ]

  @Test func aCallMakesExactlyTheEntriesOfItsName() {
    let entries = Self.steps.flatMap(\.plan).filter { $0.function != nil }
    #expect(Set(entries.map(\.kind)).count >= 40)
    for entry in entries {
      for call in FailedCall.plainCases {
        #expect(call.makes(entry) == (call.name == entry.function), "\(call.name) and \(entry)")
      }
    }
  }

  @Test func everyCallTheHelperMakesNamesAnEntryOfSomePlan() {
    let entries = Self.steps.flatMap(\.plan)
    // The calls with no entry of their own: the helper's hello refusal, an undecodable request,
    // the pipe(2) before nft(8), the getsockopt(2) after a non-blocking connect(2) and the
    // recvmsg(2) of a netlink dump are reported against the step's first call or outside steps.
    let reportedElsewhere: Set<FailedCall> = [
      .start, .protocolError, .pipe, .getsockopt, .recvmsg, .uname, .ifNametoindex,
    ]
    for call in FailedCall.plainCases where !reportedElsewhere.contains(call) {
      #expect(entries.contains { call.makes($0) }, "\(call.name)")
    }
  }
}
