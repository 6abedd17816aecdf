import Glibc

/// flock(2) on the state root directory itself: sessions being created, torn down and cleaned up
/// never interleave. flock works on any open file, a directory included, so no lock file is
/// needed, and nothing is left under /run/boxwalk by a session that was killed while holding it
/// (the kernel drops a flock when its last file descriptor closes, even on SIGKILL).
struct StateRootLock {
  let stateRoot: String
  private let fd: Int32

  static func acquire(_ stateRoot: String) throws(SystemCallError) -> StateRootLock {
    let fd = open(stateRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else {
      throw SystemCallError(call: "open(\(SmallFiles.quoted(stateRoot)), O_DIRECTORY)", errno: errno)
    }
    var rc: Int32
    repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
    guard rc == 0 else {
      let failure = SystemCallError(call: "flock(\(SmallFiles.quoted(stateRoot)), LOCK_EX)", errno: errno)
      close(fd)
      throw failure
    }
    return StateRootLock(stateRoot: stateRoot, fd: fd)
  }

  /// Unlocks (closing the descriptor releases the flock).
  func release() { close(fd) }
}
