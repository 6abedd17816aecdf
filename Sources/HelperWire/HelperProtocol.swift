// The boxwalk helper protocol, version "bw3" (bw2 with up to 255 fields, for the `calls` request
// that carries a step's plan entries, HelperCall.swift; adding verbs or calls keeps the version).
//
// This module, HelperWire, is linked into both ends: LinuxBackend (the REPL side) and
// boxwalk-helper. It is pure Swift (no imports, not even Foundation, so the static helper stays
// small), and both ends encode and decode with the same code.
//
// Transport. The helper's fd 3 is one end of socketpair(AF_UNIX, SOCK_SEQPACKET) (unix(7)). A
// SEQPACKET socket keeps message boundaries: one send(2) is one recv(2), never split or merged,
// so a message needs no outer length. recv(2) returning 0 means the REPL closed its end (or
// died): the helper exits.
//
// Message, at most 4096 bytes:
//
//     "bw3"      3 bytes   the protocol version; a peer that reads anything else stops
//     count      1 byte    number of fields, 1 to 255
//     field      count x   length (2 bytes, big-endian) then that many bytes
//
// Field 0 is the verb, in ASCII. Integers are decimal ASCII ("-1", "67108864"). Names and paths
// are raw bytes (no NUL: the kernel takes C strings).
//
// The conversation. The helper speaks first, once:
//
//     hello VERSION PID             VERSION is "bw3"; PID is the helper's own pid
//     err ERRNO start NOTE          instead of hello: it refused to start (NOTE says why)
//
// Then the REPL sends one request at a time and reads exactly one reply:
//
//     calls CALL...                 entries of a step's plan, made one by one (HelperCall.swift)
//                                   -> ok ANSWER... | err ERRNO call#N [NOTE]
//                                   A foreground `run`'s execvp call sends `started HOSTPID
//                                   BOXPID` once the program runs, and its wait4 call any number
//                                   of `out BYTES` (the program's stdout and stderr) before the
//                                   request's answer.
//     facts [NAMES]                 -> ok NODENAME DOMAINNAME INIT IPC POSIXMQ
//                                      INIT is "1" while PID 1 of the box's pid namespace lives
//                                      ("0" once it exited); IPC lists the objects of the helper's
//                                      IPC namespace, one "KIND KEY" per line (KIND mq, shm, sem);
//                                      POSIXMQ the POSIX message queues there, one "/NAME" per
//                                      line, read from a detached mqueue mount. Where the helper
//                                      may not make one (no CAP_SYS_ADMIN over its mount
//                                      namespace: rootless, before `unshare mnt`) it tries each
//                                      of NAMES (NUL-separated) with mq_open(3) instead.
//     netdump PIDS                  the helper's network namespace: links, IPv4 addresses, main
//                                   table routes, and the namespace id it gives each process in
//                                   PIDS (decimal, comma-separated, may be empty)
//                                   -> ok TEXT (NetWire's Dump text lines) | err ERRNO CALL
//     ifindex NAME                  if_nametoindex(3) in the helper's network namespace: the index
//                                   RTM_NEWADDR and IFLA_MASTER name a link by
//                                   -> ok INDEX | err ERRNO if_nametoindex
//     anchor SCRATCH STORE SCRATCHFROM STOREFROM
//                                   boxwalk's own directories (the session's directory and the
//                                   image store, as host paths) and where to open them now: the
//                                   same paths, or /proc/PID/fd/N of another helper's anchor
//                                   (after joining its mount namespace). The helper holds them
//                                   open to reach them under whatever the box mounts later
//                                   (Anchors.swift) -> ok SCRATCHFD STOREFD ("-1": not held)
//     (anything undecodable)        -> err 71 protocol NOTE        (71 is EPROTO)
//
// The fields after `ok` are the verb's answer, one type per verb in HelperAnswers.swift (Done for
// a bare `ok`, BoxView for `facts`, ProgramEnd for the end of a `run`...): each end writes and
// reads them through that type, never by position. Kinds are enums
// here too: a kind outside its list is not a request, like an unknown verb.
//
// `err` names the system call that failed (one of the names FailedCall.swift lists; any other is
// out of protocol) and carries its errno.
//
// Versioning: a change to the framing or to the meaning of a verb gets a new version string. A
// helper and a REPL from different builds refuse each other at hello.

/// Framing: fields in, bytes out, and back. (Named for what it does; the module is HelperWire.)
package enum Framing {
  package static let version = "bw3"
  /// The device nodes of `mount dev`, with their major and minor numbers: the helper takes a
  /// handle of each of the host's when the box gets a mount namespace of its own. The same list
  /// as ContainerDev.devices (Sources/Kernel/Mounts.swift), which the helper cannot import.
  package static let containerDevices: [(name: String, major: UInt32, minor: UInt32)] = [
    ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
  ]
  /// ContainerDev.links and .directories, likewise.
  package static let containerDevLinks: [(name: String, target: String)] = [
    ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
  ]
  package static let containerDevDirectories = ["mqueue"]
  package static let maxMessage = 4096
  /// One byte counts the fields: a `calls` request has one per plan entry (`mount dev` has 35).
  package static let maxFields = 255

  package enum DecodeError: Error, Equatable, Sendable {
    case badVersion
    case badFieldCount(Int)
    case truncated
    case trailingBytes(Int)
    case tooLarge(Int)
  }

  /// The bytes of one message, or nil when the fields do not fit the limits above.
  package static func encode(_ fields: [[UInt8]]) -> [UInt8]? {
    guard (1...maxFields).contains(fields.count) else { return nil }
    var out: [UInt8] = Array(version.utf8)
    out.append(UInt8(fields.count))
    for field in fields {
      guard field.count <= Int(UInt16.max) else { return nil }
      out.append(UInt8(field.count >> 8))
      out.append(UInt8(field.count & 0xff))
      out.append(contentsOf: field)
    }
    return out.count <= maxMessage ? out : nil
  }

  package static func decode(_ bytes: [UInt8]) throws(DecodeError) -> [[UInt8]] {
    if bytes.count > maxMessage { throw .tooLarge(bytes.count) }
    let magic = Array(version.utf8)
    guard bytes.count > magic.count, Array(bytes[0..<magic.count]) == magic else { throw .badVersion }
    let count = Int(bytes[magic.count])
    guard (1...maxFields).contains(count) else { throw .badFieldCount(count) }
    var fields: [[UInt8]] = []
    var i = magic.count + 1
    for _ in 0..<count {
      guard i + 2 <= bytes.count else { throw .truncated }
      let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
      i += 2
      guard i + length <= bytes.count else { throw .truncated }
      fields.append(Array(bytes[i..<i + length]))
      i += length
    }
    if i != bytes.count { throw .trailingBytes(bytes.count - i) }
    return fields
  }

  /// Fields packed into one field, each as the message frames it (two bytes of length, then the
  /// bytes), with no count: a `calls` request's entries and answers (HelperCall.swift).
  package static func pack(_ fields: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for field in fields {
      out.append(UInt8(truncatingIfNeeded: field.count >> 8))
      out.append(UInt8(truncatingIfNeeded: field.count))
      out.append(contentsOf: field)
    }
    return out
  }

  /// The fields `pack` packed into `field`, or nil when its lengths do not add up.
  package static func unpack(_ field: [UInt8]) -> [[UInt8]]? {
    var fields: [[UInt8]] = []
    var i = 0
    while i < field.count {
      guard i + 2 <= field.count else { return nil }
      let length = Int(field[i]) << 8 | Int(field[i + 1])
      i += 2
      guard i + length <= field.count else { return nil }
      fields.append(Array(field[i..<i + length]))
      i += length
    }
    return fields
  }

  package static func text(_ s: String) -> [UInt8] { Array(s.utf8) }
  package static func number<T: BinaryInteger>(_ n: T) -> [UInt8] { Array(String(n).utf8) }
  package static func string(_ field: [UInt8]) -> String { String(decoding: field, as: UTF8.self) }
  /// A "1" or "0" field as true or false; nil for anything else.
  package static func flag(_ field: [UInt8]) -> Bool? {
    switch string(field) {
    case "1": true
    case "0": false
    default: nil
    }
  }
  /// A decimal field; nil unless it is all digits (with an optional leading minus).
  package static func integer<T: FixedWidthInteger>(_ field: [UInt8], as: T.Type = T.self) -> T? {
    T(String(decoding: field, as: UTF8.self), radix: 10)
  }
}

/// What the REPL asks a helper to do: a step's plan entries (`calls`), or one of the requests
/// that read what only the helper can see.
package enum HelperRequest: Equatable, Sendable {
  /// Entries of a step's plan, made one by one in this order (HelperCall.swift).
  case calls([HelperCall])
  /// Everything the REPL cannot read from outside: names, whether PID 1 lives, IPC objects.
  /// `candidates`: POSIX queue names to try when the mqueue file system cannot be read.
  case facts(candidates: [[UInt8]] = [])
  /// Links, addresses, routes and the namespace ids of these processes, as Dump text.
  case netdump(pids: [Int32])
  /// if_nametoindex(3): the index of a link, by name, in the helper's network namespace.
  case ifindex(name: String)
  /// Hold boxwalk's directories `paths` (scratch, store) open, opened from `sources`.
  case anchor(paths: [[UInt8]], sources: [[UInt8]])

  /// A System V IPC object (sysvipc(7)): a message queue, a shared memory segment or a semaphore
  /// set, as a `sysvget` call makes it and `facts` lists it.
  package enum IPCKind: String, CaseIterable, Sendable {
    case mq, shm, sem
  }

  package var fields: [[UInt8]] {
    switch self {
    case .calls(let calls): [Framing.text("calls")] + calls.map { Framing.pack($0.fields) }
    case .facts(let candidates):
      candidates.isEmpty
        ? [Framing.text("facts")] : [Framing.text("facts"), Array(candidates.joined(separator: [0]))]
    case .netdump(let pids):
      [Framing.text("netdump"), Framing.text(pids.map(String.init).joined(separator: ","))]
    case .ifindex(let name): [Framing.text("ifindex"), Framing.text(name)]
    case .anchor(let paths, let sources): [Framing.text("anchor")] + paths + sources
    }
  }

  /// The request these fields spell, or nil for an unknown verb or a wrong number of arguments.
  package init?(fields: [[UInt8]]) {
    guard let verb = fields.first.map(Framing.string) else { return nil }
    let args = Array(fields.dropFirst())
    if verb == "calls" {
      // At least one call, and every one a call: a request with one bad entry is not a request.
      var calls: [HelperCall] = []
      for field in args {
        guard let inner = Framing.unpack(field), let call = HelperCall(fields: inner) else { return nil }
        calls.append(call)
      }
      guard !calls.isEmpty else { return nil }
      self = .calls(calls)
      return
    }
    // Each verb is in one group; a known verb with bad arguments is nil in its group and
    // unknown to the others.
    guard
      let request = Self.processRequest(verb, args)
        ?? Self.netRequest(verb, args)
    else { return nil }
    self = request
  }

  /// The verbs of the box's processes and resources: facts and the anchor.
  private static func processRequest(_ verb: String, _ args: [[UInt8]]) -> HelperRequest? {
    switch (verb, args.count) {
    case ("facts", 0): return .facts()
    case ("facts", 1): return .facts(candidates: args[0].split(separator: 0).map(Array.init))
    case ("anchor", 4): return .anchor(paths: Array(args[0..<2]), sources: Array(args[2..<4]))
    default: return nil
    }
  }

  /// The verbs of the network that read it: the dump and a link's index.
  private static func netRequest(_ verb: String, _ args: [[UInt8]]) -> HelperRequest? {
    switch (verb, args.count) {
    case ("netdump", 1):
      let parts = Framing.string(args[0]).split(separator: ",").map(String.init)
      let pids = parts.compactMap { Int32($0) }
      guard pids.count == parts.count else { return nil }
      return .netdump(pids: pids)
    case ("ifindex", 1): return .ifindex(name: Framing.string(args[0]))
    default: return nil
    }
  }

  package func encoded() -> [UInt8]? { Framing.encode(fields) }

  /// The verb, as field 0 spells it ("unshare", "mount", ...).
  package var verb: String { fields.first.map(Framing.string) ?? "" }
}

/// What a helper answers: a hello once, then one ok or err per request.
package enum HelperReply: Equatable, Sendable {
  case hello(version: String, pid: Int32)
  /// A foreground program started: its PIDs, before its output.
  case started(hostPID: Int32, boxPID: Int32)
  /// A chunk of a foreground program's output.
  case out([UInt8])
  /// The request was done; the fields are its answer (HelperAnswers.swift: `answer(as:)` reads
  /// them, `.answer(_:)` and `.done` write them).
  case ok([[UInt8]])
  /// `call` is the system call that failed (FailedCall.swift: unshare, mount, open, setns, ...).
  case err(errno: Int32, call: FailedCall, note: String?)

  package var fields: [[UInt8]] {
    switch self {
    case .hello(let version, let pid): [Framing.text("hello"), Framing.text(version), Framing.number(pid)]
    case .started(let host, let box): [Framing.text("started"), Framing.number(host), Framing.number(box)]
    case .out(let bytes): [Framing.text("out"), bytes]
    case .ok(let values): [Framing.text("ok")] + values
    case .err(let errno, let call, let note):
      [Framing.text("err"), Framing.number(errno), Framing.text(call.name)]
        + (note.map { [Framing.text($0)] } ?? [])
    }
  }

  package init?(fields: [[UInt8]]) {
    guard let verb = fields.first.map(Framing.string) else { return nil }
    let args = Array(fields.dropFirst())
    switch (verb, args.count) {
    case ("hello", 2):
      guard let pid = Framing.integer(args[1], as: Int32.self) else { return nil }
      self = .hello(version: Framing.string(args[0]), pid: pid)
    case ("started", 2):
      guard let host = Framing.integer(args[0], as: Int32.self),
        let box = Framing.integer(args[1], as: Int32.self)
      else { return nil }
      self = .started(hostPID: host, boxPID: box)
    case ("out", 1): self = .out(args[0])
    case ("ok", _): self = .ok(args)
    case ("err", 2), ("err", 3):
      // A call outside FailedCall's list is out of protocol, like an unknown verb.
      guard let errno = Framing.integer(args[0], as: Int32.self), let call = FailedCall(name: Framing.string(args[1]))
      else { return nil }
      self = .err(errno: errno, call: call, note: args.count == 3 ? Framing.string(args[2]) : nil)
    default: return nil
    }
  }

  package func encoded() -> [UInt8]? { Framing.encode(fields) }
}
