import Kernel

/// An error for the learner (docs/architecture.md, "Errors"): one headline, then labelled details
/// (where, the offending value with control bytes escaped, the rule, a fix, and the state things
/// are in).
public struct LabError: Error, Equatable, Sendable {
  public var headline: String
  public var details: [(String, String)]

  public init(_ headline: String, _ details: [(String, String)] = []) {
    self.headline = headline
    self.details = details
  }

  public var lines: [String] {
    let width = details.map(\.0.count).max() ?? 0
    return ["error: " + headline]
      + details.map { "  " + ($0.0 + ":").padding(width + 1) + " " + $0.1 }
  }

  public static func == (a: LabError, b: LabError) -> Bool { a.lines == b.lines }

  static let unchanged = ("state", "nothing was changed")
}

extension String {
  /// Pads with spaces on the right to at least `width` characters.
  func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}
