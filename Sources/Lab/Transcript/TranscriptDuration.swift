/// Parses the argument of `#sleep`: a decimal number and a unit, `200ms`, `1.5s`, `2m`.
///
/// The unit is required: a bare `2` could be seconds or milliseconds, and a demo that waits 2000
/// times longer than meant is hard to notice while presenting. `#sleep` is cosmetic (the demo
/// player waits for steps to finish, never for a clock), so there is no need for finer units.
enum TranscriptDuration {
  /// nil when the text is not `DIGITS[.DIGITS](ms|s|m)`, or is too long for a `Duration`.
  static func parse(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000)]
    for (unit, nanosPerUnit) in units where text.hasSuffix(unit) {
      let number = String(text.dropLast(unit.count))
      let pieces = number.split(separator: ".", omittingEmptySubsequences: false)
      guard pieces.count <= 2, let whole = pieces.first, !whole.isEmpty else { return nil }
      let fraction = pieces.count == 2 ? pieces[1] : ""
      if pieces.count == 2 && fraction.isEmpty { return nil }
      // Nine integer digits of minutes is already longer than anyone will wait.
      guard whole.count <= 9, fraction.count <= 9,
        whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
        let wholeValue = Int64(whole)
      else { return nil }
      // Nine digits of minutes is 6e19 ns, past Int64.max (9.2e18, about 292 years): a plain `*`
      // would trap on `#sleep 999999999m`. A duration that does not fit is not a duration.
      let (wholeNanos, overflow) = wholeValue.multipliedReportingOverflow(by: nanosPerUnit)
      guard !overflow else { return nil }
      var nanos = wholeNanos
      // Add the fraction digit by digit: 1.5s is 1 s + 5 * (1 s / 10).
      var scale = nanosPerUnit
      for digit in fraction {
        scale /= 10
        let (sum, overflow) = nanos.addingReportingOverflow(Int64(digit.wholeNumberValue ?? 0) * scale)
        guard !overflow else { return nil }
        nanos = sum
      }
      return .nanoseconds(nanos)
    }
    return nil
  }
}
