/// The process area's plan entries as the helper makes them (HelperCall.swift).
package enum ProcessCall: Equatable, Sendable {
  /// fork(2) of a child that runs `argv` (its execvp(3) is the next entry, made by the child;
  /// the helper looks the program up in PATH first). `background`: the child's output goes to
  /// /dev/null and nobody waits for it.
  case fork(argv: [[UInt8]], background: Bool)
  /// How the child's execvp(3) went. Answer: Started (its PIDs); in the foreground a `started`
  /// reply goes out at once too.
  case execvp
  /// wait4(2) for the foreground child, its output streamed as `out` replies meanwhile.
  /// Answer: ProgramEnd.
  case wait4
  /// kill(2) with SIGKILL of a process the helper started (by its pid on the host, which boxwalk
  /// found from the box's PID), then waited for until it is gone.
  case kill(hostPID: Int32)

  package var fields: [[UInt8]] {
    switch self {
    case .kill(let pid): [Framing.text("kill"), Framing.number(pid)]
    case .fork(let argv, let background): [Framing.text("fork"), Framing.text(background ? "1" : "0")] + argv
    case .execvp: [Framing.text("execvp")]
    case .wait4: [Framing.text("wait4")]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    switch (name, args.count) {
    case ("kill", 1):
      guard let pid = Framing.integer(args[0], as: Int32.self), pid > 0 else { return nil }
      self = .kill(hostPID: pid)
    case ("fork", let n) where n >= 2 && ["0", "1"].contains(Framing.string(args[0])):
      guard args[1].isEmpty == false else { return nil }
      self = .fork(argv: Array(args.dropFirst()), background: Framing.string(args[0]) == "1")
    case ("execvp", 0): self = .execvp
    case ("wait4", 0): self = .wait4
    default: return nil
    }
  }
}
