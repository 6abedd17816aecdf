import Kernel
import Testing

@testable import LinuxBackend

@Suite struct CgroupActionTests {
  let root = "/sys/fs/cgroup"

  @Test func systemCallsAndShellCommands() throws {
    let setting = try CgroupSetting.parse(key: "memory.max", value: "64M")
    let write = CgroupAction.write(
      CgroupWrite(path: "memory/boxwalk/4242-987654/web/memory.limit_in_bytes", value: "67108864", setting: setting))
    #expect(
      write.systemCall(root: root)
        == "write(\"/sys/fs/cgroup/memory/boxwalk/4242-987654/web/memory.limit_in_bytes\", \"67108864\")")
    #expect(
      write.shellCommand(root: root)
        == "echo 67108864 > /sys/fs/cgroup/memory/boxwalk/4242-987654/web/memory.limit_in_bytes")
    let enable = CgroupAction.write(CgroupWrite(path: "cgroup.subtree_control", value: "+memory +pids +cpu"))
    #expect(enable.shellCommand(root: root) == "echo '+memory +pids +cpu' > /sys/fs/cgroup/cgroup.subtree_control")
    #expect(CgroupAction.makeDirectory("boxwalk").systemCall(root: root) == "mkdir(\"/sys/fs/cgroup/boxwalk\", 0755)")
    #expect(CgroupAction.makeDirectory("boxwalk").shellCommand(root: root + "/") == "mkdir /sys/fs/cgroup/boxwalk")
    #expect(
      CgroupAction.removeDirectory("pids/boxwalk").shellCommand(root: root) == "rmdir /sys/fs/cgroup/pids/boxwalk")
    #expect(CgroupAction.kill(pid: 77).systemCall(root: root) == "kill(77, SIGKILL)")
    #expect(CgroupAction.kill(pid: 77).shellCommand(root: root) == "kill -KILL 77")
  }

  @Test func translationLinesGroupWritesBySetting() throws {
    let cpu = try CgroupSetting.parse(key: "cpu.max", value: "50000 100000")
    let memory = try CgroupSetting.parse(key: "memory.max", value: "max")
    let actions: [CgroupAction] = [
      .write(CgroupWrite(path: "cpu/boxwalk/s/web/cpu.cfs_period_us", value: "100000", setting: cpu)),
      .write(CgroupWrite(path: "cpu/boxwalk/s/web/cpu.cfs_quota_us", value: "50000", setting: cpu)),
      .write(CgroupWrite(path: "cgroup.subtree_control", value: "+cpu")),
      .write(CgroupWrite(path: "memory/boxwalk/s/web/memory.limit_in_bytes", value: "-1", setting: memory)),
    ]
    #expect(
      CgroupAction.translations(actions) == [
        "cpu.max \"50000 100000\" -> cpu.cfs_period_us = 100000, cpu.cfs_quota_us = 50000",
        "memory.max max -> memory.limit_in_bytes = -1",
      ])
  }

  @Test func sessionIdsCanBeMaskedForDeterministicOutput() {
    let action = CgroupAction.write(CgroupWrite(path: "memory/boxwalk/4242-9/web/cgroup.procs", value: "4242"))
    #expect(
      action.replacingSession("4242-9", with: "SESSION")
        == .write(CgroupWrite(path: "memory/boxwalk/SESSION/web/cgroup.procs", value: "4242")))
    // Only the component right after boxwalk/ is the session.
    #expect(
      CgroupAction.makeDirectory("boxwalk/1-2/1-2").replacingSession("1-2", with: "S")
        == .makeDirectory("boxwalk/S/1-2"))
    #expect(CgroupAction.kill(pid: 3).replacingSession("1-2", with: "S") == .kill(pid: 3))
    #expect(
      action.replacingPIDs([4242: "<web>"]).shellCommand(root: "/sys/fs/cgroup")
        == "echo '<web>' > /sys/fs/cgroup/memory/boxwalk/4242-9/web/cgroup.procs")
    #expect(action.replacingPIDs([1: "<db>"]) == action)
  }

  @Test func retryDelaysDoubleFromTheFirst() {
    #expect(CgroupRetryPolicy().delays == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000])
    #expect(CgroupRetryPolicy(attempts: 1).delays == [])
    #expect(CgroupRetryPolicy(attempts: 40, firstDelay: 1).delays.last == UInt32.max)
  }

  @Test func fileFormats() throws {
    #expect(CgroupFileFormat.keyed("populated 1\nfrozen 0\n") == ["populated": "1", "frozen": "0"])
    #expect(CgroupFileFormat.limit("max\n") == .max)
    #expect(CgroupFileFormat.limit("10\n") == .value(10))
    #expect(CgroupFileFormat.limit("ten") == nil)
    let unlimited = try #require(CgroupFileFormat.cpuMax("max 100000\n"))
    #expect(unlimited.quota == .max && unlimited.period == 100_000)
    let half = try #require(CgroupFileFormat.cpuMax("50000 100000"))
    #expect(half.quota == .value(50_000) && half.period == 100_000)
    #expect(CgroupFileFormat.cpuMax("50000") == nil)
    #expect(CgroupFileFormat.v1MemoryLimit("9223372036854771712\n") == .max)
    #expect(CgroupFileFormat.v1MemoryLimit("9223372036854710272\n") == .max)  // 64 KiB pages
    #expect(CgroupFileFormat.v1MemoryLimit("67108864\n") == .value(67_108_864))
    #expect(CgroupFileFormat.v1Quota("-1\n") == .max)
    #expect(CgroupFileFormat.v1Quota("50000\n") == .value(50_000))
    #expect(" \n a b \n".trimmingWhitespace == "a b")
    #expect(" \n".trimmingWhitespace == "")
  }
}
