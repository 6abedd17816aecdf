import HelperWire
import Kernel
import Testing

@testable import LinuxBackend

/// How the failing system call a helper names (FailedCall) becomes the entry of the step's plan
/// the error names: by the entry's kind and what it was for, never by text.
@Suite struct HelperFailureEntryTests {
  @Test func theMountAfterUnshareMntIsTheMakePrivate() {
    let step = Step.namespace(.unshare(box: "web", kinds: [.mnt]))
    #expect(LinuxKernel.entry(step, failed: .mount) == Step.makeRootPrivate)
    #expect(LinuxKernel.entry(step, failed: .unshare) == .unshare([.mnt]))
  }

  @Test func aPositionIsThePlansEntry() {
    let step = Step.mount(.mount(box: "web", request: .dev(path: "/dev")))
    #expect(LinuxKernel.entry(step, failed: .planEntry(3)) == .openTreeDevice(name: "zero"))
    // A position outside the plan is the helper out of step with boxwalk: the first call.
    #expect(LinuxKernel.entry(step, failed: .planEntry(999)) == step.firstCall)
  }

  @Test func anOpenIsTheCgroupsProcs() {
    #expect(LinuxKernel.entry(.cgroup(.cgroupNew(box: "web")), failed: .open) == .openCgroupProcs(box: "web"))
  }
}

/// FailedCall.makes, the one table that says which plan entries a helper's call is, against the
/// plan's own names for its entries (SystemCall.function): the two never disagree, so a name the
/// helper sends points at the entry it made.
@Suite struct FailedCallPlanTests {
  static let address = IPv4Address(0x0a00_0002)  // 10.0.0.2

  static let steps: [Step] = [
    .process(.boxNew(box: "web")), .process(.boxRemove(box: "web")),
    .namespace(.unshare(box: "web", kinds: [.uts, .mnt])),
    .namespace(.join(box: "web", kind: .net, target: "db")), .namespace(.setHostname(box: "web", name: "lab")),
    .namespace(.setDomainname(box: "web", name: "lab")), .process(.run(box: "web", argv: ["sh"], background: true)),
    .process(.kill(box: "web", pid: 7)), .mount(.mount(box: "web", request: .proc(path: "/proc"))),
    .mount(.mount(box: "web", request: .sysfs(path: "/sys"))),
    .mount(.mount(box: "web", request: .tmpfs(path: "/tmp"))),
    .mount(.mount(box: "web", request: .mqueue(path: "/dev/mqueue"))),
    .mount(.mount(box: "web", request: .bind(source: "/data", target: "/mnt"))),
    .mount(.mount(box: "web", request: .dev(path: "/dev"))), .mount(.umount(box: "web", path: "/mnt")),
    .mount(.propagation(box: "web", mode: .private)), .mount(.pivotRoot(box: "web")), .mount(.chroot(box: "web")),
    .namespace(.ipcNew(box: "web", kind: .mq, key: 1)), .namespace(.ipcNew(box: "web", kind: .shm, key: 1)),
    .namespace(.ipcNew(box: "web", kind: .sem, key: 1)), .namespace(.posixMQNew(box: "web", name: "/q")),
    .namespace(.clockOffset(box: "web", clock: .monotonic, seconds: 5)),
    .namespace(.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 1000, count: 1))),
    .namespace(.map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 1000, count: 1))),
    .cgroup(.cgroupNew(box: "web")), .cgroup(.stress(box: "web", kind: .memory(bytes: 1 << 20))),
    .cgroup(.stress(box: "web", kind: .fork(count: 3))), .cgroup(.stress(box: "web", kind: .cpu(milliseconds: 10))),
    .net(.netVeth(box: "web", hostLink: "veth-web", boxLink: "eth0")), .net(.netBridge(name: "br0")),
    .net(.netRoute(box: "web", gateway: address)), .net(.ping(from: .host, address: address)),
    .net(.netForward(on: true)),
    .net(.netListen(side: .host, port: 80)), .net(.connect(from: .host, address: address, port: 80)),
    .layer(.overlay(box: "web", names: ["app"], layers: ["a", "b"])),
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
    // and the recvmsg(2) of a netlink dump are reported against the step's first call or
    // outside steps.
    let reportedElsewhere: Set<FailedCall> = [
      .start, .protocolError, .recvmsg, .uname, .ifNametoindex,
    ]
    for call in FailedCall.plainCases where !reportedElsewhere.contains(call) {
      #expect(entries.contains { call.makes($0) }, "\(call.name)")
    }
  }
}
