import Kernel

/// `cgroup new|set|show` and `stress`: limits the kernel enforces, and what a box uses
/// (cgroups(7), Documentation/admin-guide/cgroup-v2.rst).
extension Session {
  func cgroupCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("cgroup")
    let has = facts.box(box)?.process.cgroup != nil
    switch args.first {
    case "new":
      try arity("cgroup new", Array(args.dropFirst()), 0, usageOf: "cgroup")
      guard !has else { throw LabError("\(box) already has a cgroup", [("see", "cgroup show"), LabError.unchanged]) }
      try runStep(.cgroup(.cgroupNew(box: box)), input: line, into: &out)
    case "set":
      try arity("cgroup set", Array(args.dropFirst()), 2, usageOf: "cgroup")
      guard has else { throw noCgroup(box) }
      let setting: CgroupSetting
      do {
        // Written to the host's layout (the simulator's models it): the syscall lines name its files.
        setting = try CgroupSetting.parse(key: args[1], value: args[2], layout: kernel.cgroupVersion)
      } catch {
        throw LabError(
          "cgroup set \(escapedForTerminal(args[1])) \(escapedForTerminal(args[2])): \(escapedForTerminal(error.rule))",
          [
            ("fix", escapedForTerminal(error.fix)),
            ("keys", "memory.max pids.max cpu.max (named as on cgroup v2, on every host)"),
            LabError.unchanged,
          ])
      }
      try runStep(.cgroup(.cgroupSet(box: box, setting: setting)), input: line, into: &out)
    case "show":
      guard args.count == 1 || args == ["show", "--raw"] else { throw usage("cgroup", "cgroup show takes only --raw") }
      guard has else { throw noCgroup(box) }
      try refresh()
      out.lines += cgroupTable(box, raw: args.count == 2)
    default:
      throw usage("cgroup", "cgroup needs new, set or show")
    }
  }

  func stressCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("stress")
    try arity("stress", args, 2)
    guard facts.box(box)?.process.cgroup != nil else { throw noCgroup(box) }
    let kind: StressKind
    switch args[0] {
    case "memory":
      guard let bytes = Self.parseSize(args[1]), bytes > 0, bytes <= 4 << 30 else {
        throw LabError(
          "stress memory takes a size from 1 byte to 4G, like 64M",
          [("got", escapedForTerminal(args[1])), LabError.unchanged])
      }
      kind = .memory(bytes: bytes)
    case "fork":
      guard let count = Int(args[1]), count > 0, count <= 4096 else {
        throw LabError(
          "stress fork takes a count from 1 to 4096", [("got", escapedForTerminal(args[1])), LabError.unchanged])
      }
      kind = .fork(count: count)
    case "cpu":
      guard let seconds = Double(args[1]), seconds > 0, seconds <= 10 else {
        throw LabError(
          "stress cpu takes seconds, more than 0 and at most 10",
          [("got", escapedForTerminal(args[1])), LabError.unchanged])
      }
      kind = .cpu(milliseconds: Int(seconds * 1000))
    default:
      throw usage("stress", "stress takes memory, fork or cpu")
    }
    try runStep(.cgroup(.stress(box: box, kind: kind)), input: line, into: &out)
  }

  /// 64M, 1G, 4096: binary multiples, as cgroup files and ulimit take them.
  static func parseSize(_ text: String) -> UInt64? {
    guard let last = text.last else { return nil }
    let multipliers: [Character: UInt64] = [
      "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
    ]
    if let m = multipliers[last] { return UInt64(text.dropLast()).map { $0 * m } }
    return UInt64(text)
  }

  func noCgroup(_ box: String) -> LabError {
    LabError(
      "\(box) has no cgroup yet",
      [("rule", "limits and stress tests need a cgroup of the box's own"), ("fix", "cgroup new"), LabError.unchanged])
  }

  /// Each limit beside what the box uses. Byte counts and times depend on the host and the moment
  /// (docs/transcripts.md, "What is volatile"): only with --raw.
  func cgroupTable(_ box: String, raw: Bool) -> [String] {
    func v(_ path: String...) -> StateValue? {
      tree.value(at: StatePath([.key(box), .key("cgroup")] + path.map { .key($0) }))
    }
    func text(_ value: StateValue?) -> String {
      guard let value else { return "-" }
      if value.isVolatile && !raw { return "(--raw)" }
      return value.unwrapped.stringValue ?? value.unwrapped.scalarText
    }
    // A time in microseconds, or the word that says why there is none ("not simulated").
    let usageValue = v("cpu", "stat", "usage_usec")
    let usage = raw && usageValue?.unwrapped.stringValue != nil ? text(usageValue) : text(usageValue) + " us"
    var rows = [["LIMIT", "VALUE", "USAGE"]]
    rows.append([
      "memory.max", text(v("memory", "max")),
      "current \(text(v("memory", "current"))), peak \(text(v("memory", "peak"))), OOM kills \(text(v("memory", "events", "oom_kill")))",
    ])
    rows.append([
      "pids.max", text(v("pids", "max")),
      "current \(text(v("pids", "current"))), forks refused \(text(v("pids", "events", "max")))",
    ])
    rows.append([
      "cpu.max", text(v("cpu", "max")),
      "usage \(usage), throttled \(text(v("cpu", "stat", "nr_throttled"))) periods",
    ])
    return DiffTable.table(rows)
  }
}
