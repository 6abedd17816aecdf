/// /proc/PID/status (proc(5)): one `Key:<tab>value` line per field, some sixty of them. boxwalk
/// needs a handful (Uid, Gid, the capability sets, NSpid, State) after every step, for the host and
/// for every box and box process, so the file is scanned as bytes and only the lines asked for
/// are decoded: splitting every line into Swift strings cost more than reading the file.
enum ProcStatus {
  /// The whitespace-separated words after `Key:` for each of `keys` the file has.
  static func fields(_ bytes: [UInt8], _ keys: [String]) -> [String: [String]] {
    let wanted = keys.map { Array($0.utf8) }
    var out: [String: [String]] = [:]
    var start = 0
    while start < bytes.count && out.count < keys.count {
      var end = start
      while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      var colon = start
      while colon < end && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
      if colon < end,
        let k = wanted.firstIndex(where: { $0.count == colon - start && $0.elementsEqual(bytes[start..<colon]) })
      {
        out[keys[k]] = words(bytes, from: colon + 1, to: end)
      }
      start = end + 1
    }
    return out
  }

  /// The words of bytes[from..<to], split on spaces and tabs.
  private static func words(_ bytes: [UInt8], from: Int, to end: Int) -> [String] {
    var words: [String] = []
    var i = from
    while i < end {
      while i < end && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i += 1 }
      let first = i
      while i < end && bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\t") { i += 1 }
      if i > first { words.append(String(decoding: bytes[first..<i], as: UTF8.self)) }
    }
    return words
  }
}
