import Kernel
import Testing

@testable import LinuxBackend

@Suite struct CgroupTeardownPlanTests {
  let box = "boxwalk/1-2/web"

  @Test func v2WithCgroupKill() {
    let tree = [box, box + "/learner", box + "/learner/deeper", box + "/other"]
    let plan = CgroupTeardownPlan.make(
      targets: [box], tree: tree, method: .cgroupKill, prune: ["boxwalk/1-2", "boxwalk"])
    #expect(plan.kill == [.write(CgroupWrite(path: box + "/cgroup.kill", value: "1"))])
    #expect(plan.emptyCheck == .populated(events: box + "/cgroup.events"))
    #expect(plan.removals == [box + "/learner/deeper", box + "/other", box + "/learner", box])
    #expect(plan.prune == ["boxwalk/1-2", "boxwalk"])
  }

  @Test func v2BeforeCgroupKillFreezesSignalsThaws() {
    let plan = CgroupTeardownPlan.make(targets: [box], tree: [box, box + "/a"], method: .freezeV2, remove: false)
    #expect(
      plan.kill == [
        .write(CgroupWrite(path: box + "/cgroup.freeze", value: "1")),
        .waitFor(path: box + "/cgroup.events", key: "frozen", value: "1"),
        .signalProcesses([box, box + "/a"]),
        .write(CgroupWrite(path: box + "/cgroup.freeze", value: "0")),
      ])
    #expect(plan.removals == [])
  }

  @Test func v1FreezesSignalsEveryHierarchyAndThawsEveryFreezerCgroup() {
    let targets = ["memory/" + box, "pids/" + box, "freezer/" + box]
    let tree = targets + ["memory/\(box)/sub", "freezer/\(box)/sub"]
    let plan = CgroupTeardownPlan.make(targets: targets, tree: tree, method: .freezerV1(target: "freezer/" + box))
    #expect(
      plan.kill == [
        .write(CgroupWrite(path: "freezer/\(box)/freezer.state", value: "FROZEN")),
        .waitFor(path: "freezer/\(box)/freezer.state", key: nil, value: "FROZEN"),
        .signalProcesses(["freezer/" + box, "memory/" + box, "pids/" + box, "freezer/\(box)/sub", "memory/\(box)/sub"]),
        // A sub-cgroup the learner froze stays frozen when its parent thaws: thaw each, top down.
        .write(CgroupWrite(path: "freezer/\(box)/freezer.state", value: "THAWED")),
        .write(CgroupWrite(path: "freezer/\(box)/sub/freezer.state", value: "THAWED")),
      ])
    #expect(
      plan.emptyCheck
        == .noProcesses(["freezer/" + box, "memory/" + box, "pids/" + box, "freezer/\(box)/sub", "memory/\(box)/sub"]))
    #expect(
      plan.removals == ["memory/\(box)/sub", "freezer/\(box)/sub", "pids/" + box, "memory/" + box, "freezer/" + box])
  }

  @Test func v1WithoutAFreezerSignalsOnly() {
    let plan = CgroupTeardownPlan.make(targets: ["pids/" + box], tree: ["pids/" + box], method: .signalOnly)
    #expect(plan.kill == [.signalProcesses(["pids/" + box])])
  }

  @Test func aGoneCgroupPlansNothingButTheParents() {
    let plan = CgroupTeardownPlan.make(targets: [box], tree: [], method: .cgroupKill, prune: ["boxwalk"])
    #expect(plan.kill == [])
    #expect(plan.emptyCheck == nil)
    #expect(plan.removals == [])
    #expect(plan.prune == ["boxwalk"])
  }

  @Test func directoriesOutsideTheTargetsAreNeverPlanned() {
    // A sibling whose name starts like the box ("web2") is another box: it must not be touched.
    let plan = CgroupTeardownPlan.make(
      targets: [box], tree: [box, "boxwalk/1-2/web2", "boxwalk/1-2", "memory"], method: .cgroupKill)
    #expect(plan.removals == [box])
  }

  @Test func killOnlyPlansNoRemovalAndNoPrune() {
    let plan = CgroupTeardownPlan.make(
      targets: [box], tree: [box], method: .cgroupKill, remove: false, prune: ["boxwalk"])
    #expect(plan.removals == [] && plan.prune == [])
    #expect(plan.kill.count == 1)
  }
}
