// boxwalk-helper: the process that holds one box's namespaces (docs/architecture.md, "Processes").
//
// boxwalk starts it through bw_spawn_helper with a SOCK_SEQPACKET socket on fd 3 and then sends it
// each step's plan entries that a helper makes, one request of calls per step, which it makes one
// by one (HelperProtocol.swift, HelperCall.swift). It is single-threaded and synchronous on purpose:
// unshare(CLONE_NEWUSER) and setns(2) into a user or mount namespace fail in a multi-threaded
// process, and setns(2) moves only the calling thread (runc's libcontainer/nsenter/README.md).
// So: no Foundation, no Dispatch, no async, and a refusal to start if the runtime made a thread.
import CShim
import Glibc
import HelperWire

let channel = Channel(fd: 3)

// Run by hand? fd 3 is not our socket: say what this is, on stderr, and stop.
guard channel.isSeqpacketSocket else {
  let usage = "boxwalk-helper: started by boxwalk, speaks protocol \(Framing.version) on fd 3\n"
  _ = usage.withCString { write(2, $0, strlen($0)) }
  exit(2)
}

// comm is what ps(1), pgrep(1) and `boxwalk cleanup` look for, whatever the file is called.
_ = bw_set_name("boxwalk-helper")
let namespaces = NamespaceOperations(parent: getppid())
namespaces.rearm()

let threads = SelfCheck.threadCount()
guard threads == 1 else {
  let note = "refusing to start: /proc/self/status says Threads: \(threads.map(String.init) ?? "unreadable")"
  channel.send(.err(errno: EINVAL, call: .start, note: note))
  exit(3)
}

// The host's proc, held while this process still sees it: `join` opens other helpers'
// /proc/PID/ns files through it after this box has mounted a proc of its own or changed its root
// (NamespaceOperations.setns). O_PATH: it can only anchor lookups; close-on-exec: no program the
// box runs inherits it.
let hostProc = open("/proc", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)
// The host's root, held the same way for one purpose: opening the box's cgroup files at
// `cgroup new`, when the box may have a root and mount namespace of its own (CgroupOperations).
let hostRoot = open("/", BW_O_PATH | O_DIRECTORY | O_CLOEXEC)

// No host working directory crosses into the box: a program started later inherits the helper's
// cwd, and a cwd outside the box's root is a way out of it (CVE-2024-21626).
_ = chdir("/")
// Orphaned box processes are re-parented to us, not to the host's init, so `ps` and teardown
// still find them (prctl(2), PR_SET_CHILD_SUBREAPER).
_ = bw_set_child_subreaper()
let box = BoxOperations(hostProc: hostProc, hostRoot: hostRoot)

channel.send(.hello(version: Framing.version, pid: getpid()))
while let message = channel.receive(reaping: box) {
  switch message {
  case .request(let request): channel.send(namespaces.perform(request, box: box, channel: channel))
  case .undecodable(let why): channel.send(.err(errno: EPROTO, call: .protocolError, note: why))
  }
}
exit(0)
