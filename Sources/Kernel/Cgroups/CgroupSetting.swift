/// `cgroup set KEY VALUE`, parsed and checked before any file is written (docs/architecture.md,
/// "Errors").
///
/// Keys are spelled as cgroup v2 spells them on every host; the v1 driver translates them
/// (Documentation/admin-guide/cgroup-v2.rst, "Memory", "PID", "CPU" interface files). This file
/// uses only the Swift standard library and Kernel, so it could move to Kernel for the simulator
/// and the command grammar to share.
public struct CgroupSetting: Equatable, Hashable, Sendable, CustomStringConvertible {
  public enum Key: String, CaseIterable, Equatable, Hashable, Sendable {
    /// Hard memory limit in bytes; over it the kernel reclaims, then OOM-kills inside the cgroup.
    case memoryMax = "memory.max"
    /// Most processes (and threads) the cgroup may hold; fork(2) and clone(2) fail with EAGAIN.
    case pidsMax = "pids.max"
    /// "QUOTA PERIOD": at most QUOTA microseconds of CPU time per PERIOD microseconds.
    case cpuMax = "cpu.max"
  }

  public enum Value: Equatable, Hashable, Sendable {
    case bytes(CgroupLimit)
    case count(CgroupLimit)
    /// Quota in microseconds per period; a nil period keeps the current one.
    case cpu(quota: CgroupLimit, period: UInt64?)
  }

  public var key: Key
  public var value: Value
  /// The value as the learner typed it ("64M"), for the translation line.
  public var typed: String
  /// The cgroup layout the setting is written to: the host's (the simulator's, which models the
  /// host's). The step's plan names the files of this layout (`files(_:)`).
  public var layout: CgroupVersion

  public init(key: Key, value: Value, typed: String, layout: CgroupVersion = .v2) {
    self.key = key
    self.value = value
    self.typed = typed
    self.layout = layout
  }

  /// `memory.max 64M`, with quotes where the value has a space: `cpu.max "50000 100000"`.
  public var description: String {
    key.rawValue + " " + (typed.contains(" ") ? "\"" + typed + "\"" : typed)
  }

  /// The text cgroup v2 takes in the file of the same name: bytes, a count, or "QUOTA PERIOD".
  public var v2Text: String {
    switch value {
    case .bytes(let limit), .count(let limit): return limit.description
    case .cpu(let quota, let period): return quota.description + (period.map { " \($0)" } ?? "")
    }
  }

  // MARK: - Kernel bounds

  /// PID_MAX_LIMIT on 64-bit kernels: pids.max takes 0 ... this, or "max" (kernel/cgroup/pids.c).
  public static let pidsLimit: UInt64 = 4_194_304
  /// cpu.max bounds (kernel/sched/core.c, tg_set_bandwidth): a period from 1 ms to 1 s, a quota
  /// of at least 1 ms and at most 2^44 - 1 microseconds (MAX_BW).
  public static let cpuPeriods: ClosedRange<UInt64> = 1_000...1_000_000
  public static let cpuQuotas: ClosedRange<UInt64> = 1_000...((1 << 44) - 1)
  /// The largest memory limit: the kernel keeps it as a signed 64-bit byte count.
  public static let memoryLimit = UInt64(Int64.max)
  /// The kernel keeps a memory limit as a number of pages: both v2's memory.max and v1's
  /// memory.limit_in_bytes go through page_counter_memparse() (mm/memcontrol.c), which divides
  /// by PAGE_SIZE and drops the remainder, so 100000 becomes 98304. boxwalk takes only whole
  /// pages, so what it writes is what the file then says, on every host (4096 bytes on x86-64).
  public static let pageSize: UInt64 = 4096
  /// The smallest limit boxwalk writes. Below what the cgroup already uses (the helper and its
  /// children charge a few hundred KiB), v1 refuses the write with EBUSY and v2 reclaims and
  /// then OOM-kills the box's processes, the helper included; 1M stays clear of both.
  public static let memoryFloor: UInt64 = 1 << 20

  /// v1 names a learner may know, and the v2 key boxwalk spells them with.
  static let v1Spellings: [String: Key] = [
    "memory.limit_in_bytes": .memoryMax, "cpu.cfs_quota_us": .cpuMax, "cpu.cfs_period_us": .cpuMax,
  ]

  /// Parse and check `KEY VALUE`. Throws with the rule and a fix; nothing has been written then.
  public static func parse(key: String, value: String, layout: CgroupVersion = .v2) throws(CgroupSettingError)
    -> CgroupSetting
  {
    let keys = Key.allCases.map(\.rawValue).joined(separator: ", ")
    guard let parsedKey = Key(rawValue: key) else {
      if let v2 = v1Spellings[key] {
        throw CgroupSettingError(
          key: key, value: value, rule: "\(key) is the cgroup v1 name; boxwalk spells every key as cgroup v2 does",
          fix: "write cgroup set \(v2.rawValue) ... (on v1 hosts boxwalk translates it)")
      }
      throw CgroupSettingError(key: key, value: value, rule: "unknown cgroup key", fix: "use one of \(keys)")
    }
    let text = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    switch parsedKey {
    case .memoryMax:
      return CgroupSetting(key: parsedKey, value: .bytes(try bytes(text, key: key)), typed: text, layout: layout)
    case .pidsMax:
      return CgroupSetting(key: parsedKey, value: .count(try count(text, key: key)), typed: text, layout: layout)
    case .cpuMax:
      return CgroupSetting(key: parsedKey, value: try cpu(text, key: key), typed: text, layout: layout)
    }
  }

  /// `max`, or bytes with an optional K, M, G or T suffix in powers of 1024 (as the kernel's
  /// memparse() reads them: 64M is 67108864).
  static func bytes(_ text: String, key: String) throws(CgroupSettingError) -> CgroupLimit {
    if text == "max" { return .max }
    let fix = "write a number of bytes with an optional K, M, G or T suffix (64M, 1G), or max"
    var digits = Substring(text)
    var multiplier: UInt64 = 1
    if let last = digits.last, !last.isNumber {
      switch last {
      case "k", "K": multiplier = 1 << 10
      case "m", "M": multiplier = 1 << 20
      case "g", "G": multiplier = 1 << 30
      case "t", "T": multiplier = 1 << 40
      default: throw CgroupSettingError(key: key, value: text, rule: "unknown size suffix \"\(last)\"", fix: fix)
      }
      digits = digits.dropLast()
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = UInt64(digits) else {
      throw CgroupSettingError(key: key, value: text, rule: "not a size", fix: fix)
    }
    let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
    guard !overflow, product <= memoryLimit else {
      throw CgroupSettingError(key: key, value: text, rule: "more than the kernel can count (8E)", fix: "write max")
    }
    guard product >= memoryFloor else {
      throw CgroupSettingError(
        key: key, value: text,
        rule:
          "below 1M: the box's own processes already use some of that, and the kernel would refuse (v1: EBUSY) or OOM-kill them (v2)",
        fix: "write 1M or more")
    }
    guard product % pageSize == 0 else {
      let down = product - product % pageSize
      throw CgroupSettingError(
        key: key, value: text,
        rule: "not a whole number of \(pageSize)-byte pages: the kernel would round \(product) down to \(down)",
        fix: "write \(down) (or a size in K, M or G)")
    }
    return .value(product)
  }

  /// `max`, or a process count from 0 to PID_MAX_LIMIT.
  static func count(_ text: String, key: String) throws(CgroupSettingError) -> CgroupLimit {
    if text == "max" { return .max }
    guard let n = plainNumber(text) else {
      throw CgroupSettingError(
        key: key, value: text, rule: "not a process count", fix: "write a number such as 10, or max")
    }
    guard n <= pidsLimit else {
      throw CgroupSettingError(
        key: key, value: text, rule: "more than the kernel's PID_MAX_LIMIT (\(pidsLimit))", fix: "write max")
    }
    return .value(n)
  }

  /// `QUOTA [PERIOD]` in microseconds, QUOTA may be `max`: "50000 100000" is half of one CPU.
  static func cpu(_ text: String, key: String) throws(CgroupSettingError) -> Value {
    let words = text.split(separator: " ").map(String.init)
    let fix = "write QUOTA PERIOD in microseconds, e.g. \"50000 100000\" for half a CPU, or max"
    guard (1...2).contains(words.count) else {
      throw CgroupSettingError(key: key, value: text, rule: "cpu.max takes one or two numbers", fix: fix)
    }
    var period: UInt64?
    if words.count == 2 {
      guard let p = plainNumber(words[1]) else {
        throw CgroupSettingError(key: key, value: text, rule: "the period is not a number", fix: fix)
      }
      guard cpuPeriods.contains(p) else {
        throw CgroupSettingError(
          key: key, value: text, rule: "the period must be 1000 to 1000000 microseconds (1 ms to 1 s)", fix: fix)
      }
      period = p
    }
    if words[0] == "max" { return .cpu(quota: .max, period: period) }
    guard let quota = plainNumber(words[0]) else {
      throw CgroupSettingError(key: key, value: text, rule: "the quota is not a number or max", fix: fix)
    }
    guard cpuQuotas.contains(quota) else {
      throw CgroupSettingError(
        key: key, value: text, rule: "the quota must be at least 1000 microseconds (1 ms), at most 2^44 - 1", fix: fix)
    }
    return .cpu(quota: .value(quota), period: period)
  }

  /// Decimal digits only: no sign, no spaces, no 0x.
  static func plainNumber(_ text: String) -> UInt64? {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
      return nil
    }
    return UInt64(text)
  }
}

/// A limit: a number, or no limit at all ("max" in cgroup v2 files).
public enum CgroupLimit: Equatable, Hashable, Sendable, CustomStringConvertible {
  case max
  case value(UInt64)

  public var description: String {
    switch self {
    case .max: "max"
    case .value(let n): String(n)
    }
  }
}

/// A `cgroup set` that was refused before anything was written.
public struct CgroupSettingError: Error, Equatable, Sendable, CustomStringConvertible {
  public var key: String
  public var value: String
  public var rule: String
  public var fix: String

  public init(key: String, value: String, rule: String, fix: String) {
    self.key = key
    self.value = value
    self.rule = rule
    self.fix = fix
  }

  public var description: String {
    "cgroup set \(JSON.quote(key)) \(JSON.quote(value)): \(rule)\n  fix: \(fix)\n  nothing was changed"
  }
}

extension CgroupSetting {
  /// The files and values this setting becomes on a cgroup version. v1 has other names and
  /// writes "no limit" as -1; cpu.max splits into a period and a quota (Documentation/scheduler/
  /// sched-bwc.rst).
  public func files(_ version: CgroupVersion) -> [(file: String, value: String)] {
    switch (version, value) {
    case (.v2, _): return [(key.rawValue, v2Text)]
    case (.v1, .bytes(let limit)): return [("memory.limit_in_bytes", limit == .max ? "-1" : limit.description)]
    case (.v1, .count(let limit)): return [("pids.max", limit.description)]
    case (.v1, .cpu(let quota, let period)):
      return (period.map { [("cpu.cfs_period_us", String($0))] } ?? [])
        + [("cpu.cfs_quota_us", quota == .max ? "-1" : quota.description)]
    }
  }

  /// On v1, the line that shows what the v2 name became: `memory.max 64M -> memory.limit_in_bytes
  /// = 67108864`. nil on v2, where the file has the name the learner typed.
  public func translation(_ version: CgroupVersion) -> String? {
    guard version == .v1 else { return nil }
    return "cgroup v1: \(self) -> " + files(.v1).map { "\($0.file) = \($0.value)" }.joined(separator: ", ")
  }
}
