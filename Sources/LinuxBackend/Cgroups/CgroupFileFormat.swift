import Kernel

/// How cgroup interface files read (cgroup-v2.rst, "Interface Files"; cgroup-v1/*.rst), as pure
/// functions of their text.
enum CgroupFileFormat {
  /// A flat-keyed file, one `KEY VALUE` per line: memory.events, cpu.stat, pids.events,
  /// cgroup.events, and v1's memory.oom_control.
  static func keyed(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let words = line.split(separator: " ", omittingEmptySubsequences: true)
      if words.count == 2 { result[String(words[0])] = String(words[1]) }
    }
    return result
  }

  /// One number per file (memory.current, pids.current, cpuacct.usage).
  static func number(_ text: String) -> UInt64? { UInt64(text.trimmingWhitespace) }

  /// `max` or a number: memory.max, pids.max (both versions).
  static func limit(_ text: String) -> CgroupLimit? {
    let word = text.trimmingWhitespace
    if word == "max" { return .max }
    return UInt64(word).map { .value($0) }
  }

  /// v2 cpu.max: `QUOTA PERIOD`, QUOTA being `max` when there is no limit.
  static func cpuMax(_ text: String) -> (quota: CgroupLimit, period: UInt64)? {
    let words = text.split(whereSeparator: \.isWhitespace)
    guard words.count == 2, let period = UInt64(words[1]), let quota = limit(String(words[0])) else { return nil }
    return (quota, period)
  }

  /// v1 memory.limit_in_bytes. "No limit" reads back as the largest page-aligned signed 64-bit
  /// count (PAGE_COUNTER_MAX pages: 9223372036854771712 with 4 KiB pages), whatever was written
  /// (-1 usually). Anything within 64 KiB of Int64.max is that, for every page size Linux has.
  static func v1MemoryLimit(_ text: String) -> CgroupLimit? {
    guard let n = number(text) else { return nil }
    return n > UInt64(Int64.max) - 65_536 ? .max : .value(n)
  }

  /// The value the v1 memory limit reads back when there is none.
  static let v1UnlimitedMemory: UInt64 = 9_223_372_036_854_771_712

  /// v1 cpu.cfs_quota_us: -1 means no limit.
  static func v1Quota(_ text: String) -> CgroupLimit? {
    let word = text.trimmingWhitespace
    if let n = Int64(word), n < 0 { return .max }
    return UInt64(word).map { .value($0) }
  }
}

extension String {
  /// The text without leading and trailing spaces and newlines.
  var trimmingWhitespace: String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
      let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
    else { return "" }
    return String(scalars[first...last])
  }
}
