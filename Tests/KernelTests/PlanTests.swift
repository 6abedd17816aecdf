import Testing

@testable import Kernel

/// A step's plan: the typed system calls it makes, their text, and how a kernel finds the entry
/// that failed by its kind rather than by its place in the printed lines.
@Suite struct PlanTests {
  @Test func theTextIsThePlanWrittenOut() {
    let step = Step.namespace(.unshare(box: "web", kinds: [.uts, .mnt]))
    #expect(step.plan == [.unshare([.uts, .mnt]), .setPropagation(.private)])
    #expect(
      step.calls == ["unshare(CLONE_NEWUTS|CLONE_NEWNS)", "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)"])
    #expect(Step.namespace(.unshare(box: "web", kinds: [.mnt], keepPropagation: true)).plan == [.unshare([.mnt])])
  }

  @Test func aMapOfGidsDeniesSetgroupsFirst() {
    let range = IDMapRange(inside: 0, outside: 100_000, count: 1)
    let step = Step.namespace(.map(box: "web", kind: .gid, range: range))
    #expect(
      step.plan == [
        .denySetgroups(box: "web"), .writeIDMap(box: "web", kind: .gid, range: range),
        .becomeRoot(box: "web", kind: .gid),
      ])
    #expect(step.entry(.writeIDMap) == .writeIDMap(box: "web", kind: .gid, range: range))
    #expect(step.calls[2] == "setresgid(0, 0, 0) in web")
  }

  @Test func aBindMountOpensItsTargetThenItsSource() {
    let step = Step.mount(.mount(box: "web", request: .bind(source: "/data", target: "/mnt")))
    #expect(step.entry(.openBeneath) == .openBeneath(box: "web", path: "/mnt", .directory))
    let source = step.entry { $0 == .openBeneath(box: "web", path: "/data", .directory) }
    #expect(
      source.description == "openat2(<web root>, \"/data\", O_PATH|O_DIRECTORY, RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS)")
  }

  @Test func pivotRootsCallsAreFoundByKind() {
    let step = Step.mount(.pivotRoot(box: "web"))
    #expect(step.entry(.pivotRoot).description == "pivot_root(\"<web rootfs>\", \"<web rootfs>/.oldroot\")")
    #expect(step.entry(.mkdir).description == "mkdir(\"<web rootfs>/.oldroot\", 0700)")
    #expect(step.entry(.umount2).description == "umount2(\"/.oldroot\", MNT_DETACH)")
  }

  @Test func mountDevCopiesEachDeviceReadOnlyBeforeItsTmpfs() {
    let plan = Step.mount(.mount(box: "web", request: .dev(path: "/dev"))).plan
    let copies = plan.prefix { $0.kind != .fsopen }.dropFirst()
    #expect(copies.count == 2 * ContainerDev.devices.count)
    #expect(copies.first == .openTreeDevice(name: "null"))
    #expect(plan.last == .moveMount(.deviceCopy(name: "tty"), target: "/dev/tty"))
    #expect(plan.filter { $0.kind == .createDeviceFile }.count == ContainerDev.devices.count)
  }

  @Test func anErrorOfAStepCarriesItsEntry() {
    let step = Step.namespace(.setHostname(box: "web", name: "lab"))
    let error = KernelError(step: step, call: step.entry(.sethostname), errno: .EPERM)
    #expect(error.failed == .sethostname("lab"))
    #expect(error.description == "sethostname(\"lab\", 3): EPERM")
  }
}
