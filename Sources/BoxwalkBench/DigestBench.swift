import Glibc
import Kernel
import LinuxBackend
import OCI

/// How long boxwalk takes to name content: SHA-256 (OCI's SHA256, the one wrapper every digest
/// goes through) of the busybox layer's tar, the digest `image build` and `image pull` compute
/// for every layer (its diff_id) and that the simulator computes too; of a 64 MiB layer-sized
/// input; and of 10,000 small inputs (200 bytes, about a descriptor or a config), per digest.
/// The inputs are made once; only the hashing is timed. The figures decided for swift-crypto
/// (docs/architecture.md, "SHA-256").
enum DigestBench {
  static func run(busybox: String, runs: Int) -> Int32 {
    guard let binary = LinuxKernel.busyboxBinary(path: busybox) else {
      say("digest: cannot read \(busybox)")
      return 1
    }
    var random = SplitMix64(state: 0x5348_4132)
    let large = (0..<(64 << 20) / 8).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
    let small = (0..<10_000).map { _ in (0..<25).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } } }
    time("sha256: busybox layer", LayerTar.write(BusyboxImage.layer(busybox: binary)), runs: runs)
    time("sha256: 64 MiB", large, runs: max(3, runs / 5))
    var samples = Samples()
    var total = 0
    for run in 0..<runs + 2 {
      let ms = milliseconds { for input in small { total &+= SHA256.digest(input).utf8.count } }
      if run >= 2 { samples.add(ms) }
    }
    report(
      "digest", "sha256: 10000 x 200 bytes", samples,
      [("us_per_digest", fixed(samples.median * 1000 / Double(small.count))), ("chars", String(total))])
    return 0
  }

  /// Hashes `bytes` `runs` times after two warm-up rounds, not counted: the first touches the
  /// input's pages and the hasher's code.
  static func time(_ name: String, _ bytes: [UInt8], runs: Int) {
    var samples = Samples()
    var digest = ""
    for run in 0..<runs + 2 {
      let ms = milliseconds { digest = SHA256.digest(bytes) }
      if run >= 2 { samples.add(ms) }
    }
    let mebibytesPerSecond = Double(bytes.count) / 1_048_576 / (samples.median / 1000)
    report(
      "digest", name, samples,
      [("bytes", String(bytes.count)), ("MiB_per_s", fixed(mebibytesPerSecond)), ("digest", digest)])
  }
}
