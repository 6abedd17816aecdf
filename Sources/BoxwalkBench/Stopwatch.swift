import Glibc

/// clock_gettime(2) CLOCK_MONOTONIC, in nanoseconds: the clock the C floor harness reads too, so
/// both sides of a ratio are timed the same way.
func monotonicNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Times `body` and returns milliseconds.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
  let start = monotonicNanoseconds()
  try body()
  return Double(monotonicNanoseconds() - start) / 1e6
}

/// A batch of timings of one thing, in milliseconds. Medians, not means: a VM has the odd
/// scheduling hiccup, and one 20 ms outlier should not move a figure measured in tenths.
struct Samples {
  var values: [Double] = []

  mutating func add(_ value: Double) { values.append(value) }

  /// The value below which `fraction` of the samples fall (nearest rank on the sorted samples).
  func quantile(_ fraction: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((fraction * Double(sorted.count - 1)).rounded())
    return sorted[min(max(rank, 0), sorted.count - 1)]
  }

  var median: Double { quantile(0.5) }
}

/// One result line, tab-separated, for bench/run to turn into BENCHMARKS.md:
/// `GROUP  NAME  MEDIAN_MS  P25_MS  P75_MS  RUNS  [KEY=VALUE ...]`.
func report(_ group: String, _ name: String, _ samples: Samples, _ extra: [(String, String)] = []) {
  var fields = [group, name, fixed(samples.median), fixed(samples.quantile(0.25)), fixed(samples.quantile(0.75))]
  fields.append(String(samples.values.count))
  fields += extra.map { "\($0.0)=\($0.1)" }
  emit(fields.joined(separator: "\t"))
}

/// A note line for a case that could not be measured: `GROUP  NAME  -  -  -  0  note=TEXT`.
func reportMissing(_ group: String, _ name: String, _ note: String) {
  emit([group, name, "-", "-", "-", "0", "note=" + note].joined(separator: "\t"))
}

/// One line on stdout, unbuffered: bench/run reads results as they come.
func emit(_ line: String) {
  let text = line + "\n"
  _ = text.withCString { write(1, $0, strlen($0)) }
}

/// Four decimals: tenths of a microsecond, in milliseconds. A difference of medians (a line's
/// "lab" share is its median less the medians of its kernel work and its read) can be negative.
func fixed(_ value: Double) -> String {
  guard value.isFinite else { return "-" }
  let scaled = Int((value * 10_000).rounded())
  let magnitude = scaled.magnitude
  let fraction = String(magnitude % 10_000)
  return (scaled < 0 ? "-" : "") + "\(magnitude / 10_000)." + String(repeating: "0", count: 4 - fraction.count)
    + fraction
}

/// A message on stderr: progress for the person running the benchmark.
func say(_ text: String) {
  let line = text + "\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
}
