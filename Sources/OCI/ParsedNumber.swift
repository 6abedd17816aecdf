/// Numbers read from outside data (an HTTP header, a chunk size, a PAX record length): digits
/// only, no sign, no spaces, and checked against a ceiling while they are read, so a number
/// too large for Int is refused instead of trapping on overflow. Swift traps on an overflowing
/// `*` or `+` (SIGILL), so a registry or an image that could make one would crash boxwalk.
/// `Int(text)` is not enough on its own: it accepts a sign ("-1", "+5"), and a value that fits
/// in Int can still overflow the offset it is added to.
public enum ParsedNumber {
  /// The value of ASCII decimal digits, or nil when there are none, another byte is among them,
  /// or the value is above `max`.
  public static func decimal(_ digits: some Collection<UInt8>, max: Int) -> Int? {
    parse(digits, radix: 10, max: max)
  }

  /// The value of ASCII hexadecimal digits (either case), with the same rules.
  public static func hexadecimal(_ digits: some Collection<UInt8>, max: Int) -> Int? {
    parse(digits, radix: 16, max: max)
  }

  static func parse(_ digits: some Collection<UInt8>, radix: Int, max: Int) -> Int? {
    guard !digits.isEmpty, max >= 0 else { return nil }
    var value = 0
    for b in digits {
      let digit: Int
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = Int(b - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = Int(b - UInt8(ascii: "A")) + 10
      default: return nil
      }
      // value * radix + digit <= max, checked without computing anything that could overflow.
      guard digit <= max, value <= (max - digit) / radix else { return nil }
      value = value * radix + digit
    }
    return value
  }
}
