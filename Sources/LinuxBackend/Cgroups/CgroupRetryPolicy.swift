import Kernel

/// How long to keep trying while the kernel finishes something asynchronous: processes that got
/// SIGKILL still have to exit and free their memory before their cgroup reads empty, and rmdir(2)
/// of a cgroup says EBUSY until then. opencontainers/cgroups `RemovePath`
/// tries 10 times, waiting 1 ms and doubling: half a second in all. crun instead re-kills between
/// tries; boxwalk does both (`killRounds`).
package struct CgroupRetryPolicy: Equatable, Sendable {
  /// Tries in all, the first one included.
  package var attempts: Int
  /// The wait before the second try, in microseconds; each later wait doubles.
  package var firstDelay: UInt32
  /// How many times teardown kills again when processes outlive all the waits of one round.
  package var killRounds: Int

  package init(attempts: Int = 10, firstDelay: UInt32 = 1_000, killRounds: Int = 3) {
    self.attempts = attempts
    self.firstDelay = firstDelay
    self.killRounds = killRounds
  }

  /// The waits between tries, in microseconds: `attempts - 1` of them (1, 2, 4, ... 256 ms for
  /// the default: 511 ms before the last try).
  package var delays: [UInt32] {
    guard attempts > 1 else { return [] }
    return (0..<(attempts - 1)).map { i in
      let shifted = UInt64(firstDelay) << UInt64(min(i, 32))
      return UInt32(clamping: shifted)
    }
  }
}
