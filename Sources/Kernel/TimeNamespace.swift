/// The clocks a time namespace can shift (time_namespaces(7)): CLOCK_MONOTONIC and
/// CLOCK_BOOTTIME. CLOCK_REALTIME, the wall clock, is the same in every namespace.
public enum TimeClock: String, CaseIterable, Equatable, Hashable, Sendable {
  case monotonic, boottime
}

/// The offsets of a time namespace, in seconds, as /proc/PID/timens_offsets shows them for the
/// namespace the process's children enter (its time_for_children).
public struct ClockOffsets: Equatable, Hashable, Sendable {
  public var monotonic: Int64
  public var boottime: Int64
  public init(monotonic: Int64 = 0, boottime: Int64 = 0) {
    self.monotonic = monotonic
    self.boottime = boottime
  }

  public subscript(clock: TimeClock) -> Int64 {
    get { clock == .monotonic ? monotonic : boottime }
    set {
      if clock == .monotonic { monotonic = newValue } else { boottime = newValue }
    }
  }

  /// The largest offset boxwalk writes, in seconds (about 31 years). The kernel refuses with
  /// ERANGE an offset that would make the clock negative or larger than half of KTIME_SEC_MAX;
  /// a negative offset's fate depends on how long the machine has been up, which differs between
  /// hosts, so boxwalk takes 0 to this.
  public static let maximum: Int64 = 1_000_000_000

  /// The contents of /proc/PID/timens_offsets: a line "CLOCK SECONDS NANOSECONDS" per clock,
  /// the clock by name or by number (1 is CLOCK_MONOTONIC, 7 CLOCK_BOOTTIME).
  public static func parse(_ text: String) -> ClockOffsets {
    var offsets = ClockOffsets()
    for line in text.split(separator: "\n") {
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count >= 2, let seconds = Int64(fields[1]) else { continue }
      switch fields[0] {
      case "monotonic", "1": offsets.monotonic = seconds
      case "boottime", "7": offsets.boottime = seconds
      default: continue
      }
    }
    return offsets
  }
}
