import Kernel
import Testing

@testable import LinuxBackend

@Suite struct CgroupLayoutTests {
  @Test func thisMachineIsHybridAndUsesV1() throws {
    let layout = CgroupLayout(mountinfo: hybridMountinfo, unifiedControllers: "hugetlb\n")
    #expect(layout.kind == .hybrid)
    #expect(layout.choice == .v1)
    #expect(layout.unified?.mountPoint == "/sys/fs/cgroup/unified")
    #expect(layout.v1ControllerMounts["memory"] == "/sys/fs/cgroup/memory")
    #expect(layout.v1ControllerMounts["cpuacct"] == "/sys/fs/cgroup/cpuacct")
    #expect(layout.v1ControllerMounts["systemd"] == nil)
    #expect(layout.missingControllers == [])
    #expect(
      layout.description
        == "hybrid: v1 controllers cpu cpuacct cpuset memory devices freezer blkio pids; "
        + "cgroup2 at /sys/fs/cgroup/unified with hugetlb; boxwalk uses the v1 controllers")
  }

  @Test func hybridWithAnEmptyCgroup2SaysNone() {
    let layout = CgroupLayout(mountinfo: hybridMountinfo, unifiedControllers: "")
    #expect(layout.description.contains("cgroup2 at /sys/fs/cgroup/unified with none"))
  }

  @Test func pureV2() {
    let layout = CgroupLayout(
      mountinfo: unifiedMountinfo, unifiedControllers: "cpuset cpu io memory hugetlb pids rdma misc")
    #expect(layout.kind == .unified)
    #expect(layout.choice == .v2)
    #expect(layout.v1Mounts.isEmpty)
    #expect(
      layout.description
        == "cgroup v2: cgroup2 at /sys/fs/cgroup with cpuset cpu io memory hugetlb pids rdma misc; boxwalk uses cgroup2"
    )
  }

  @Test func pureV2WithoutPidsDelegatedSaysWhatIsMissing() {
    let layout = CgroupLayout(mountinfo: unifiedMountinfo, unifiedControllers: "cpu memory")
    #expect(layout.choice == .v2)
    #expect(layout.missingControllers == ["pids"])
    #expect(layout.description.hasSuffix("; boxwalk uses cgroup2; missing pids"))
  }

  @Test func legacyWithCoMountedCpuAndCpuacct() {
    let layout = CgroupLayout(mountinfo: legacyMountinfo, unifiedControllers: nil)
    #expect(layout.kind == .legacy)
    #expect(layout.choice == .v1)
    #expect(layout.unified == nil)
    #expect(layout.v1ControllerMounts["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
    #expect(layout.v1ControllerMounts["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
    // clone_children, xattr and release_agent= are mount options, not controllers.
    #expect(layout.v1ControllerMounts["cpuset"] == "/sys/fs/cgroup/cpuset")
    #expect(layout.v1ControllerMounts["clone_children"] == nil)
    #expect(
      layout.description
        == "cgroup v1: v1 controllers cpu,cpuacct memory pids freezer cpuset; boxwalk uses the v1 controllers")
  }

  @Test func nameOnlyV1HierarchyBesideAFullCgroup2IsUnified() {
    // systemd's "unified" mode on some distributions keeps a name=systemd v1 hierarchy for old tools.
    let text = unifiedMountinfo + "40 29 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    let layout = CgroupLayout(mountinfo: text, unifiedControllers: "cpu memory pids")
    #expect(layout.kind == .unified)
    #expect(layout.choice == .v2)
    #expect(layout.v1Mounts.count == 1)
  }

  @Test func hybridWhoseCgroup2HoldsTheLimitControllersUsesV2() {
    let text = """
      32 31 0:29 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

      """
    let layout = CgroupLayout(mountinfo: text, unifiedControllers: "cpu memory pids")
    #expect(layout.kind == .hybrid)
    #expect(layout.choice == .v2)
  }

  @Test func nothingMounted() {
    let layout = CgroupLayout(mountinfo: "27 1 254:0 / / rw - ext4 /dev/vda rw\n", unifiedControllers: nil)
    #expect(layout.kind == .none)
    #expect(layout.choice == .none("no cgroup file system with the memory, pids or cpu controller is mounted"))
    #expect(layout.description == "none: no cgroup file system with the memory, pids or cpu controller is mounted")
    #expect(throws: CgroupError.self) { try layout.makeDriver() }
  }

  @Test func mountinfoParsing() {
    let text = """
      50 31 0:40 /docker/abc /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory
      51 31 0:41 / /sys/fs/cgroup/pids rw shared:3 master:2 - cgroup cgroup rw,pids
      52 31 0:42 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids,cpu
      garbage line
      53 31 0:43 / /mnt rw - tmpfs tmpfs rw

      """
    let mounts = CgroupMount.parse(mountinfo: text)
    #expect(
      mounts == [
        CgroupMount(
          mountPoint: "/sys/fs/cgroup/my memory", root: "/docker/abc", kind: .v1(controllers: ["memory"], name: nil)),
        // Mounted over: only the later mount at /sys/fs/cgroup/pids is visible.
        CgroupMount(mountPoint: "/sys/fs/cgroup/pids", kind: .v1(controllers: ["pids", "cpu"], name: nil)),
      ])
    #expect(CgroupMount.unescape("a\\134b\\011c") == "a\\b\tc")
    #expect(CgroupMount.unescape("trailing\\04") == "trailing\\04")
  }

  @Test func driverForEachLayout() throws {
    let hybrid = try CgroupLayout(mountinfo: hybridMountinfo, unifiedControllers: "").makeDriver()
    let v1 = try #require(hybrid as? CgroupV1Driver)
    #expect(v1.root == "/sys/fs/cgroup")
    #expect(
      v1.hierarchies == ["memory": "memory", "pids": "pids", "cpu": "cpu", "cpuacct": "cpuacct", "freezer": "freezer"])

    let legacy = try #require(
      try CgroupLayout(mountinfo: legacyMountinfo, unifiedControllers: nil).makeDriver() as? CgroupV1Driver)
    #expect(legacy.hierarchyDirectories == ["memory", "pids", "cpu,cpuacct", "freezer"])

    let unified = try #require(
      try CgroupLayout(mountinfo: unifiedMountinfo, unifiedControllers: "cpu memory pids").makeDriver()
        as? CgroupV2Driver)
    #expect(unified.hierarchy == "")

    let text = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    let onUnified = try #require(
      try CgroupLayout(mountinfo: text, unifiedControllers: "").makeDriver() as? CgroupV2Driver)
    #expect(onUnified.hierarchy == "unified")
    #expect(throws: CgroupError.self) {
      try CgroupLayout(mountinfo: text, unifiedControllers: "").makeDriver(root: "/elsewhere")
    }
  }

  @Test func relativeMountPoints() {
    #expect(CgroupLayout.relative("/sys/fs/cgroup", to: "/sys/fs/cgroup") == "")
    #expect(CgroupLayout.relative("/sys/fs/cgroup/cpu,cpuacct", to: "/sys/fs/cgroup/") == "cpu,cpuacct")
    #expect(CgroupLayout.relative("/sys/fs/cgroupx", to: "/sys/fs/cgroup") == nil)
    #expect(CgroupLayout.relative("/cg", to: "/") == "cg")
  }

  @Test func probeReadsThisHost() {
    let layout = CgroupLayout.probe()
    // Whatever this host has, the description names it and the choice agrees with the kind.
    #expect(layout.description.hasPrefix(layout.kind.rawValue + ": "))
    if layout.kind == .none { #expect(layout.choice != .v1) }
  }
}
