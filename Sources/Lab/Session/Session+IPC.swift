import Kernel

/// `ipc mq|shm|sem new KEY`, `ipc posix_mq new /NAME` and `ipc ls`: System V IPC objects, POSIX
/// message queues, and the IPC namespace they live in.
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
      try runStep(.namespace(.ipcNew(box: box, kind: kind, key: key)), input: line, into: &out)
    case "posix_mq":
      guard args.count == 3, args[1] == "new" else {
        throw usage("ipc", "ipc posix_mq needs: new /NAME")
      }
      let name = try checkQueueName(args[2])
      try runStep(.namespace(.posixMQNew(box: box, name: name)), input: line, into: &out)
    default:
      throw usage("ipc", "ipc needs mq, shm, sem, posix_mq or ls")
    }
  }

  /// A queue name reaches mq_open(3) as a C string, and `ipc ls` prints it: no NUL, no control
  /// character. Everything else (the leading slash, a second slash, the length) is the kernel's
  /// to judge, and its errno is the lesson.
  func checkQueueName(_ name: String) throws -> String {
    let bad = name.isEmpty || name.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7f && $0.value < 0xa0) }
    guard bad else { return name }
    throw LabError(
      "\(quotedForTerminal(name)) is not a message queue name boxwalk passes on",
      [
        ("rule", "a name is text without control characters, written /NAME (mq_overview(7))"), ("example", "/jobs"),
        LabError.unchanged,
      ])
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
        "\(quotedForTerminal(text)) is not an IPC key",
        [
          ("rule", "a key is a number from 0 to 4294967295, decimal or 0x hex (key_t)"), ("example", "0x2a"),
          LabError.unchanged,
        ])
    }
    return Int32(bitPattern: UInt32(value))
  }

  func ipcTable(_ box: String) -> [String] {
    let label = tree.value(at: StatePath(keys: box, "ns", "ipc"))?.stringValue ?? "?"
    let hostLabel = tree.value(at: StatePath(keys: "host", "ns", "ipc"))?.stringValue ?? "?"
    var rows = [["KIND", "KEY", "IN \(box) (\(label))", "IN host (\(hostLabel))"]]
    // POSIX queues have names where System V objects have keys: the KEY column holds the name.
    for kind in IPCKind.allCases.map(\.rawValue) + ["posix_mq"] {
      let mine = stringList(StatePath(keys: box, "ipc", kind))
      let hosts = stringList(StatePath(keys: "host", "ipc", kind))
      for key in (mine + hosts.filter { !mine.contains($0) }) {
        rows.append([
          kind, escapedForTerminal(key), mine.contains(key) ? "yes" : "no", hosts.contains(key) ? "yes" : "no",
        ])
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
