// The answers: what an `ok` reply carries, one type per verb.
//
// On the wire an answer is the fields after "ok" (HelperProtocol.swift lists them per verb). Each
// type here writes its fields and reads them back, so the helper builds the reply from typed
// values and boxwalk gets typed values out, and neither end picks fields by position.

/// The fields of one kind of `ok` reply.
package protocol HelperAnswer: Equatable, Sendable {
  /// The answer these fields spell, or nil when they are not one (a wrong count, a word or a
  /// number that is not what this answer has there).
  init?(fields: [[UInt8]])
  var fields: [[UInt8]] { get }
}

extension HelperReply {
  /// The `ok` reply that carries `answer`.
  package static func answer(_ answer: some HelperAnswer) -> HelperReply { .ok(answer.fields) }

  /// An `ok` reply with no fields: the request was done, there is nothing to tell.
  package static let done = HelperReply.answer(Done())

  /// This `ok` reply's fields read as an `A`; nil for any other reply, or fields that are not one.
  package func answer<A: HelperAnswer>(as type: A.Type = A.self) -> A? {
    guard case .ok(let fields) = self else { return nil }
    return A(fields: fields)
  }
}

/// `ok` and nothing else: unshare, setns, sethostname, setdomainname, kill, mount, umount,
/// propagation, pivot, chroot, setid, netlink, forward, listen, cgroup, overlay.
package struct Done: HelperAnswer {
  package init() {}
  package init?(fields: [[UInt8]]) {
    guard fields.isEmpty else { return nil }
  }
  package var fields: [[UInt8]] { [] }
}

/// `facts`: what only the helper can see of its box.
package struct BoxView: HelperAnswer {
  /// uname(2)'s nodename and domainname, as the kernel holds them (bytes, not text).
  package var nodename: [UInt8]
  package var domainname: [UInt8]
  /// Whether PID 1 of the box's pid namespace still lives.
  package var initAlive: Bool
  /// The System V IPC objects of the helper's IPC namespace.
  package var ipc: [IPCObject]
  /// The POSIX message queues there, "/NAME" each.
  package var queues: [String]

  package struct IPCObject: Equatable, Sendable {
    package var kind: HelperRequest.IPCKind
    package var key: Int32
    package init(kind: HelperRequest.IPCKind, key: Int32) {
      self.kind = kind
      self.key = key
    }
  }

  package init(nodename: [UInt8], domainname: [UInt8], initAlive: Bool, ipc: [IPCObject], queues: [String]) {
    self.nodename = nodename
    self.domainname = domainname
    self.initAlive = initAlive
    self.ipc = ipc
    self.queues = queues
  }

  package init?(fields: [[UInt8]]) {
    guard fields.count == 5, let alive = Framing.flag(fields[2]) else { return nil }
    var ipc: [IPCObject] = []
    for line in fields[3].split(separator: UInt8(ascii: "\n")) {
      let words = line.split(separator: UInt8(ascii: " ")).map(Array.init)
      guard words.count == 2, let kind = HelperRequest.IPCKind(rawValue: Framing.string(words[0])),
        let key = Framing.integer(words[1], as: Int32.self)
      else { return nil }
      ipc.append(IPCObject(kind: kind, key: key))
    }
    let queues = fields[4].split(separator: UInt8(ascii: "\n")).map { Framing.string(Array($0)) }
    self.init(nodename: fields[0], domainname: fields[1], initAlive: alive, ipc: ipc, queues: queues)
  }

  package var fields: [[UInt8]] {
    [
      nodename, domainname, Framing.text(initAlive ? "1" : "0"),
      Framing.text(ipc.map { "\($0.kind.rawValue) \($0.key)" }.joined(separator: "\n")),
      Framing.text(queues.joined(separator: "\n")),
    ]
  }
}

/// `run`'s execvp call (ProcessCall.execvp; in the foreground its `started` message says the same):
/// the program's pid as the host sees it and as the box does.
package struct Started: HelperAnswer {
  package var hostPID: Int32
  package var boxPID: Int32
  package init(hostPID: Int32, boxPID: Int32) {
    self.hostPID = hostPID
    self.boxPID = boxPID
  }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 2, let host = Framing.integer(fields[0], as: Int32.self),
      let box = Framing.integer(fields[1], as: Int32.self)
    else { return nil }
    self.init(hostPID: host, boxPID: box)
  }
  package var fields: [[UInt8]] { [Framing.number(hostPID), Framing.number(boxPID)] }
}

/// How a program ended, from its wait(2) status: a foreground `run`'s wait4 call (ProcessCall.wait4).
package enum ProgramEnd: HelperAnswer {
  /// exit(3) with this code.
  case exited(Int32)
  /// Killed by this signal.
  case signaled(Int32)

  /// WIFEXITED/WEXITSTATUS and WTERMSIG of a wait(2) status (wait(2)).
  package init(waitStatus status: Int32) {
    let signal = status & 0x7f
    self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
  }

  package init?(fields: [[UInt8]]) {
    guard fields.count == 2, let code = Framing.integer(fields[1], as: Int32.self) else { return nil }
    switch Framing.string(fields[0]) {
    case "exited": self = .exited(code)
    case "signaled": self = .signaled(code)
    default: return nil
    }
  }

  package var fields: [[UInt8]] {
    switch self {
    case .exited(let code): [Framing.text("exited"), Framing.number(code)]
    case .signaled(let signal): [Framing.text("signaled"), Framing.number(signal)]
    }
  }
}

/// `ipcnew`: the id msgget(2), shmget(2) or semget(2) gave the new object.
package struct IPCCreated: HelperAnswer {
  package var id: Int32
  package init(id: Int32) { self.id = id }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 1, let id = Framing.integer(fields[0], as: Int32.self) else { return nil }
    self.id = id
  }
  package var fields: [[UInt8]] { [Framing.number(id)] }
}

/// `mqnew`: the new queue's inode, which tells it apart from a later queue of the same name.
package struct QueueCreated: HelperAnswer {
  package var inode: UInt64
  package init(inode: UInt64) { self.inode = inode }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 1, let inode = Framing.integer(fields[0], as: UInt64.self) else { return nil }
    self.inode = inode
  }
  package var fields: [[UInt8]] { [Framing.number(inode)] }
}

/// `stress`: the stress program's wait(2) status, and (fork) how many children it started and
/// how many forks the kernel refused.
package struct StressOutcome: HelperAnswer {
  package var status: Int32
  package var started: Int
  package var refused: Int
  package init(status: Int32, started: Int, refused: Int) {
    self.status = status
    self.started = started
    self.refused = refused
  }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 3, let status = Framing.integer(fields[0], as: Int32.self),
      let started = Framing.integer(fields[1], as: Int.self),
      let refused = Framing.integer(fields[2], as: Int.self)
    else { return nil }
    self.init(status: status, started: started, refused: refused)
  }
  package var fields: [[UInt8]] {
    [Framing.number(status), Framing.number(started), Framing.number(refused)]
  }
}

/// `netdump`: the helper's network namespace as NetWire's Dump text.
package struct NetworkDump: HelperAnswer {
  package var text: String
  package init(text: String) { self.text = text }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 1 else { return nil }
    self.text = Framing.string(fields[0])
  }
  package var fields: [[UInt8]] { [Framing.text(text)] }
}

/// `ifindex`: the link's index, which rtnetlink(7) requests name a link by.
package struct LinkIndex: HelperAnswer {
  package var index: UInt32
  package init(index: UInt32) { self.index = index }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 1, let index = Framing.integer(fields[0], as: UInt32.self), index > 0 else { return nil }
    self.index = index
  }
  package var fields: [[UInt8]] { [Framing.number(index)] }
}

/// A ping's receive call (NetCall.receiveEchoReply): whether the echo reply came within the time.
package enum EchoOutcome: String, HelperAnswer {
  case reply, silence
  package init?(fields: [[UInt8]]) {
    guard fields.count == 1, let outcome = Self(rawValue: Framing.string(fields[0])) else { return nil }
    self = outcome
  }
  package var fields: [[UInt8]] { [Framing.text(rawValue)] }
}

/// A connect's calls (NetCall.connect, send, receive): what came back, from the call that ended
/// the exchange. A line (`answered`), or how it ended without one: the connection
/// was made but no line came (`connected`), the other end refused (a TCP reset, or for UDP an ICMP
/// port unreachable that a connected socket reports as ECONNREFUSED, udp(7)), or nothing came
/// within the time.
package enum ExchangeResult: Equatable, Sendable, HelperAnswer {
  case answered(String)
  case connected
  case refused
  case timeout
  package init?(fields: [[UInt8]]) {
    guard fields.count == 2 else { return nil }
    switch (Framing.string(fields[0]), Framing.string(fields[1])) {
    case ("answered", let text): self = .answered(text)
    case ("connected", "-"): self = .connected
    case ("refused", "-"): self = .refused
    case ("timeout", "-"): self = .timeout
    default: return nil
    }
  }
  package var fields: [[UInt8]] {
    switch self {
    case .answered(let text): [Framing.text("answered"), Framing.text(text)]
    case .connected: [Framing.text("connected"), Framing.text("-")]
    case .refused: [Framing.text("refused"), Framing.text("-")]
    case .timeout: [Framing.text("timeout"), Framing.text("-")]
    }
  }
}

/// The nft call (NetCall.nft): how nft(8) ended and everything it printed (stdout and stderr).
package struct ToolRun: HelperAnswer {
  package var end: ProgramEnd
  package var output: [UInt8]
  package init(end: ProgramEnd, output: [UInt8]) {
    self.end = end
    self.output = output
  }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 3, let end = ProgramEnd(fields: Array(fields[0..<2])) else { return nil }
    self.init(end: end, output: fields[2])
  }
  package var fields: [[UInt8]] { end.fields + [output] }
}

/// `anchor`: the descriptor numbers at which the helper holds boxwalk's session directory and
/// image store open; -1 for one it could not open.
package struct AnchorDescriptors: HelperAnswer {
  package var scratch: Int32
  package var store: Int32
  package init(scratch: Int32, store: Int32) {
    self.scratch = scratch
    self.store = store
  }
  package init?(fields: [[UInt8]]) {
    guard fields.count == 2, let scratch = Framing.integer(fields[0], as: Int32.self),
      let store = Framing.integer(fields[1], as: Int32.self)
    else { return nil }
    self.init(scratch: scratch, store: store)
  }
  package var fields: [[UInt8]] { [Framing.number(scratch), Framing.number(store)] }
}
