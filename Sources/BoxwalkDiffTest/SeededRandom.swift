/// A small deterministic generator (SplitMix64, Steele, Lea and Flood 2014): the same seed gives
/// the same session on every machine and every run, which is what lets a seed name a session.
struct SeededRandom {
  private var state: UInt64

  init(seed: UInt64) {
    // Seeds 1, 2, 3 would otherwise start one step apart on the same sequence.
    state = seed
    state = next() ^ 0x2545_F491_4F6C_DD1D
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A number in 0..<bound.
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

  mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

  /// true with probability `p`.
  mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

  mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
