import Kernel

/// An error for the learner (docs/architecture.md, "Errors"): one headline, then labelled details
/// (where, the offending value with control bytes escaped, the rule, a fix, and the state things
/// are in).
public struct LabError: Error, Equatable, Sendable {
  public var headline: String
  public var details: [(String, String)]
  /// The errno of the system call that failed, when a kernel call did (a refusal before any call
  /// has none): `--json` and the daemon's answer carry it by name beside the text.
  public var errno: Errno?

  public init(_ headline: String, _ details: [(String, String)] = [], errno: Errno? = nil) {
    self.headline = headline
    self.details = details
    self.errno = errno
  }

  public var lines: [String] {
    let width = details.map(\.0.count).max() ?? 0
    return ["error: " + headline]
      + details.map { "  " + ($0.0 + ":").padding(width + 1) + " " + $0.1 }
  }

  public static func == (a: LabError, b: LabError) -> Bool { a.lines == b.lines }

  /// The error a command's output ends with, read back from its lines (a session in a daemon
  /// sends text, not the error): nil unless the lines render back exactly as they were printed.
  static func trailing(in out: [String]) -> LabError? {
    guard let start = out.lastIndex(where: { $0.hasPrefix("error: ") }) else { return nil }
    var details: [(String, String)] = []
    for line in out[(start + 1)...] {
      guard line.hasPrefix("  "), let colon = line.firstIndex(of: ":") else { return nil }
      let label = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
      let value = line[line.index(after: colon)...].drop { $0 == " " }
      details.append((label, String(value)))
    }
    let error = LabError(String(out[start].dropFirst(7)), details)
    return error.lines == Array(out[start...]) ? error : nil
  }

  static let unchanged = ("state", "nothing was changed")
}

extension String {
  /// Pads with spaces on the right to at least `width` characters.
  func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}
