/// A box cgroup's limits beside its usage, read from either version and named as cgroup v2
/// names them (`cgroup show`, and `BOX.cgroup...` in the state tree). A nil is a file the host
/// does not have (a controller not enabled, a kernel too old for memory.peak).
public struct CgroupReport: Equatable, Sendable {
  public struct Memory: Equatable, Sendable {
    /// memory.max (v1: memory.limit_in_bytes).
    public var max: CgroupLimit?
    /// memory.current (v1: memory.usage_in_bytes), bytes.
    public var current: UInt64?
    /// memory.peak, Linux 5.19 (v1: memory.max_usage_in_bytes), bytes.
    public var peak: UInt64?
    /// How often usage hit the limit: `max` in memory.events (v1: memory.failcnt).
    public var maxEvents: UInt64?
    /// Processes the OOM killer killed in here: `oom_kill` in memory.events (v1: in
    /// memory.oom_control, Linux 4.13).
    public var oomKills: UInt64?

    public init(
      max: CgroupLimit? = nil, current: UInt64? = nil, peak: UInt64? = nil, maxEvents: UInt64? = nil,
      oomKills: UInt64? = nil
    ) {
      self.max = max
      self.current = current
      self.peak = peak
      self.maxEvents = maxEvents
      self.oomKills = oomKills
    }
  }

  public struct Pids: Equatable, Sendable {
    public var max: CgroupLimit?
    public var current: UInt64?
    /// pids.peak: the most processes there ever were at once (recent kernels, v1 and v2).
    public var peak: UInt64?
    /// fork(2)s refused because of pids.max: `max` in pids.events.
    public var maxEvents: UInt64?

    public init(max: CgroupLimit? = nil, current: UInt64? = nil, peak: UInt64? = nil, maxEvents: UInt64? = nil) {
      self.max = max
      self.current = current
      self.peak = peak
      self.maxEvents = maxEvents
    }
  }

  public struct CPU: Equatable, Sendable {
    /// cpu.max (v1: cpu.cfs_quota_us, cpu.cfs_period_us), microseconds.
    public var quota: CgroupLimit?
    public var period: UInt64?
    /// `usage_usec` in cpu.stat (v1: cpuacct.usage, in nanoseconds).
    public var usageMicroseconds: UInt64?
    /// cpu.stat: enforcement periods, periods in which the cgroup was throttled, and the time it
    /// spent throttled (v1: throttled_time, in nanoseconds).
    public var periods: UInt64?
    public var throttledPeriods: UInt64?
    public var throttledMicroseconds: UInt64?

    public init(
      quota: CgroupLimit? = nil, period: UInt64? = nil, usageMicroseconds: UInt64? = nil, periods: UInt64? = nil,
      throttledPeriods: UInt64? = nil, throttledMicroseconds: UInt64? = nil
    ) {
      self.quota = quota
      self.period = period
      self.usageMicroseconds = usageMicroseconds
      self.periods = periods
      self.throttledPeriods = throttledPeriods
      self.throttledMicroseconds = throttledMicroseconds
    }
  }

  public var version: CgroupVersion
  /// False where nothing measured bytes and CPU time (the simulator, which counts processes,
  /// refused forks, OOM kills and throttled periods, but runs no real program to measure): those
  /// counters then read "not simulated" instead of a made-up number.
  public var measuresUsage = true
  /// For each limit, by its v2 name, the interface file(s) of the box's cgroup that hold it on
  /// this host, as the driver that read the limit named them: `memory.max` is the file
  /// `memory.max` on v2 and `memory.limit_in_bytes` (in the memory hierarchy) on v1; cpu.max is
  /// two files on v1, `cpu.cfs_quota_us cpu.cfs_period_us` (Documentation/admin-guide/
  /// cgroup-v1/memory.rst, Documentation/scheduler/sched-bwc.rst). Only limits that were read.
  public var files: [String: String] = [:]
  public var memory = Memory()
  public var pids = Pids()
  public var cpu = CPU()

  public init(version: CgroupVersion) { self.version = version }

  /// The subtree for `BOX.cgroup` (docs/state-paths.md), keys as the v2 files name them:
  /// `memory.max`, `memory.current`, `memory.events.oom_kill`, `pids.events.max`, `cpu.max`,
  /// `cpu.stat.nr_throttled`. Limits and counts a transcript can predict (OOM kills, refused
  /// forks, the number of processes) are plain; byte counts, times, peaks and the cgroup version
  /// (a fact of the host) are volatile (docs/transcripts.md, "What is volatile").
  public var state: StateValue {
    func int(_ n: UInt64?) -> StateValue? { n.map { .int(Int(clamping: $0)) } }
    /// A byte count or a time: volatile, or "not simulated" where nothing measured it.
    func measured(_ n: UInt64?) -> StateValue? {
      measuresUsage ? int(n).map { .volatile($0) } : .volatile(.string("not simulated"))
    }
    func limit(_ l: CgroupLimit?) -> StateValue? {
      switch l {
      case .none: nil
      case .max: .string("max")
      case .value(let n): .int(Int(clamping: n))
      }
    }
    func map(_ entries: [(String, StateValue?)]) -> StateValue {
      .map(StateMap(entries.compactMap { key, value in value.map { (key, $0) } }))
    }

    let memoryEvents = map([("max", int(memory.maxEvents).map { .volatile($0) }), ("oom_kill", int(memory.oomKills))])
    let pidsEvents = map([("max", int(pids.maxEvents))])
    var cpuMax: StateValue?
    if let quota = cpu.quota {
      cpuMax = .string(quota.description + (cpu.period.map { " \($0)" } ?? ""))
    }
    let stat = map([
      ("usage_usec", measured(cpu.usageMicroseconds)),
      ("nr_periods", int(cpu.periods).map { .volatile($0) }),
      ("nr_throttled", int(cpu.throttledPeriods).map { .volatile($0) }),
      ("throttled_usec", measured(cpu.throttledMicroseconds)),
    ])
    // Which file holds each limit depends on the host's cgroup version, so it is volatile too:
    // `show web.cgroup.files` prints it, the default diff never does.
    let fileNames = StateValue.map(StateMap(files.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    return map([
      ("version", .volatile(.string(version.rawValue))),
      ("files", files.isEmpty ? nil : .volatile(fileNames)),
      (
        "memory",
        map([
          ("max", limit(memory.max)), ("current", measured(memory.current)),
          ("peak", measured(memory.peak)), ("events", memoryEvents),
        ])
      ),
      (
        "pids",
        map([
          ("max", limit(pids.max)), ("current", int(pids.current)), ("peak", int(pids.peak).map { .volatile($0) }),
          ("events", pidsEvents),
        ])
      ),
      ("cpu", map([("max", cpuMax), ("stat", stat)])),
    ])
  }
}
