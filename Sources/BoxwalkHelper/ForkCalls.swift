import CShim
import Glibc
import HelperWire

/// A fork entry (`HelperCall.childMakesTheRest`): the helper forks, and the child makes every
/// entry after it in the request, so what a program does (join the box's cgroup, then its work)
/// is done by the program's own process, never by the helper. The helper waits for the child
/// and answers the fork entry with how it ended; the child reports on a pipe which of its
/// entries failed, if one did, and the helper names that entry in its `err`.
extension BoxOperations {
  /// What a fork entry and the entries after it came to.
  enum ForkOutcome {
    /// The child ran to its end (or was killed: the OOM killer's SIGKILL is an answer too).
    case made([[UInt8]])
    /// Entry `offset` failed, counted from the fork entry (0: the fork itself).
    case failed(offset: Int, errno: Int32, note: String?)
  }

  func fork(making rest: [HelperCall], _ makeOne: (HelperCall, inout CallState) -> Calls.Outcome) -> ForkOutcome {
    // PID 1 of the box's pid namespace is gone: the kernel refuses every fork into the
    // namespace with ENOMEM (pid_namespaces(7)).
    if initExited { return .failed(offset: 0, errno: ENOMEM, note: nil) }
    var report: [Int32] = [-1, -1]
    guard bw_pipe_cloexec(&report) == 0 else { return .failed(offset: 0, errno: errno, note: nil) }
    let parent = getpid()
    let child = Glibc.fork()
    if child == 0 {
      close(report[0])
      Self.makeInChild(rest, parent: parent, report: report[1], makeOne)
    }
    close(report[1])
    defer { close(report[0]) }
    guard child > 0 else { return .failed(offset: 0, errno: errno, note: nil) }
    // First the child's PID as it saw itself (1 in a fresh pid namespace), then its record: done
    // with its counts, or the entry that failed. Nothing (EOF) when it was killed first.
    var boxPID: Int32 = 0
    var record: [Int32] = [0, 0, 0]
    _ = Self.readAll(report[0], &boxPID, MemoryLayout<Int32>.size)
    let recorded = record.withUnsafeMutableBytes { Self.readAll(report[0], $0.baseAddress, $0.count) }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    // PID 1 of a new pid namespace (the host's PID 1 is never our child): its exit ended it.
    if boxPID == 1 { initExited = true }
    if recorded, record[0] == 1 {
      let (entry, failure) = (Int(record[1]), record[2])
      guard case .cgroup(.enterCgroup) = rest[entry] else {
        return .failed(offset: entry + 1, errno: failure, note: nil)
      }
      // pids.max refused the child in the box's cgroup (bw_enter_box_cgroup lets the kernel
      // refuse a fork there): that is the fork refused, as it would be for a fork made inside.
      if failure == EAGAIN { return .failed(offset: 0, errno: EAGAIN, note: nil) }
      return .failed(offset: entry + 1, errno: EIO, note: "the stress program could not join the box's cgroup")
    }
    let counts = recorded ? (Int(record[1]), Int(record[2])) : (0, 0)
    return .made(StressOutcome(status: status, started: counts.0, refused: counts.1).fields)
  }

  /// The child: arm the death signal, report its PID, make the entries, report, and exit.
  private static func makeInChild(
    _ rest: [HelperCall], parent: pid_t, report: Int32, _ makeOne: (HelperCall, inout CallState) -> Calls.Outcome
  ) -> Never {
    // The helper is never the OOM killer's victim; what it starts is, as any process would be.
    bw_child_unprotect_from_oom()
    _ = bw_set_pdeathsig(SIGKILL)
    // If the helper died before the death signal was armed, we were re-parented: stop. PID 1 of
    // a new pid namespace sees getppid() == 0 (its parent is outside the namespace).
    let up = getppid()
    if up != parent && up != 0 { _exit(1) }
    var own = getpid()
    _ = write(report, &own, MemoryLayout<Int32>.size)
    var state = CallState()
    var record: [Int32] = [0, 0, 0]
    for (k, call) in rest.enumerated() {
      if case .failed(let failure, _) = makeOne(call, &state) {
        record = [1, Int32(k), failure]
        break
      }
    }
    if record[0] == 0 { record = [0, Int32(state.counts.started), Int32(state.counts.refused)] }
    _ = record.withUnsafeBytes { write(report, $0.baseAddress, $0.count) }
    _exit(record[0] == 0 ? 0 : 1)
  }

  /// read(2) until `count` bytes arrived; false at EOF or an error before that.
  private static func readAll(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Bool {
    guard let buffer else { return false }
    var got = 0
    while got < count {
      let n = read(fd, buffer + got, count - got)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return false }
      got += n
    }
    return true
  }
}
