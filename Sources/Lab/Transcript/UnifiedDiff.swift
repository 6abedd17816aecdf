/// Writes a diff the way `diff -u` does: `--- expected` and `+++ actual` headers, then each line
/// with a one-character prefix, ` ` for unchanged, `-` for expected only, `+` for actual only.
///
/// The sides are labelled explicitly, because "which side is which" is the first question anyone
/// asks about a golden-test diff (rogpeppe/go-internal#187). There are no `@@` hunk headers: a
/// transcript diff is always one step, shown whole.
enum UnifiedDiff {
  enum Line: Equatable {
    case context(String)
    case removed(String)
    case added(String)
  }

  static func render(_ lines: [Line], expected: String = "expected", actual: String = "actual") -> [String] {
    var out = ["--- " + expected, "+++ " + actual]
    for line in lines {
      switch line {
      case .context(let text): out.append(" " + text)
      case .removed(let text): out.append("-" + text)
      case .added(let text): out.append("+" + text)
      }
    }
    return out
  }
}
