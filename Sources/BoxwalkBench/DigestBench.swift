import Glibc
import Kernel
import LinuxBackend
import OCI

/// How long boxwalk takes to name a layer: the SHA-256 of the busybox layer's tar, the digest
/// `image build` and `image pull` compute for every layer (its diff_id) and that the simulator
/// computes too. The tar is written once; only the hashing is timed.
enum DigestBench {
  static func run(busybox: String, runs: Int) -> Int32 {
    guard let binary = LinuxKernel.busyboxBinary(path: busybox) else {
      say("digest: cannot read \(busybox)")
      return 1
    }
    let tar = LayerTar.write(BusyboxImage.layer(busybox: binary))
    var samples = Samples()
    var digest = ""
    // Two warm-up rounds, not counted: the first touches the tar's pages and the hasher's code.
    for run in 0..<runs + 2 {
      let ms = milliseconds { digest = SHA256.digest(tar) }
      if run >= 2 { samples.add(ms) }
    }
    let mebibytesPerSecond = Double(tar.count) / 1_048_576 / (samples.median / 1000)
    report(
      "digest", "sha256: busybox layer", samples,
      [("bytes", String(tar.count)), ("MiB_per_s", fixed(mebibytesPerSecond)), ("digest", digest)])
    return 0
  }
}
