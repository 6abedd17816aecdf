/// Suggestions for typos: the candidate with the smallest edit distance (Levenshtein), when it is
/// close enough to be a plausible slip, so `hostnme` suggests `hostname` but `xyz` suggests nothing.
public enum Nearest {
  public static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      cur[0] = i
      for j in 1...y.count {
        cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
      }
      swap(&prev, &cur)
    }
    return prev[y.count]
  }

  /// The nearest candidate, if its distance is at most a third of the word's length (at least 2).
  public static func match(_ word: String, in candidates: [String], maxDistance: Int? = nil) -> String? {
    let limit = maxDistance ?? max(2, word.count / 3)
    var best: (name: String, distance: Int)?
    for c in candidates {
      // The distance is at least the difference in length: skip the quadratic work when that
      // alone rules a candidate out (a 64 KiB typo must not stall the REPL).
      if abs(word.unicodeScalars.count - c.unicodeScalars.count) > limit { continue }
      let d = distance(word, c)
      if d <= limit, d < (best?.distance ?? Int.max) { best = (c, d) }
    }
    return best?.name
  }
}
