import CShim
import Glibc
import HelperWire
import Kernel

/// One running boxwalk-helper and boxwalk's end of its socket.
final class HelperProcess {
  let box: String
  let pid: pid_t
  let startTime: UInt64
  private var fd: Int32
  private var reaped = false
  /// The descriptor numbers at which the helper holds boxwalk's session directory and image
  /// store open (the `anchor` request; -1: not held). See BoxwalkHelper/Anchors.swift.
  var anchors: [Int32] = [-1, -1]
  /// The host paths those directories are.
  var anchorPaths: [String] = ["", ""]

  /// Why a helper could not be started or did not answer.
  enum Failure: Error {
    /// bw_spawn_helper failed at this stage (a negative `bw_spawn_stage`) with this errno.
    case spawn(stage: Int32, errno: Int32)
    /// A system call of ours failed (socketpair, send, recv).
    case system(SystemCallError)
    /// The helper closed its end: it exited or was killed.
    case gone
    /// The helper said something that is not protocol bw2.
    case protocolError(String)
    /// The helper refused to start (`err ERRNO start NOTE`).
    case refused(errno: Int32, note: String)
  }

  private init(box: String, pid: pid_t, startTime: UInt64, fd: Int32) {
    self.box = box
    self.pid = pid
    self.startTime = startTime
    self.fd = fd
  }

  /// socketpair(2), bw_spawn_helper (fork, PR_SET_PDEATHSIG, execve), then wait for its hello.
  static func spawn(box: String, executable: String, procfs: ProcFS) throws(Failure) -> HelperProcess {
    var pair: [Int32] = [-1, -1]
    // SEQPACKET keeps message boundaries; CLOEXEC keeps our end out of every other child.
    guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
      throw .system(SystemCallError(call: "socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)", errno: errno))
    }
    var pid: pid_t = 0
    let stage: Int32 = executable.withCString { path in
      "boxwalk-helper".withCString { argv0 in
        var argv: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: argv0), nil]
        return bw_spawn_helper(path, &argv, pair[1], &pid)
      }
    }
    let spawnErrno = errno
    close(pair[1])  // the child has it as fd 3 now; ours must go, or we would never see its EOF
    guard stage == 0 else {
      close(pair[0])
      throw .spawn(stage: stage, errno: spawnErrno)
    }
    // From here on a SIGTERM or SIGHUP of boxwalk kills this helper too (bw_install_fatal_signal_handlers).
    _ = bw_emergency_add_pid(pid)
    // The start time pins the identity of this pid for the ledger; the child is unreaped, so the
    // pid cannot be recycled while we read it.
    let helper = HelperProcess(box: box, pid: pid, startTime: procfs.identity(String(pid))?.startTime ?? 0, fd: pair[0])
    do throws(Failure) {
      // A helper starts in milliseconds; one that says nothing for seconds is stuck, not slow.
      guard helper.readable(withinMilliseconds: 5000) else {
        throw Failure.protocolError("\(executable) did not say hello within 5 seconds")
      }
      switch try helper.receive() {
      case .hello(let version, let helloPID) where version == HelperWire.version && helloPID == pid:
        return helper
      case .hello(let version, _):
        throw Failure.protocolError(
          "\(executable) speaks protocol \(version), this boxwalk speaks \(HelperWire.version)")
      case .err(let errno, _, let note):
        throw Failure.refused(errno: errno, note: note ?? "")
      case .ok, .started, .out:
        throw Failure.protocolError("\(executable) said something before hello")
      }
    } catch {
      helper.kill()
      throw error
    }
  }

  /// Send one request and read its reply.
  func call(_ request: HelperRequest) throws(Failure) -> HelperReply {
    try send(request)
    return try receive()
  }

  /// Send one request without waiting: the helper works on it while we do something else, and
  /// `reply()` reads the answer later. The socket is SOCK_SEQPACKET and the helper answers in
  /// order, so requests sent one after another are answered one after another.
  func send(_ request: HelperRequest) throws(Failure) {
    guard let bytes = request.encoded() else { throw .system(SystemCallError(call: "send", errno: EMSGSIZE)) }
    var n: Int
    repeat {
      // MSG_NOSIGNAL: a dead helper gives EPIPE, not a SIGPIPE that would kill boxwalk.
      n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    } while n < 0 && errno == EINTR
    if n < 0 {
      if errno == EPIPE || errno == ECONNRESET || errno == EBADF { throw .gone }
      throw .system(SystemCallError(call: "send", errno: errno))
    }
  }

  /// The reply to the oldest request sent with `send(_:)` and not yet answered.
  func reply() throws(Failure) -> HelperReply { try receive() }

  /// poll(2): is a message (or end of file) waiting?
  private func readable(withinMilliseconds timeout: Int32) -> Bool {
    var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    var ready: Int32
    repeat { ready = poll(&waiting, 1, timeout) } while ready < 0 && errno == EINTR
    return ready != 0  // an error is left for recv(2) to report
  }

  /// The next message of a streamed reply (a foreground `run`). `onInterrupt` runs whenever a
  /// signal (Ctrl-C) interrupted the wait; the wait then goes on until the helper answers.
  func nextReply(onInterrupt: @escaping () -> Void) throws(Failure) -> HelperReply {
    try receive(onInterrupt: onInterrupt)
  }

  private func receive(onInterrupt: (() -> Void)? = nil) throws(Failure) -> HelperReply {
    var buffer = [UInt8](repeating: 0, count: HelperWire.maxMessage)
    var n: Int
    repeat {
      n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
      if n < 0 && errno == EINTR { onInterrupt?() }
    } while n < 0 && errno == EINTR
    if n < 0 {
      if errno == ECONNRESET || errno == EBADF { throw .gone }
      throw .system(SystemCallError(call: "recv", errno: errno))
    }
    if n == 0 { throw .gone }
    guard n <= buffer.count else { throw .protocolError("a reply of \(n) bytes") }
    let fields: [[UInt8]]
    do {
      fields = try HelperWire.decode(Array(buffer[0..<n]))
    } catch {
      throw .protocolError("\(error)")
    }
    guard let reply = HelperReply(fields: fields) else { throw .protocolError("an unknown reply") }
    return reply
  }

  /// kill(2) SIGKILL. Forget the pid for the fatal-signal handler first: after the reap below the
  /// kernel may give the number to another process.
  func signalKill() {
    guard !reaped else { return }
    bw_emergency_remove_pid(pid)
    Glibc.kill(pid, SIGKILL)
  }

  /// If the helper has exited on its own (killed from outside, or by the OOM killer), reaps it
  /// (waitpid(2) with WNOHANG) and says how it ended; nil while it runs.
  func exitedOnItsOwn() -> String? {
    guard !reaped else { return nil }
    var status: Int32 = 0
    var rc: pid_t
    repeat { rc = waitpid(pid, &status, WNOHANG) } while rc < 0 && errno == EINTR
    guard rc == pid else { return nil }
    reaped = true
    bw_emergency_remove_pid(pid)
    close(fd)
    fd = -1
    let signal = status & 0x7f
    return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by \(signalName(signal))"
  }

  /// waitpid(2) for the helper, and close our end of the socket. Idempotent.
  func reap() {
    guard !reaped else { return }
    reaped = true
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    close(fd)
    fd = -1
  }

  func kill() {
    signalKill()
    reap()
  }
}
