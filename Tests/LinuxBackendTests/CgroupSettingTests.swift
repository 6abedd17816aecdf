import Kernel
import Testing

@testable import LinuxBackend

@Suite struct CgroupSettingTests {
  @Test(arguments: [
    ("64M", CgroupLimit.value(67_108_864)), ("1G", .value(1_073_741_824)), ("max", .max), ("1048576", .value(1 << 20)),
    ("1028k", .value(1_052_672)), ("2T", .value(2 << 40)), ("1M", .value(1 << 20)), ("  64M ", .value(67_108_864)),
    ("8589934591G", .value(9_223_372_035_781_033_984)),
  ])
  func memorySizes(_ text: String, _ limit: CgroupLimit) throws {
    let setting = try CgroupSetting.parse(key: "memory.max", value: text)
    #expect(setting.key == .memoryMax)
    #expect(setting.value == .bytes(limit))
    #expect(setting.v2Text == limit.description)
  }

  @Test(arguments: ["", "64X", "M", "-1", "1.5G", "0x10", "64 M", "9E", "8589934592G", "max1", "６４"])
  func badMemorySizes(_ text: String) {
    #expect(throws: CgroupSettingError.self) { try CgroupSetting.parse(key: "memory.max", value: text) }
  }

  /// The kernel keeps memory limits in pages and rounds down; a limit below what the cgroup uses
  /// is EBUSY on v1 and an OOM kill on v2. boxwalk refuses both, so every backend agrees.
  @Test(arguments: [
    (
      "2000000", "not a whole number of 4096-byte pages: the kernel would round 2000000 down to 1998848",
      "write 1998848 (or a size in K, M or G)"
    ),
    ("100000", "below 1M", "write 1M or more"),
    (
      "1048577", "not a whole number of 4096-byte pages: the kernel would round 1048577 down to 1048576",
      "write 1048576 (or a size in K, M or G)"
    ),
    ("4096", "below 1M", "write 1M or more"), ("0", "below 1M", "write 1M or more"),
    ("1000K", "below 1M", "write 1M or more"),
  ])
  func memoryNotWholePages(_ text: String, _ rule: String, _ fix: String) {
    do {
      _ = try CgroupSetting.parse(key: "memory.max", value: text)
      Issue.record("\(text) was accepted")
    } catch {
      #expect(error.rule.hasPrefix(rule))
      #expect(error.fix == fix)
    }
  }

  @Test func pids() throws {
    #expect(try CgroupSetting.parse(key: "pids.max", value: "10").value == .count(.value(10)))
    #expect(try CgroupSetting.parse(key: "pids.max", value: "max").value == .count(.max))
    #expect(try CgroupSetting.parse(key: "pids.max", value: "4194304").value == .count(.value(4_194_304)))
    for bad in ["4194305", "-1", "ten", "10k", ""] {
      #expect(throws: CgroupSettingError.self, "\(bad)") { try CgroupSetting.parse(key: "pids.max", value: bad) }
    }
  }

  @Test func cpu() throws {
    let half = try CgroupSetting.parse(key: "cpu.max", value: "50000 100000")
    #expect(half.value == .cpu(quota: .value(50_000), period: 100_000))
    #expect(half.v2Text == "50000 100000")
    #expect(half.description == "cpu.max \"50000 100000\"")
    #expect(try CgroupSetting.parse(key: "cpu.max", value: "max").value == .cpu(quota: .max, period: nil))
    #expect(try CgroupSetting.parse(key: "cpu.max", value: "max 20000").v2Text == "max 20000")
    #expect(try CgroupSetting.parse(key: "cpu.max", value: "25000").value == .cpu(quota: .value(25_000), period: nil))
    // Two words the REPL passed as one, with extra spaces: normalised.
    #expect(try CgroupSetting.parse(key: "cpu.max", value: " 50000\t 100000 ").typed == "50000 100000")
    for bad in ["999 100000", "50000 999", "50000 1000001", "1 2 3", "", "half", "50000 max", "17592186044416"] {
      #expect(throws: CgroupSettingError.self, "\(bad)") { try CgroupSetting.parse(key: "cpu.max", value: bad) }
    }
  }

  @Test func keysAreV2Names() {
    do {
      _ = try CgroupSetting.parse(key: "memory.limit_in_bytes", value: "64M")
      Issue.record("a v1 key was accepted")
    } catch {
      #expect(error.rule.contains("cgroup v1 name"))
      #expect(error.fix.contains("cgroup set memory.max"))
    }
    do {
      _ = try CgroupSetting.parse(key: "memory.high", value: "64M")
      Issue.record("an unknown key was accepted")
    } catch {
      #expect(error.fix == "use one of memory.max, pids.max, cpu.max")
    }
  }

  @Test func errorTextQuotesControlBytesAndSaysNothingChanged() {
    let error = CgroupSettingError(key: "pids.max", value: "1\u{1b}[2J", rule: "not a process count", fix: "write 10")
    #expect(
      error.description
        == "cgroup set \"pids.max\" \"1\\u001b[2J\": not a process count\n  fix: write 10\n  nothing was changed")
  }

  @Test func boxCgroupNames() throws {
    #expect(try BoxCgroup(session: "4242-987654", box: "web").path == "boxwalk/4242-987654/web")
    #expect(BoxCgroup.sessionPath("4242-987654") == "boxwalk/4242-987654")
    for bad in ["", ".", "..", "a/b", "-web", "web box", String(repeating: "a", count: 256), "wéb"] {
      #expect(throws: CgroupError.self, "\(bad)") { try BoxCgroup(session: "1-2", box: bad) }
    }
    #expect(throws: CgroupError.self) { try BoxCgroup(session: "../etc", box: "web") }
  }
}
