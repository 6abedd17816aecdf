/// What a step produced besides the state change: a program's output and how it ended, for `run`.
public struct StepResult: Equatable, Sendable {
  /// Lines the program wrote to stdout and stderr, in order, without newlines.
  public var output: [String]
  /// How a foreground program ended; nil for a background one.
  public var exit: ProcessExit?
  /// The PID the new process has in the box's view (only printed when the box has its own pid
  /// namespace: otherwise it is a host PID, which is volatile).
  public var boxPID: Int?
  /// Facts the step learned that the state tree does not hold: what a cgroup v1 host wrote
  /// instead of a v2 file, how a stress program fared.
  public var notes: [String]
  /// `stress fork`: how many forks the kernel refused (EAGAIN) and how many it allowed.
  public var forksRefused: Int?
  public var forksStarted: Int?
  /// `stress cpu`: whether the cgroup's CPU quota throttled the spinner.
  public var throttled: Bool?

  /// What the kernel answered to `ping`.
  public var ping: PingAnswer?
  /// What a TCP connect(2) came to (connect steps only).
  public var connect: ConnectOutcome?
  /// The line that came back from the other end's responder after `connect` sent its own.
  public var answer: String?

  /// `run` of a program the simulator does not run: the one line it prints instead. Nothing
  /// was forked and nothing changed.
  public var notSimulated: String?

  public init(
    output: [String] = [], exit: ProcessExit? = nil, boxPID: Int? = nil, notes: [String] = [],
    forksRefused: Int? = nil, forksStarted: Int? = nil, throttled: Bool? = nil, ping: PingAnswer? = nil,
    notSimulated: String? = nil
  ) {
    self.notSimulated = notSimulated
    self.output = output
    self.exit = exit
    self.boxPID = boxPID
    self.notes = notes
    self.forksRefused = forksRefused
    self.forksStarted = forksStarted
    self.throttled = throttled
    self.ping = ping
  }

  public static let none = StepResult()
}

/// How a process ended (wait(2)): its exit status, or the signal that killed it.
public enum ProcessExit: Equatable, Sendable {
  case exited(Int32)
  case signaled(Int32)

  public var description: String {
    switch self {
    case .exited(let code): "exit status \(code)"
    case .signaled(let sig): "killed by \(signalName(sig))"
    }
  }
}

/// The name of a signal number (signal(7), x86-64 and most architectures).
public func signalName(_ sig: Int32) -> String {
  let names: [Int32: String] = [
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE",
    14: "SIGALRM", 15: "SIGTERM",
  ]
  return names[sig] ?? "signal \(sig)"
}

/// The kernel's answer to one ICMP echo request (`ping`): a reply came, or none did. When the
/// kernel refused to send at all (no route: sendto(2) fails with ENETUNREACH), `sendErrno` says so.
public struct PingAnswer: Equatable, Sendable {
  public var reachable: Bool
  public var sendErrno: Errno?
  public init(reachable: Bool, sendErrno: Errno? = nil) {
    self.reachable = reachable
    self.sendErrno = sendErrno
  }
}

/// How one TCP connect(2) ended (tcp(7)): the handshake completed; the other end answered with a
/// reset (ECONNREFUSED: nothing listens on that port); the kernel refused to send (no route:
/// ENETUNREACH, EHOSTUNREACH); or no answer came within the time limit (the SYN or its answer was
/// dropped on the way).
public enum ConnectOutcome: Equatable, Sendable {
  case connected
  case refused
  case unreachable(Errno)
  case timedOut
}
