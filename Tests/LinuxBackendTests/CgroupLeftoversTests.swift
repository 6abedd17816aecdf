import Glibc
import Kernel
import Testing

@testable import LinuxBackend

@Suite struct CgroupLeftoversTests {
  let boot = "03392221-a224-410b-a2c1-bea7a8bd9e97"

  func identity(_ table: [Int32: ProcessIdentity]) -> (Int32) -> ProcessIdentity? { { table[$0] } }

  @Test func verdictsFollowTheLedgerRules() {
    let running = ProcessIdentity(comm: "boxwalk", state: "S", startTime: 500)
    let table: [Int32: ProcessIdentity] = [
      100: running, 200: ProcessIdentity(comm: "bash", state: "S", startTime: 999),
      300: ProcessIdentity(comm: "boxwalk", state: "Z", startTime: 700),
    ]
    let plan = CgroupLeftovers.plan(
      sessions: ["100-500", "200-600", "300-700", "400-800", "100-500-2", "mine-1", "42-1"], ownSession: "42-1",
      bootID: boot, identity: identity(table))
    #expect(plan.map(\.session) == ["100-500", "100-500-2", "200-600", "300-700", "400-800", "42-1", "mine-1"])
    #expect(
      plan.map(\.verdict) == [
        .keep("pid 100 is running"), .keep("pid 100 is running"),
        .remove("its owner, pid 200, has exited (the pid now belongs to another process)"),
        .remove("its owner, pid 300, has exited (a zombie)"), .remove("its owner, pid 400, has exited"),
        .keep("this session"), .notOurs,
      ])
  }

  @Test func cleanupTearsDownOnlyDeadSessions() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    // A /proc with a boot id and one live session owner (pid 100, start time 500).
    try dir.write("proc/sys/kernel/random/boot_id", boot + "\n")
    try dir.write("proc/100/stat", "100 (boxwalk) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0\n")
    let fs = try SimulatedCgroupFileSystem(
      root: dir.path + "/cg", layout: .v2(hierarchy: "", controllers: ["memory", "pids", "cpu"], kill: true))
    let driver = CgroupV2Driver(
      root: dir.path + "/cg", hierarchy: "", files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    _ = try driver.create(try BoxCgroup(session: "100-500", box: "web"))
    _ = try driver.create(try BoxCgroup(session: "400-800", box: "web"))
    _ = try driver.create(try BoxCgroup(session: "400-800", box: "db"))
    try fs.place(4401, in: "boxwalk/400-800/db")
    try fs.makeDirectory(dir.path + "/cg/boxwalk/not-ours")

    let lines = CgroupLeftovers.run(driver: driver, ownSession: nil, procRoot: dir.path + "/proc")
    #expect(
      lines == [
        "cgroup boxwalk/100-500: pid 100 is running, left alone",
        "cgroup boxwalk/400-800: its owner, pid 400, has exited; removed 3 directories",
        "cgroup boxwalk/not-ours: not a boxwalk session id, left alone",
      ])
    #expect(driver.sessions() == ["100-500", "not-ours"])
    // Twice is safe: cleanup is idempotent.
    #expect(CgroupLeftovers.run(driver: driver, ownSession: nil, procRoot: dir.path + "/proc").count == 2)
  }

  @Test func withoutABootIdNothingIsTouched() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let fs = try SimulatedCgroupFileSystem(root: dir.path, layout: .v2(hierarchy: "", controllers: [], kill: true))
    let driver = CgroupV2Driver(
      root: dir.path, hierarchy: "", files: fs, signal: fs.signaller, retry: CgroupV2DriverTests.fast)
    _ = try driver.create(try BoxCgroup(session: "400-800", box: "web"))
    #expect(CgroupLeftovers.run(driver: driver, ownSession: nil, procRoot: dir.path + "/nothing").count == 1)
    #expect(driver.sessions() == ["400-800"])
  }
}
