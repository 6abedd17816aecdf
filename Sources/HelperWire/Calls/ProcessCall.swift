/// The process area's plan entries as the helper makes them (HelperCall.swift).
package enum ProcessCall: Equatable, Sendable {
  /// kill(2) with SIGKILL of a process the helper started (by its pid on the host, which boxwalk
  /// found from the box's PID), then waited for until it is gone.
  case kill(hostPID: Int32)

  package var fields: [[UInt8]] {
    switch self {
    case .kill(let pid): [Framing.text("kill"), Framing.number(pid)]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    switch (name, args.count) {
    case ("kill", 1):
      guard let pid = Framing.integer(args[0], as: Int32.self), pid > 0 else { return nil }
      self = .kill(hostPID: pid)
    default: return nil
    }
  }
}
