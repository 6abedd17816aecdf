import Glibc

/// flock(2) on <stateRoot>/.lock: sessions being created, torn down and cleaned up never
/// interleave. The lock file is removed again when nothing else is left in the state root, so an
/// idle host shows no boxwalk state at all; a waiter that wakes up holding the lock of a file that
/// was just unlinked sees st_nlink == 0 and starts over (as systemd's lock files do).
struct StateRootLock {
  let stateRoot: String
  private let fd: Int32

  static func acquire(_ stateRoot: String) throws(SystemCallError) -> StateRootLock {
    let path = stateRoot + "/.lock"
    while true {
      let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
      guard fd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(path)), O_CREAT)", errno: errno) }
      var rc: Int32
      repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
      guard rc == 0 else {
        let failure = SystemCallError(call: "flock(\(SmallFiles.quoted(path)), LOCK_EX)", errno: errno)
        close(fd)
        throw failure
      }
      var info = stat()
      if fstat(fd, &info) == 0 && info.st_nlink > 0 { return StateRootLock(stateRoot: stateRoot, fd: fd) }
      close(fd)  // unlinked while we waited: lock the new file instead
    }
  }

  /// Unlock. With `removeIfIdle`, first unlink the lock file if it is the only entry left.
  func release(removeIfIdle: Bool) {
    if removeIfIdle, let names = try? SmallFiles.list(stateRoot), names == [".lock"] {
      unlink(stateRoot + "/.lock")
    }
    close(fd)
  }
}
