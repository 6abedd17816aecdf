import Glibc
import Kernel
import Testing

@testable import LinuxBackend

/// The v2 driver against a simulated cgroup2 in a temporary directory (no root needed).
@Suite struct CgroupV2DriverTests {
  static let fast = CgroupRetryPolicy(attempts: 4, firstDelay: 10, killRounds: 2)

  /// A driver over a simulated cgroup2 at `DIR/hierarchy`, removed after `body`.
  func withDriver(
    hierarchy: String = "", controllers: [String] = ["cpuset", "cpu", "io", "memory", "pids"], kill: Bool = true,
    _ body: (CgroupV2Driver, SimulatedCgroupFileSystem, BoxCgroup) throws -> Void
  ) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fs = try SimulatedCgroupFileSystem(
      root: dir.path, layout: .v2(hierarchy: hierarchy, controllers: controllers, kill: kill))
    let driver = CgroupV2Driver(root: dir.path, hierarchy: hierarchy, files: fs, signal: fs.signaller, retry: Self.fast)
    try body(driver, fs, try BoxCgroup(session: "4242-987654", box: "web"))
  }

  @Test func createHandsControllersDownToALeaf() throws {
    try withDriver { driver, fs, box in
      let actions = try driver.create(box)
      #expect(
        actions == [
          .write(CgroupWrite(path: "cgroup.subtree_control", value: "+memory +pids +cpu")),
          .makeDirectory("boxwalk"),
          .write(CgroupWrite(path: "boxwalk/cgroup.subtree_control", value: "+memory +pids +cpu")),
          .makeDirectory("boxwalk/4242-987654"),
          .write(CgroupWrite(path: "boxwalk/4242-987654/cgroup.subtree_control", value: "+memory +pids +cpu")),
          .makeDirectory("boxwalk/4242-987654/web"),
        ])
      #expect(fs.text("boxwalk/4242-987654/web/cgroup.controllers") == "memory pids cpu")
      // The box is a leaf: its own subtree_control stays empty so it may hold processes.
      #expect(fs.text("boxwalk/4242-987654/web/cgroup.subtree_control") == "")
      #expect(driver.directories(of: box) == ["boxwalk/4242-987654/web"])

      // A second box of the same session reuses the parents (the writes are idempotent).
      let second = try driver.create(try BoxCgroup(session: "4242-987654", box: "db"))
      #expect(
        second.filter { if case .makeDirectory = $0 { true } else { false } } == [
          .makeDirectory("boxwalk/4242-987654/db")
        ])
    }
  }

  @Test func onAHybridHostCgroup2HasNoControllersToHandDown() throws {
    try withDriver(hierarchy: "unified", controllers: ["hugetlb"]) { driver, fs, box in
      #expect(
        try driver.create(box) == [
          .makeDirectory("unified/boxwalk"), .makeDirectory("unified/boxwalk/4242-987654"),
          .makeDirectory("unified/boxwalk/4242-987654/web"),
        ])
      do {
        _ = try driver.set(try CgroupSetting.parse(key: "memory.max", value: "64M"), on: box)
        Issue.record("memory.max was written without a memory controller")
      } catch let error as CgroupError {
        #expect(error.errno == .ENOENT)
        #expect(
          error.explanation.contains("the memory controller is not enabled for this cgroup; its parent offers none"))
      }
      let report = try driver.report(box)
      #expect(report.memory.max == nil && report.pids.max == nil && report.cpu.quota == nil)
      #expect(report.files.isEmpty)
      #expect(report.cpu.usageMicroseconds == 0)
    }
  }

  @Test func createRefusesACgroupItDidNotMake() throws {
    try withDriver { driver, _, box in
      _ = try driver.create(box)
      do {
        _ = try driver.create(box)
        Issue.record("an existing cgroup was adopted")
      } catch let error as CgroupError {
        #expect(error.errno == .EEXIST)
        #expect(error.explanation.contains("does not adopt"))
      }
      // A box named like an interface file of the session cgroup.
      do {
        _ = try driver.create(try BoxCgroup(session: "4242-987654", box: "cgroup.procs"))
        Issue.record("a box named cgroup.procs was made")
      } catch let error as CgroupError {
        #expect(error.errno == .EEXIST)
        #expect(error.explanation.contains("interface file"))
      }
    }
  }

  @Test func attachSetAndReport() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      #expect(
        try driver.attach(pid: 4300, to: box) == [
          .write(CgroupWrite(path: "boxwalk/4242-987654/web/cgroup.procs", value: "4300"))
        ])
      #expect(fs.text("boxwalk/4242-987654/web/cgroup.procs") == "4300\n")
      #expect(fs.text("cgroup.procs") == "1\n")

      let memory = try CgroupSetting.parse(key: "memory.max", value: "64M")
      let actions = try driver.set(memory, on: box)
      #expect(
        actions == [.write(CgroupWrite(path: "boxwalk/4242-987654/web/memory.max", value: "67108864", setting: memory))]
      )
      #expect(CgroupAction.translations(actions) == ["memory.max 64M -> memory.max = 67108864"])
      _ = try driver.set(try CgroupSetting.parse(key: "pids.max", value: "10"), on: box)
      _ = try driver.set(try CgroupSetting.parse(key: "cpu.max", value: "50000 100000"), on: box)
      #expect(fs.text("boxwalk/4242-987654/web/cpu.max") == "50000 100000")

      // The kernel's counters, as a stress run would leave them.
      let dir = driver.root + "/boxwalk/4242-987654/web/"
      try HostCgroupFileSystem().write(dir + "memory.current", "1048576\n")
      try HostCgroupFileSystem().write(dir + "memory.peak", "67100000\n")
      try HostCgroupFileSystem().write(
        dir + "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n")
      try HostCgroupFileSystem().write(dir + "pids.current", "3\n")
      try HostCgroupFileSystem().write(dir + "pids.events", "max 7\n")
      try HostCgroupFileSystem().write(
        dir + "cpu.stat",
        "usage_usec 2000000\nuser_usec 1990000\nsystem_usec 10000\nnr_periods 40\nnr_throttled 20\nthrottled_usec 1000000\n"
      )

      var expected = CgroupReport(version: .v2)
      expected.memory = .init(max: .value(67_108_864), current: 1_048_576, peak: 67_100_000, maxEvents: 12, oomKills: 1)
      expected.pids = .init(max: .value(10), current: 3, peak: 0, maxEvents: 7)
      expected.cpu = .init(
        quota: .value(50_000), period: 100_000, usageMicroseconds: 2_000_000, periods: 40, throttledPeriods: 20,
        throttledMicroseconds: 1_000_000)
      expected.files = ["memory.max": "memory.max", "pids.max": "pids.max", "cpu.max": "cpu.max"]
      let report = try driver.report(box)
      #expect(report == expected)
      // Which file holds a limit is a fact of the host: volatile, shown only when asked for.
      #expect(report.state["files"]?.isVolatile == true)
      #expect(report.state["files"]?["memory.max"] == .string("memory.max"))
      #expect(report.state["memory"]?["max"] == .int(67_108_864))
      #expect(report.state["memory"]?["events"]?["oom_kill"] == .int(1))
      #expect(report.state["memory"]?["current"]?.isVolatile == true)
      #expect(report.state["pids"]?["events"]?["max"] == .int(7))
      #expect(report.state["cpu"]?["max"] == .string("50000 100000"))
      #expect(report.state["cpu"]?["stat"]?["nr_throttled"] == .volatile(.int(20)))
      #expect(report.state.withoutVolatile?["version"] == nil)
    }
  }

  @Test func attachErrorsExplainTheRule() throws {
    try withDriver { driver, _, box in
      do {
        _ = try driver.attach(pid: 4300, to: box)
        Issue.record("attached to a cgroup that does not exist")
      } catch let error as CgroupError {
        #expect(error.errno == .ENOENT)
        #expect(error.call.hasSuffix("/boxwalk/4242-987654/web/cgroup.procs\", \"4300\")"))
      }
      #expect(throws: CgroupError.self) { try driver.report(box) }
    }
    #expect(
      CgroupErrorExplanation.write(EBUSY, file: "cgroup.procs", version: .v2).contains("no-internal-processes rule"))
    #expect(
      CgroupErrorExplanation.write(EBUSY, file: "cgroup.subtree_control", version: .v2).contains(
        "only the root is exempt"))
  }

  @Test func killUsesCgroupKillAndRemoveGoesDepthFirst() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      _ = try driver.attach(pid: 4300, to: box)
      // The learner made a sub-cgroup inside the box and moved a process there.
      try fs.makeDirectory(driver.root + "/boxwalk/4242-987654/web/inner")
      try fs.place(4301, in: "boxwalk/4242-987654/web/inner")
      #expect(fs.text("boxwalk/4242-987654/web/cgroup.events") == "populated 1\nfrozen 0\n")

      #expect(try driver.kill(box) == [.write(CgroupWrite(path: "boxwalk/4242-987654/web/cgroup.kill", value: "1"))])
      #expect(fs.signalled == [])  // the kernel did it
      #expect(fs.text("boxwalk/4242-987654/web/cgroup.events") == "populated 0\nfrozen 0\n")

      #expect(
        try driver.remove(box) == [
          .removeDirectory("boxwalk/4242-987654/web/inner"), .removeDirectory("boxwalk/4242-987654/web"),
          .removeDirectory("boxwalk/4242-987654"), .removeDirectory("boxwalk"),
        ])
      #expect(TemporaryDirectoryListing.entries(driver.root).filter { !$0.hasPrefix("cgroup.") } == [])
      // Everything already gone: a second teardown is a no-op that succeeds.
      #expect(try driver.teardown(box) == [])
    }
  }

  @Test func removeKeepsTheParentsOtherBoxesStillUse() throws {
    try withDriver { driver, _, box in
      _ = try driver.create(box)
      _ = try driver.create(try BoxCgroup(session: "4242-987654", box: "db"))
      // web holds no process (populated 0), so there is nothing to kill: only the rmdir.
      #expect(try driver.teardown(box) == [.removeDirectory("boxwalk/4242-987654/web")])
      #expect(driver.sessions() == ["4242-987654"])
    }
  }

  @Test func beforeLinux513ItFreezesAndSignals() throws {
    try withDriver(kill: false) { driver, fs, box in
      _ = try driver.create(box)
      _ = try driver.attach(pid: 4300, to: box)
      try fs.place(4302, in: "boxwalk/4242-987654/web")
      let actions = try driver.kill(box)
      #expect(
        actions == [
          .write(CgroupWrite(path: "boxwalk/4242-987654/web/cgroup.freeze", value: "1")),
          .kill(pid: 4300), .kill(pid: 4302),
          .write(CgroupWrite(path: "boxwalk/4242-987654/web/cgroup.freeze", value: "0")),
        ])
      #expect(fs.signalled == [4300, 4302])
    }
  }

  @Test func rmdirIsRetriedOnEBUSYAndGivesUpAfterTheLastTry() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      fs.failRemoval("boxwalk/4242-987654/web", times: 3)
      #expect(try driver.remove(box).first == .removeDirectory("boxwalk/4242-987654/web"))

      _ = try driver.create(box)
      fs.failRemoval("boxwalk/4242-987654/web", times: 4)
      do {
        _ = try driver.remove(box)
        Issue.record("rmdir kept failing and remove succeeded")
      } catch let error as CgroupError {
        #expect(error.errno == .EBUSY)
        #expect(error.explanation.contains("after 4 tries"))
      }
      #expect(try driver.remove(box).first == .removeDirectory("boxwalk/4242-987654/web"))
    }
  }

  @Test func aSessionIsTornDownWhole() throws {
    try withDriver { driver, fs, box in
      _ = try driver.create(box)
      _ = try driver.create(try BoxCgroup(session: "4242-987654", box: "db"))
      _ = try driver.create(try BoxCgroup(session: "5000-1", box: "web"))
      try fs.place(4400, in: "boxwalk/4242-987654/db")
      #expect(driver.sessions() == ["4242-987654", "5000-1"])
      let actions = try driver.teardownSession("4242-987654")
      #expect(actions.first == .write(CgroupWrite(path: "boxwalk/4242-987654/cgroup.kill", value: "1")))
      #expect(actions.contains(.removeDirectory("boxwalk/4242-987654")))
      #expect(!actions.contains(.removeDirectory("boxwalk")))  // session 5000-1 still has a box
      #expect(driver.sessions() == ["5000-1"])
      #expect(throws: CgroupError.self) { try driver.teardownSession("../..") }
    }
  }
}

/// Directory listings for assertions.
enum TemporaryDirectoryListing {
  static func entries(_ path: String) -> [String] { ((try? SmallFiles.list(path)) ?? []).sorted() }
}
