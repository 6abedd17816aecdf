/// One process in a box, as `ps` shows it.
public struct BoxProcessFacts: Equatable, Sendable {
  /// The PID in the box's pid namespace (the last NSpid field of /proc/PID/status).
  public var pid: Int
  /// The PID in the host's pid namespace (volatile).
  public var hostPID: Int
  /// The command line, space-separated.
  public var command: String
  /// Whether the process lives in the host's pid namespace: then `pid` is a host PID (volatile).
  public var inHostPIDNamespace: Bool
  /// The parent's PID as the process itself sees it (getppid(2)): a PID of the same namespace,
  /// or 0 when the parent lives in an ancestor pid namespace (pid_namespaces(7)), as a program
  /// started from outside does. In the host's pid namespace it is a host PID (volatile).
  public var ppid: Int
  /// The parent's PID in the host's pid namespace (the PPid line of the host's /proc/PID/status).
  public var hostPPID: Int
  public init(pid: Int, hostPID: Int, command: String, inHostPIDNamespace: Bool, ppid: Int, hostPPID: Int) {
    self.pid = pid
    self.hostPID = hostPID
    self.command = command
    self.inHostPIDNamespace = inHostPIDNamespace
    self.ppid = ppid
    self.hostPPID = hostPPID
  }
}

/// System V IPC object kinds (sysvipc(7)).
public enum IPCKind: String, CaseIterable, Equatable, Hashable, Sendable {
  case mq, shm, sem

  public var getCall: String {
    switch self {
    case .mq: "msgget"
    case .shm: "shmget"
    case .sem: "semget"
    }
  }
}

/// One IPC object: its kind and key, written as ipcs(1) does (0x0000abcd).
public struct IPCObjectFacts: Equatable, Hashable, Sendable {
  public var kind: IPCKind
  public var key: Int32
  public init(kind: IPCKind, key: Int32) {
    self.kind = kind
    self.key = key
  }

  public static func keyText(_ key: Int32) -> String {
    let hex = String(UInt32(bitPattern: key), radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
  }
}
