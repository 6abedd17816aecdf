import Glibc
import Kernel
import Testing

@testable import LinuxBackend

/// The v1 driver against simulated v1 hierarchies in a temporary directory (no root needed).
@Suite struct CgroupV1DriverTests {
  /// This machine: every controller on its own hierarchy.
  static let separate: [String: [String]] = [
    "memory": ["memory"], "pids": ["pids"], "cpu": ["cpu"], "cpuacct": ["cpuacct"], "freezer": ["freezer"],
  ]
  /// CentOS 7 style: cpu and cpuacct share one.
  static let coMounted: [String: [String]] = [
    "memory": ["memory"], "pids": ["pids"], "cpu,cpuacct": ["cpu", "cpuacct"], "freezer": ["freezer"],
  ]

  func withDriver(
    _ hierarchies: [String: [String]] = separate,
    _ body: (CgroupV1Driver, SimulatedCgroupFileSystem, BoxCgroup) throws -> Void
  ) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fs = try SimulatedCgroupFileSystem(root: dir.path, layout: .v1(hierarchies))
    var byController: [String: String] = [:]
    for (hierarchy, controllers) in hierarchies { for c in controllers { byController[c] = hierarchy } }
    let driver = CgroupV1Driver(
      root: dir.path, hierarchies: byController, files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    try body(driver, fs, try BoxCgroup(session: "4242-987654", box: "web"))
  }

  @Test func createMakesTheBoxInEveryHierarchy() throws {
    try withDriver { driver, _, box in
      let actions = try driver.create(box)
      var expected: [CgroupAction] = []
      for h in ["memory", "pids", "cpu", "cpuacct", "freezer"] {
        expected += [
          .makeDirectory("\(h)/boxwalk"), .makeDirectory("\(h)/boxwalk/4242-987654"),
          .makeDirectory("\(h)/boxwalk/4242-987654/web"),
        ]
      }
      #expect(actions == expected)
      #expect(driver.directories(of: box).count == 5)
    }
  }

  @Test func aSharedHierarchyIsUsedOnce() throws {
    try withDriver(Self.coMounted) { driver, _, box in
      #expect(
        driver.directories(of: box) == [
          "memory/boxwalk/4242-987654/web", "pids/boxwalk/4242-987654/web", "cpu,cpuacct/boxwalk/4242-987654/web",
          "freezer/boxwalk/4242-987654/web",
        ])
      let made = try driver.create(box)
      #expect(made.count == 12)
      let attached = try driver.attach(pid: 4300, to: box)
      #expect(
        attached.map { $0.shellCommand(root: "/sys/fs/cgroup") } == [
          "echo 4300 > /sys/fs/cgroup/memory/boxwalk/4242-987654/web/cgroup.procs",
          "echo 4300 > /sys/fs/cgroup/pids/boxwalk/4242-987654/web/cgroup.procs",
          "echo 4300 > /sys/fs/cgroup/cpu,cpuacct/boxwalk/4242-987654/web/cgroup.procs",
          "echo 4300 > /sys/fs/cgroup/freezer/boxwalk/4242-987654/web/cgroup.procs",
        ])
    }
  }

  @Test func createUnwindsWhenOneHierarchyAlreadyHasTheBox() throws {
    try withDriver { driver, fs, box in
      // Someone else made pids/boxwalk/4242-987654/web.
      try fs.makeDirectory(driver.root + "/pids/boxwalk")
      try fs.makeDirectory(driver.root + "/pids/boxwalk/4242-987654")
      try fs.makeDirectory(driver.root + "/pids/boxwalk/4242-987654/web")
      #expect(throws: CgroupError.self) { try driver.create(box) }
      // The memory cgroup made before the failure was removed again; the foreign one is untouched.
      #expect(fs.isDirectory(driver.root + "/memory/boxwalk/4242-987654/web") == nil)
      #expect(fs.isDirectory(driver.root + "/pids/boxwalk/4242-987654/web") == true)
    }
  }

  @Test func v2KeysAreTranslated() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      let memory = try CgroupSetting.parse(key: "memory.max", value: "64M")
      let pids = try CgroupSetting.parse(key: "pids.max", value: "10")
      let cpu = try CgroupSetting.parse(key: "cpu.max", value: "50000 100000")
      let actions = try driver.set(memory, on: box) + driver.set(pids, on: box) + driver.set(cpu, on: box)
      #expect(
        actions == [
          .write(
            CgroupWrite(
              path: "memory/boxwalk/4242-987654/web/memory.limit_in_bytes", value: "67108864", setting: memory)),
          .write(CgroupWrite(path: "pids/boxwalk/4242-987654/web/pids.max", value: "10", setting: pids)),
          .write(CgroupWrite(path: "cpu/boxwalk/4242-987654/web/cpu.cfs_period_us", value: "100000", setting: cpu)),
          .write(CgroupWrite(path: "cpu/boxwalk/4242-987654/web/cpu.cfs_quota_us", value: "50000", setting: cpu)),
        ])
      #expect(
        CgroupAction.translations(actions) == [
          "memory.max 64M -> memory.limit_in_bytes = 67108864", "pids.max 10 -> pids.max = 10",
          "cpu.max \"50000 100000\" -> cpu.cfs_period_us = 100000, cpu.cfs_quota_us = 50000",
        ])
      #expect(fs.text("memory/boxwalk/4242-987654/web/memory.memsw.limit_in_bytes") == "9223372036854771712\n")

      var report = try driver.report(box)
      #expect(report.memory.max == .value(67_108_864))
      #expect(report.cpu.quota == .value(50_000) && report.cpu.period == 100_000)
      // The report names the v1 files the limits live in (BOX.cgroup.files), not the v2 keys.
      #expect(
        report.files == [
          "memory.max": "memory.limit_in_bytes", "pids.max": "pids.max",
          "cpu.max": "cpu.cfs_quota_us cpu.cfs_period_us",
        ])

      // "max" has no v1 spelling for memory or the CPU quota: -1, which reads back as the largest count.
      let unlimited =
        try driver.set(try CgroupSetting.parse(key: "memory.max", value: "max"), on: box)
        + driver.set(try CgroupSetting.parse(key: "cpu.max", value: "max"), on: box)
      #expect(
        unlimited.map { if case .write(let w) = $0 { w.file + "=" + w.value } else { "" } } == [
          "memory.limit_in_bytes=-1", "cpu.cfs_quota_us=-1",
        ])
      report = try driver.report(box)
      #expect(report.memory.max == .max)
      #expect(report.cpu.quota == .max)
    }
  }

  @Test func reportReadsV1CountersInV2Terms() throws {
    try withDriver { driver, _, box in
      _ = try driver.create(box)
      let host = HostCgroupFileSystem()
      let dir = { (h: String) in driver.root + "/\(h)/boxwalk/4242-987654/web/" }
      try host.write(dir("memory") + "memory.usage_in_bytes", "2097152\n")
      try host.write(dir("memory") + "memory.max_usage_in_bytes", "33554432\n")
      try host.write(dir("memory") + "memory.failcnt", "5\n")
      try host.write(dir("memory") + "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
      try host.write(dir("pids") + "pids.current", "4\n")
      try host.write(dir("pids") + "pids.events", "max 90\n")
      try host.write(dir("cpuacct") + "cpuacct.usage", "1500000000\n")
      try host.write(dir("cpu") + "cpu.stat", "nr_periods 30\nnr_throttled 15\nthrottled_time 750000000\n")
      var expected = CgroupReport(version: .v1)
      expected.memory = .init(max: .max, current: 2_097_152, peak: 33_554_432, maxEvents: 5, oomKills: 2)
      expected.pids = .init(max: .max, current: 4, peak: 0, maxEvents: 90)
      expected.cpu = .init(
        quota: .max, period: 100_000, usageMicroseconds: 1_500_000, periods: 30, throttledPeriods: 15,
        throttledMicroseconds: 750_000)
      expected.files = [
        "memory.max": "memory.limit_in_bytes", "pids.max": "pids.max", "cpu.max": "cpu.cfs_quota_us cpu.cfs_period_us",
      ]
      #expect(try driver.report(box) == expected)
    }
  }

  @Test func aMissingHierarchyIsAClearError() throws {
    try withDriver(["memory": ["memory"], "freezer": ["freezer"]]) { driver, _, box in
      _ = try driver.create(box)
      do {
        _ = try driver.set(try CgroupSetting.parse(key: "pids.max", value: "10"), on: box)
        Issue.record("pids.max was set without a pids hierarchy")
      } catch let error as CgroupError {
        #expect(error.errno == .ENODEV)
        #expect(error.explanation == "no v1 hierarchy has the pids controller mounted on this host")
      }
      #expect(try driver.report(box).pids.max == nil)
    }
  }

  @Test func killFreezesSignalsEveryProcessAndThawsEveryLevel() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      _ = try driver.attach(pid: 4300, to: box)
      // A learner's sub-cgroup in the memory and freezer hierarchies, frozen by the learner.
      for h in ["memory", "freezer"] { try fs.makeDirectory(driver.root + "/\(h)/boxwalk/4242-987654/web/sub") }
      try fs.place(4301, in: "memory/boxwalk/4242-987654/web/sub")
      try fs.place(4301, in: "freezer/boxwalk/4242-987654/web/sub")
      try HostCgroupFileSystem().write(driver.root + "/freezer/boxwalk/4242-987654/web/sub/freezer.state", "FROZEN")

      let actions = try driver.kill(box)
      let w = "boxwalk/4242-987654/web"
      #expect(
        actions == [
          .write(CgroupWrite(path: "freezer/\(w)/freezer.state", value: "FROZEN")),
          .kill(pid: 4300), .kill(pid: 4301),
          .write(CgroupWrite(path: "freezer/\(w)/freezer.state", value: "THAWED")),
          .write(CgroupWrite(path: "freezer/\(w)/sub/freezer.state", value: "THAWED")),
        ])
      #expect(fs.signalled == [4300, 4301])
      #expect(fs.text("freezer/\(w)/sub/freezer.state") == "THAWED")

      let removed = try driver.remove(box)
      #expect(removed.prefix(2) == [.removeDirectory("memory/\(w)/sub"), .removeDirectory("freezer/\(w)/sub")])
      #expect(removed.count == 2 + 5 * 3)
      for h in ["memory", "pids", "cpu", "cpuacct", "freezer"] {
        #expect(TemporaryDirectoryListing.entries(driver.root + "/" + h) == ["cgroup.procs"])
      }
      #expect(try driver.teardown(box) == [])
    }
  }

  @Test func withoutAFreezerItSignalsUntilEmpty() throws {
    try withDriver(["memory": ["memory"], "pids": ["pids"]]) { driver, fs, box in
      _ = try driver.create(box)
      _ = try driver.attach(pid: 4300, to: box)
      #expect(try driver.kill(box) == [.kill(pid: 4300)])
      #expect(fs.signalled == [4300])
    }
  }

  @Test func processesNeverSignalledAreZeroOneOrThisProcess() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      let procs = driver.root + "/pids/boxwalk/4242-987654/web/cgroup.procs"
      try HostCgroupFileSystem().write(procs, "0\n1\n-1\n\(getpid())\nnot-a-pid\n4300\n4300\n")
      #expect(driver.executor.processes(in: ["pids/boxwalk/4242-987654/web"]) == [4300])
    }
  }

  @Test func sessionsAreTheUnionOverHierarchies() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      try fs.makeDirectory(driver.root + "/pids/boxwalk/777-1")
      #expect(driver.sessions() == ["4242-987654", "777-1"])
      let actions = try driver.teardownSession("777-1")
      #expect(actions == [.removeDirectory("pids/boxwalk/777-1")])
      #expect(driver.sessions() == ["4242-987654"])
    }
  }
}
