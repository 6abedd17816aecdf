import Kernel
import Testing

@testable import LinuxBackend

/// How the name a helper gives its failing system call becomes the entry of the step's plan the
/// error names: by the entry's function and what it was for, never by the printed text.
@Suite struct HelperFailureEntryTests {
  @Test func theMountAfterUnshareMntIsTheMakePrivate() {
    let step = Step.unshare(box: "web", kinds: [.mnt])
    #expect(LinuxKernel.entry(step, failed: "mount") == Step.makeRootPrivate)
    #expect(LinuxKernel.entry(step, failed: "unshare") == .unshare([.mnt]))
  }

  @Test func aBindsSourceAndTargetAreTheirOwnOpens() {
    let step = Step.mount(box: "web", request: .bind(source: "/data", target: "/mnt"))
    #expect(LinuxKernel.entry(step, failed: "openat2(target)") == .openBeneath(box: "web", path: "/mnt", .directory))
    #expect(LinuxKernel.entry(step, failed: "openat2(source)") == .openBeneath(box: "web", path: "/data", .directory))
    #expect(LinuxKernel.entry(step, failed: "open_tree") == .openTreeClone(source: "/data"))
  }

  @Test func anOverlayStageIsTheFsconfigThatSetsIt() {
    let step = Step.overlay(box: "web", names: ["app"], layers: ["a", "b"])
    #expect(
      LinuxKernel.entry(step, failed: "fsconfig(upperdir)")
        == .fsconfig(.setString(key: "upperdir", value: "<web upper>")))
    #expect(
      LinuxKernel.entry(step, failed: "fsconfig(lowerdir+)")
        == .fsconfig(.setString(key: "lowerdir+", value: "<layer a>")))
    #expect(LinuxKernel.entry(step, failed: "fsconfig(FSCONFIG_CMD_CREATE)") == .fsconfig(.create))
  }

  @Test func mountDevNamesItsEntryByPosition() {
    let step = Step.mount(box: "web", request: .dev(path: "/dev"))
    #expect(LinuxKernel.entry(step, failed: "call#3") == .openTreeDevice(name: "zero"))
    // A position outside the plan is the helper out of step with boxwalk: the first call.
    #expect(LinuxKernel.entry(step, failed: "call#999") == step.firstCall)
  }

  @Test func anOpenIsTheNamespaceFileOrTheCgroupsProcs() {
    #expect(LinuxKernel.entry(.cgroupNew(box: "web"), failed: "open") == .openCgroupProcs(box: "web"))
    let join = Step.join(box: "web", kind: .net, target: "db")
    #expect(LinuxKernel.entry(join, failed: "open") == .setns(target: "db", kind: .net))
  }

  @Test func aSetidFailureIsTheBecomeRoot() {
    let step = Step.map(box: "web", kind: .uid, range: IDMapRange(inside: 0, outside: 1000, count: 1))
    #expect(LinuxKernel.entry(step, failed: "setresuid") == .becomeRoot(box: "web", kind: .uid))
  }
}
