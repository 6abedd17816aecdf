/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
/// a 64-bit counter stepped by the golden-ratio constant and scrambled by two xor-shift-multiply
/// rounds. It is tiny and fast, and unlike SystemRandomNumberGenerator it gives the same sequence
/// for the same seed on every machine and every run, which is what lets a seed name a fuzz case or
/// a differential session. Not for anything secret: the state is its own output's preimage.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(state: UInt64) { self.state = state }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
