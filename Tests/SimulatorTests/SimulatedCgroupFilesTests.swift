import Kernel
import Testing

@testable import Simulator

/// `BOX.cgroup.files`: the file each limit lives in on this host's cgroup version. The simulator
/// follows the host's version, so it must name what the real drivers name there
/// (CgroupV1DriverTests and CgroupV2DriverTests check those).
@Suite struct SimulatedCgroupFilesTests {
  func files(_ version: CgroupVersion) throws -> StateValue? {
    let k = SimulatedKernel(cgroupVersion: version)
    try k.perform(.process(.boxNew(box: "web")))
    try k.perform(.cgroup(.cgroupNew(box: "web")))
    try k.perform(.cgroup(.cgroupSet(box: "web", setting: try CgroupSetting.parse(key: "memory.max", value: "32M"))))
    var builder = StateTreeBuilder()
    return builder.build(try k.facts())["web"]?["cgroup"]?["files"]
  }

  @Test func aV1HostKeepsTheMemoryLimitInLimitInBytes() throws {
    let files = try #require(try files(.v1))
    #expect(files.isVolatile)
    #expect(files["memory.max"] == .string("memory.limit_in_bytes"))
    #expect(files["cpu.max"] == .string("cpu.cfs_quota_us cpu.cfs_period_us"))
    #expect(files["pids.max"] == .string("pids.max"))
  }

  @Test func aV2HostUsesTheNamesBoxwalkShows() throws {
    let files = try #require(try files(.v2))
    #expect(files["memory.max"] == .string("memory.max"))
    #expect(files["cpu.max"] == .string("cpu.max"))
  }
}
