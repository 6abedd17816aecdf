import Kernel

/// `clock offset monotonic|boottime SECONDS`: the offsets of a time namespace (time_namespaces(7)).
extension Session {
  func clockCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("clock")
    guard args.first == "offset" else { throw usage("clock", "clock needs: offset monotonic|boottime SECONDS") }
    try arity("clock offset", Array(args.dropFirst()), 2, usageOf: "clock")
    guard let clock = TimeClock(rawValue: args[1]) else {
      var details: [(String, String)] = [("clocks", "monotonic boottime")]
      if let near = Nearest.match(args[1], in: TimeClock.allCases.map(\.rawValue)) {
        details.append(("did you mean", near))
      }
      details.append(
        (
          "rule",
          "a time namespace shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME only; the wall clock is the same everywhere"
        ))
      details.append(LabError.unchanged)
      throw LabError("a time namespace has no clock \(quotedForTerminal(args[1]))", details)
    }
    guard let seconds = Int64(args[2]), (0...ClockOffsets.maximum).contains(seconds) else {
      throw LabError(
        "\(quotedForTerminal(args[2])) is not an offset boxwalk writes",
        [
          (
            "rule",
            "whole seconds from 0 to \(ClockOffsets.maximum) (a negative offset can take the clock below zero, which the kernel refuses with ERANGE depending on the machine's uptime)"
          ),
          ("example", "clock offset boottime 86400"), LabError.unchanged,
        ])
    }
    // The host's time namespace has had processes in it since boot, so its offsets are frozen
    // (EACCES); and boxwalk never writes the host's anyway.
    if shares(box, .time) {
      throw LabError(
        "refused: \(box) shares the host's time namespace, so this would change the host's clocks",
        [
          ("rule", "a box shifts clocks only in a time namespace of its own, before its first process enters it"),
          ("fix", "unshare time"), LabError.unchanged,
        ])
    }
    try runStep(.namespace(.clockOffset(box: box, clock: clock, seconds: seconds)), input: line, into: &out)
  }
}
