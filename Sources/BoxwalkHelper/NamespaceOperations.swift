import CShim
import Glibc
import HelperWire

/// The system calls behind each request, made by this single-threaded process on itself.
struct NamespaceOperations {
  /// The pid of boxwalk, which spawned us. If getppid() ever differs, boxwalk is gone.
  let parent: pid_t
  /// Started by an unprivileged boxwalk (the rootless backend): then we must stay dumpable.
  /// Read once at start, because after joining the session's user namespace geteuid() says 0.
  let rootless: Bool

  init(parent: pid_t) {
    self.parent = parent
    self.rootless = geteuid() != 0
  }

  func perform(_ request: HelperRequest, box: BoxOperations, channel: Channel) -> HelperReply {
    box.reapExited()
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    switch request {
    case .facts(let candidates): return box.facts(candidates: candidates.map(text))
    case .netdump(let pids): return NetOperations.dump(pids: pids)
    case .ifindex(let name): return NetOperations.index(of: name)
    case .anchor(let paths, let sources): return box.anchors.set(paths: paths, sources: sources)
    case .calls(let calls): return Calls.make(calls, namespaces: self, box: box, channel: channel)
    }
  }

  /// Arm the kernel's safety catches again. The kernel clears PR_SET_PDEATHSIG and resets
  /// "dumpable" when a process's credentials change (prctl(2)), which joining or creating a user
  /// namespace can do; runc restores the death signal for the same reason.
  func rearm() {
    _ = bw_set_pdeathsig(SIGKILL)
    // Non-dumpable: no core file, and no other user can ptrace(2) us or read our /proc files.
    // Not in the rootless backend: boxwalk there is an ordinary user without CAP_SYS_PTRACE, and
    // the kernel lets a caller read /proc/PID/ns/* and /proc/PID/mountinfo of a non-dumpable
    // process only with CAP_SYS_PTRACE in the user namespace that owns the process's memory
    // (ptrace(2), "Ptrace access mode checking"): for us that is the machine's, where boxwalk has
    // none. Dumpable changes little there: we run as the same user as boxwalk, who could ptrace
    // boxwalk itself. Joining a user namespace resets the flag (the capabilities change), so it
    // is set again here, after every such step.
    _ = bw_set_dumpable(rootless ? 1 : 0)
    // If boxwalk died while the death signal was cleared, nobody will ever talk to us again.
    if getppid() != parent { exit(0) }
  }

  /// Call `body` with `bytes` as a NUL-terminated C string and the count of bytes before the NUL.
  static func withCString(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> Int32) -> Int32 {
    (bytes + [0]).withUnsafeBytes { raw in
      guard let base = raw.bindMemory(to: CChar.self).baseAddress else { return -1 }
      return body(base, bytes.count)
    }
  }
}
