import Kernel

/// A small deterministic generator (Kernel's SplitMix64): the same seed gives
/// the same session on every machine and every run, which is what lets a seed name a session.
struct SeededRandom {
  private var generator: SplitMix64

  init(seed: UInt64) {
    // Seeds 1, 2, 3 would otherwise start one step apart on the same sequence.
    generator = SplitMix64(state: seed)
    generator.state = generator.next() ^ 0x2545_F491_4F6C_DD1D
  }

  mutating func next() -> UInt64 { generator.next() }

  /// A number in 0..<bound.
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

  mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

  /// true with probability `p`.
  mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

  mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
