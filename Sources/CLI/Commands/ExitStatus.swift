/// Exit codes (README.md, "Command line"): 0 ok; 1 a command or test failed; 2 bad usage or bad
/// input file; 3 host precondition missing; 70 internal error (sysexits.h EX_SOFTWARE).
public enum ExitStatus {
  public static let ok: Int32 = 0
  public static let failed: Int32 = 1
  public static let usage: Int32 = 2
  public static let precondition: Int32 = 3
  public static let internalError: Int32 = 70
}

/// An error that ends the program with a message and an exit status.
public struct ExitError: Error {
  public var status: Int32
  public var lines: [String]
  public init(_ status: Int32, _ lines: [String]) {
    self.status = status
    self.lines = lines
  }
}
