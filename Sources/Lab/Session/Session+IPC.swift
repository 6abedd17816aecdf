import Kernel

/// `ipc mq|shm|sem new KEY` and `ipc ls`: System V IPC objects and the namespace they live in.
extension Session {
  func ipcCommand(_ args: [String], line: String, into out: inout Output) throws {
    let box = try currentBox("ipc")
    switch args.first {
    case "ls":
      try arity("ipc ls", Array(args.dropFirst()), 0, usageOf: "ipc")
      try refresh()
      out.lines += ipcTable(box)
    case "mq", "shm", "sem":
      guard args.count == 3, args[1] == "new" else {
        throw usage("ipc", "ipc \(args[0]) needs: new KEY")
      }
      guard let kind = IPCKind(rawValue: args[0]) else { return }
      let key = try parseKey(args[2])
      try runStep(.ipcNew(box: box, kind: kind, key: key), input: line, into: &out)
    default:
      throw usage("ipc", "ipc needs mq, shm, sem or ls")
    }
  }

  /// A key in decimal or 0x hex, as ipcs(1) prints it; 32 bits (key_t).
  func parseKey(_ text: String) throws -> Int32 {
    let value: UInt64?
    if text.hasPrefix("0x") || text.hasPrefix("0X") {
      value = UInt64(text.dropFirst(2), radix: 16)
    } else {
      value = UInt64(text)
    }
    guard let value, value <= UInt64(UInt32.max), !text.isEmpty else {
      throw LabError(
        "\(JSON.quote(escapedForTerminal(text))) is not an IPC key",
        [("rule", "a key is a number from 0 to 4294967295, decimal or 0x hex (key_t)"), ("example", "0x2a"), LabError.unchanged])
    }
    return Int32(bitPattern: UInt32(value))
  }

  func ipcTable(_ box: String) -> [String] {
    let label = tree.value(at: StatePath(keys: box, "ns", "ipc"))?.stringValue ?? "?"
    let hostLabel = tree.value(at: StatePath(keys: "host", "ns", "ipc"))?.stringValue ?? "?"
    var rows = [["KIND", "KEY", "IN \(box) (\(label))", "IN host (\(hostLabel))"]]
    for kind in IPCKind.allCases {
      let mine = stringList(StatePath(keys: box, "ipc", kind.rawValue))
      let hosts = stringList(StatePath(keys: "host", "ipc", kind.rawValue))
      for key in (mine + hosts.filter { !mine.contains($0) }) {
        rows.append([kind.rawValue, key, mine.contains(key) ? "yes" : "no", hosts.contains(key) ? "yes" : "no"])
      }
    }
    let note =
      shares(box, .ipc)
      ? "\(box) shares the host's IPC namespace: each object above is one object, seen from both"
      : "\(box) has its own IPC namespace: a key in both columns names two different objects"
    return (rows.count == 1 ? ["no IPC objects made in this session"] : DiffTable.table(rows)) + [note]
  }

  func stringList(_ path: StatePath) -> [String] {
    guard case .list(let items)? = tree.value(at: path)?.unwrapped else { return [] }
    return items.compactMap(\.stringValue)
  }
}
