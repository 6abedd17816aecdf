import Glibc

/// Whole processes, timed from outside: posix_spawnp(3) to wait4(2), with the child's maximum
/// resident set size from the rusage wait4 fills in. Used for every command measured as a whole
/// (the REPL, unshare(1), crun, runc), so they are all timed the same way.
enum ProcessRuns {
  struct Run {
    var milliseconds: Double
    /// Time until the first newline on the child's stdout (the REPL's first line), when asked.
    var firstLineMilliseconds: Double?
    /// ru_maxrss: kilobytes.
    var maxRSSKilobytes: Int
    var status: Int32
  }

  enum Failure: Error {
    case spawn(Int32)
  }

  /// Runs `argv` once. stdin comes from `stdinPath` (default /dev/null); stdout and stderr go to
  /// /dev/null, unless `firstLine` is set: then stdout is a pipe read until its first newline,
  /// and stdin is a pipe held open until then (a REPL waits for input, so it cannot exit before
  /// it has printed its first line and is ready for a command).
  static func run(_ argv: [String], stdinPath: String? = nil, firstLine: Bool = false) throws(Failure) -> Run {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var outPipe: [Int32] = [-1, -1]
    var inPipe: [Int32] = [-1, -1]
    if firstLine {
      // Close-on-exec, so the child holds only the copies dup2 makes on 0 and 1: the end of input
      // it must see is ours to give.
      guard pipe(&outPipe) == 0, pipe(&inPipe) == 0 else { throw .spawn(errno) }
      for fd in outPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
      posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

    var pid: pid_t = 0
    let start = monotonicNanoseconds()
    let rc = withCStrings(argv) { cArgv in posix_spawnp(&pid, argv[0], &actions, nil, cArgv, environ) }
    guard rc == 0 else { throw .spawn(rc) }
    var firstLineMilliseconds: Double?
    if firstLine {
      close(outPipe[1])
      close(inPipe[0])
      var byte: UInt8 = 0
      while read(outPipe[0], &byte, 1) == 1 {
        if byte == UInt8(ascii: "\n") {
          firstLineMilliseconds = Double(monotonicNanoseconds() - start) / 1e6
          break
        }
      }
      close(inPipe[1])  // end of input: the REPL tears down and exits
      var sink = [UInt8](repeating: 0, count: 4096)
      while sink.withUnsafeMutableBytes({ read(outPipe[0], $0.baseAddress, $0.count) }) > 0 {}
      close(outPipe[0])
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let elapsed = Double(monotonicNanoseconds() - start) / 1e6
    return Run(
      milliseconds: elapsed, firstLineMilliseconds: firstLineMilliseconds, maxRSSKilobytes: Int(usage.ru_maxrss),
      status: status)
  }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  pointers.append(nil)
  defer { for p in pointers { free(p) } }
  return pointers.withUnsafeBufferPointer { buffer in
    guard let base = buffer.baseAddress else {
      // Never taken; a pointer made from an array literal would dangle, so make a real one.
      let terminator = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
      terminator.initialize(to: nil)
      defer { terminator.deallocate() }
      return body(UnsafePointer(terminator))
    }
    return body(base)
  }
}
