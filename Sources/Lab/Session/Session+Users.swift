import Kernel

/// `map`, `id`, `caps`: the user namespace (user_namespaces(7), capabilities(7)).
extension Session {
  func mapCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("map", args, 4)
    let box = try currentBox("map")
    guard let kind = IDKind(rawValue: args[0]) else {
      throw LabError(
        "map takes uid or gid, not \(quotedForTerminal(args[0]))",
        [("usage", "map uid|gid INSIDE OUTSIDE COUNT"), LabError.unchanged])
    }
    var numbers: [UInt32] = []
    for (name, text) in zip(["INSIDE", "OUTSIDE", "COUNT"], args.dropFirst()) {
      guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
        throw LabError(
          "\(name) must be a number, not \(quotedForTerminal(text))",
          [("usage", "map uid|gid INSIDE OUTSIDE COUNT"), ("example", "map uid 0 100000 65536"), LabError.unchanged])
      }
      guard let n = UInt32(text), n < UInt32.max else {
        throw LabError(
          "\(name) \(text) does not fit: IDs are 32-bit, and 4294967295 means \"no ID\"",
          [("rule", "each ID is at most 4294967294"), LabError.unchanged])
      }
      numbers.append(n)
    }
    let range = IDMapRange(inside: numbers[0], outside: numbers[1], count: numbers[2])
    guard range.count > 0 else { throw LabError("COUNT must be at least 1", [LabError.unchanged]) }
    for (name, start) in [("INSIDE", range.inside), ("OUTSIDE", range.outside)]
    where UInt64(start) + UInt64(range.count) > UInt64(UInt32.max) {
      throw LabError(
        "the \(name) range \(start)..\(UInt64(start) + UInt64(range.count) - 1) runs past the last ID",
        [("rule", "START + COUNT must stay below 4294967295"), LabError.unchanged])
    }
    if shares(box, .user) {
      throw LabError(
        "\(box) is in the host's user namespace: its maps are the host's and cannot be written",
        [
          ("rule", "a map belongs to a new user namespace, written once from outside"), ("fix", "unshare user"),
          LabError.unchanged,
        ])
    }
    try runStep(.namespace(.map(box: box, kind: kind, range: range)), input: line, into: &out)
  }

  func idCommand(_ args: [String], into out: inout Output) throws {
    try arity("id", args, 0)
    let box = try currentBox("id")
    try refresh()
    func n(_ key: String) -> String {
      if case .int(let v)? = tree.value(at: StatePath(keys: box, "user", key))?.unwrapped { return String(v) }
      return "?"
    }
    let label = tree.value(at: StatePath(keys: box, "ns", "user"))?.stringValue ?? "?"
    out.lines.append(
      "in \(box) (\(label)): uid=\(n("uid")) gid=\(n("gid"))"
        + (n("uid") == "65534" ? " (nobody: unmapped)" : n("uid") == "0" ? " (root)" : ""))
    out.lines.append("on the host:    uid=\(n("host_uid")) gid=\(n("host_gid"))")
    for kind in ["uid", "gid"] {
      let map = stringList(StatePath(keys: box, "user", kind + "_map"))
      out.lines.append("\(kind)_map: " + (map.isEmpty ? "(not written yet)" : map.joined(separator: "; ")))
    }
  }

  func capsCommand(_ args: [String], into out: inout Output) throws {
    try arity("caps", args, 0)
    let box = try currentBox("caps")
    try refresh()
    let label = tree.value(at: StatePath(keys: box, "ns", "user"))?.stringValue ?? "?"
    for set in ["effective", "permitted", "bounding"] {
      let value = tree.value(at: StatePath(keys: box, "user", "caps", set))?.stringValue ?? "?"
      let shown =
        value == "all"
        ? "all \(Capabilities.names.count) (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE)"
        : value == "host" ? "the same as boxwalk's own on the host" : value
      out.lines.append("  \(set.padding(9))  \(shown)")
    }
    if shares(box, .user) {
      out.lines.append("these count in \(label), the host's user namespace: \(box) is root on the host")
    } else {
      out.lines.append("these count only in \(label) and the namespaces it owns; on the host \(box) has none:")
      out.lines.append("root in the box cannot change the host")
    }
  }
}
