import CShim
import Glibc
import HelperWire

/// What the helper does inside the box besides namespaces: start programs, mount, switch roots,
/// make IPC objects, and report what only the inside can see. One request at a time, on itself.
final class BoxOperations {
  /// The host PID of the box's PID 1, once a program started as PID 1 of a new pid namespace.
  private var initHostPID: pid_t?
  /// PID 1 of the box's pid namespace has exited: the namespace is dead (pid_namespaces(7)).
  var initExited = false
  /// /dev/null, opened once at start, before any pivot_root(2) or chroot(2): busybox's layer has
  /// no /dev, so a box program started after `pivot-root` would otherwise get no stdin and no
  /// place for a background program's output (execve then failed with EBADF, and a PID 1 that
  /// fails takes its pid namespace with it). A descriptor of a character device gives a box no
  /// way into the host's tree (unlike a directory's: CVE-2024-21626).
  private let devNull: Int32
  /// The host's /proc, opened at start for the same reason: after pivot_root(2) the helper's own
  /// /proc is the box's, or nothing. `settle` reads a background program's state here.
  private let hostProc: Int32
  /// A signalfd(2) readable when a child exits (SIGCHLD is blocked in the helper).
  private let childEvents: Int32
  var childEventsFD: Int32 { childEvents }
  /// boxwalk's session directory and image store, held open (Anchors.swift).
  let anchors: Anchors

  /// Detached copies of the host's device nodes, for `mount dev` (DevOperations.swift), in the
  /// order of Framing.containerDevices; -1 where none could be taken.
  var deviceHandles: [Int32] = []
  /// The helper's root is the box's own (after pivot_root(2) or chroot(2)): "/" is not the host's.
  var rootEntered = false

  /// The box's cgroup, which the helper's children enter and the helper does not.
  let cgroups: CgroupOperations

  /// `hostProc`, `hostRoot`: the helper's descriptors of the host's /proc and /, opened at start
  /// (main.swift).
  init(hostProc: Int32, hostRoot: Int32) {
    self.hostProc = hostProc
    anchors = Anchors(hostProc: hostProc)
    cgroups = CgroupOperations(hostRoot: hostRoot)
    devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
    childEvents = bw_child_events_open()
    if hostProc >= 0 { bw_protect_helper_from_oom(hostProc) }
  }

  /// The environment of every box program: nothing of the host's environment crosses
  /// (docs/security.md).
  private static let environment = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
  ]
  private static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

  /// waitpid(2) every child that has exited, so none lingers as a zombie, and notice PID 1's end.
  /// Returns the wait status of `watched` if it was among them.
  ///
  /// Reaping everything, not only the process waited for, is what makes the end of a pid
  /// namespace finish: when its PID 1 dies the kernel kills every other process in it, and PID 1's
  /// own exit does not complete until all of them are reaped (zap_pid_ns_processes in
  /// kernel/pid_namespace.c). Box processes started by `run` are the helper's children, not PID
  /// 1's: a helper that waited for PID 1 alone would wait forever (`kill 1` hung the REPL).
  @discardableResult
  func reapExited(watching watched: pid_t? = nil) -> Int32? {
    bw_child_events_drain(childEvents)
    var status: Int32 = 0
    var watchedStatus: Int32?
    while true {
      let pid = waitpid(-1, &status, WNOHANG)
      guard pid > 0 else { return watchedStatus }
      if pid == initHostPID { initExited = true }
      if pid == watched { watchedStatus = status }
    }
  }

  /// Waits until `pid` has exited, reaping every other child meanwhile (see `reapExited`), and
  /// returns its wait status; nil after `limit` milliseconds (a process stuck in the kernel).
  /// With `pidfd`, the process need not be our child: poll(2) reports its exit on the pidfd.
  private func waitReaping(_ pid: pid_t, pidfd: Int32? = nil, limit: Int = 30_000) -> Int32? {
    var waited = 0
    while true {
      if let status = reapExited(watching: pid) { return status }
      var fds = [pollfd(fd: childEvents, events: Int16(POLLIN), revents: 0)]
      if let pidfd { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
      let ready = poll(&fds, nfds_t(fds.count), 100)
      if ready < 0 && errno != EINTR { return nil }
      if pidfd != nil, fds[1].revents != 0 {
        reapExited()
        return 0
      }
      waited += 100
      if waited >= limit { return nil }
    }
  }

  // MARK: run

  /// execvp(3)'s search, done before forking so a missing program costs no PID (and cannot end a
  /// fresh pid namespace by being its PID 1).
  static func resolve(_ program: String) -> (path: String?, errno: Int32) {
    if program.contains("/") {
      return access(program, X_OK) == 0 ? (program, 0) : (nil, errno)
    }
    for dir in searchPath where access(dir + "/" + program, X_OK) == 0 { return (dir + "/" + program, 0) }
    return (nil, ENOENT)
  }

  /// `run`'s fork entry (ProcessCalls.swift): fork(2) a child that joins the box's cgroup and
  /// execvp(3)s `argv`, its stdout and stderr a pipe kept as "output" (in the foreground) or
  /// /dev/null. bw_spawn_box_process makes the fork and the child's exec in C and reports which
  /// failed. The program is looked up in PATH first, as execvp does, so a program that is not
  /// there costs no process: then nothing is forked, and the execvp entry reports the search's
  /// errno, as it does an exec the child could not make.
  func forkProgram(_ argv: [[UInt8]], background: Bool, _ state: inout CallState) -> Calls.Outcome {
    state.numbers["background"] = background ? 1 : 0
    guard let first = argv.first, !argv.contains(where: { $0.contains(0) }) else {
      state.numbers["execvp errno"] = Int64(EINVAL)
      return .made()
    }
    let (found, error) = Self.resolve(String(decoding: first, as: UTF8.self))
    guard let path = found else {
      state.numbers["execvp errno"] = Int64(error)
      return .made()
    }
    // The kernel would refuse the fork into a dead pid namespace with ENOMEM; say so without trying.
    if initExited { return .failed(errno: ENOMEM) }
    guard devNull >= 0, childEvents >= 0 else { return .failed(errno: EBADF, note: "the helper has no /dev/null") }
    var pipeFDs: [Int32] = [-1, -1]
    if !background {
      guard bw_pipe_cloexec(&pipeFDs) == 0 else { return .failed(errno: errno, note: "pipe2") }
      state.keep(pipeFDs[0], as: "output")
    }
    let outFD = background ? devNull : pipeFDs[1]
    var child = bw_box_child()
    let rc = withCStrings(argv.map { String(decoding: $0, as: UTF8.self) }) { cArgv in
      withCStrings(Self.environment) { cEnv in bw_spawn_box_process(path, cArgv, cEnv, devNull, outFD, &child) }
    }
    let spawnErrno = errno
    if !background { close(pipeFDs[1]) }
    if rc != 0 {
      // The fork happened only if the child reported its PID.
      if child.box_pid == 1 { initExited = true }
      // A fork the box's pids.max refused reads as the fork it stands for.
      guard child.host_pid > 0 && child.fork_refused == 0 else { return .failed(errno: spawnErrno) }
      state.numbers["execvp errno"] = Int64(spawnErrno)
      return .made()
    }
    if child.box_pid == 1 && child.host_pid != 1 { initHostPID = child.host_pid }
    state.numbers["child"] = Int64(child.host_pid)
    state.numbers["child in box"] = Int64(child.box_pid)
    return .made()
  }

  /// `run`'s execvp entry: how the child's exec went. Made, it answers the program's PIDs; in
  /// the foreground they go to boxwalk at once as `started`, before the output.
  func execProgram(_ state: inout CallState, channel: Channel) -> Calls.Outcome {
    if let failed = state.numbers["execvp errno"] { return .failed(errno: Int32(failed)) }
    guard let host = state.numbers["child"], let box = state.numbers["child in box"] else {
      return .failed(errno: ESRCH, note: "no child was forked")
    }
    let started = Started(hostPID: Int32(host), boxPID: Int32(box))
    if state.numbers["background"] == 1 {
      settle(pid_t(host))
    } else {
      channel.send(.started(hostPID: started.hostPID, boxPID: started.boxPID))
    }
    return .made(started.fields)
  }

  /// `run`'s wait4 entry, in the foreground: the program's output streamed as `out` replies
  /// while the helper waits for it (wait4(2), through reapExited); answers its wait status.
  func waitProgram(_ state: inout CallState, channel: Channel) -> Calls.Outcome {
    guard let host = state.numbers["child"], let output = state.descriptors["output"] else {
      return .failed(errno: ECHILD, note: "no program in the foreground")
    }
    let status = stream(output, until: pid_t(host), channel: channel)
    return .made(ProgramEnd(waitStatus: status).fields)
  }

  /// Streams a foreground program's output until the program itself exits, and returns its wait
  /// status. Not until the pipe closes: a child it left in the background (`sh -c 'sleep 9 &
  /// echo x'`) holds the pipe's write end, and the REPL would wait for that child too. When the
  /// program has exited, whatever it wrote is already in the pipe: read it without blocking, and
  /// stop.
  private func stream(_ readFD: Int32, until pid: pid_t, channel: Channel) -> Int32 {
    _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
    var buffer = [UInt8](repeating: 0, count: 3000)
    var open = true
    /// Sends what the pipe holds now; false at end of file (every writer closed it).
    func drain() -> Bool {
      while true {
        let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
        if n > 0 {
          channel.send(.out(Array(buffer[0..<n])))
          continue
        }
        if n < 0 && errno == EINTR { continue }
        return n < 0  // EAGAIN: still open, empty for now
      }
    }
    while true {
      if let status = reapExited(watching: pid) {
        if open { _ = drain() }
        return status
      }
      var fds = [
        pollfd(fd: childEvents, events: Int16(POLLIN), revents: 0),
        pollfd(fd: readFD, events: Int16(POLLIN), revents: 0),
      ]
      _ = poll(&fds, open ? 2 : 1, -1)
      if open && fds[1].revents != 0 { open = drain() }
    }
  }

  /// After a background start, wait until the program has exited or is blocked (waiting for time,
  /// input or a child: state S, D or T in /proc/PID/stat, proc(5)), at most a second. A program
  /// like `true` has then exited for sure, and the state read after this step shows the same thing
  /// on every run and on every backend, instead of whatever the scheduler had got to. A program
  /// that keeps computing is reported as running after that second.
  private func settle(_ pid: pid_t) {
    var nap = timespec(tv_sec: 0, tv_nsec: 200_000)
    for _ in 0..<5000 {
      if reapExited(watching: pid) != nil { return }
      guard let state = processState(pid) else { return }
      if state != UInt8(ascii: "R") && state != UInt8(ascii: "Z") { return }
      nanosleep(&nap, nil)
    }
  }

  /// The state letter of /proc/PID/stat (the field after the parenthesised command name).
  private func processState(_ pid: pid_t) -> UInt8? {
    let fd = openat(hostProc, "\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0, let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return nil }
    return buffer[close + 2]
  }

  /// SIGKILL through a pidfd (it cannot hit a recycled PID), then wait until the process is gone,
  /// reaping every child meanwhile: killing PID 1 ends its whole namespace, which finishes only
  /// when the others are reaped (see `reapExited`). The pidfd's poll(2) reports the exit even of a
  /// process that is not our child.
  func kill(_ pid: pid_t) -> Calls.Outcome {
    let pidfd = bw_pidfd_open(pid, 0)
    guard pidfd >= 0 else { return .failed(errno: errno) }
    defer { close(pidfd) }
    guard bw_pidfd_send_signal(pidfd, SIGKILL) == 0 else { return .failed(errno: errno) }
    guard waitReaping(pid, pidfd: pidfd) != nil else {
      return .failed(errno: ETIMEDOUT, note: "the process did not exit within 30 seconds of SIGKILL")
    }
    return .made()
  }

  // MARK: IPC and facts

  /// Must read as the simulator's detail for the same failure.
  static let notAMountPoint = "the new root is not a mount point"
  /// Step.oldRootTaken, which the simulator gives for the same root.
  static let oldRootTaken =
    "the new root already has /.oldroot, where pivot-root puts the old root; rm /.oldroot in the box first"

  /// Every System V object in this IPC namespace.
  static func ipcListing() -> [BoxView.IPCObject] {
    var found: [BoxView.IPCObject] = []
    var objects = [bw_ipc_object](repeating: bw_ipc_object(), count: 256)
    for (k, kind) in HelperRequest.IPCKind.allCases.enumerated() {
      let n = bw_ipc_list(Int32(k), &objects, Int32(objects.count))
      for i in 0..<max(0, Int(n)) { found.append(BoxView.IPCObject(kind: kind, key: objects[i].key)) }
    }
    return found
  }

  func facts(candidates: [String] = []) -> HelperReply {
    var names = utsname()
    guard Glibc.uname(&names) == 0 else { return .err(errno: errno, call: .uname, note: nil) }
    return .answer(
      BoxView(
        nodename: withUnsafeBytes(of: names.nodename) { Array($0.prefix { $0 != 0 }) },
        domainname: withUnsafeBytes(of: names.__domainname) { Array($0.prefix { $0 != 0 }) },
        initAlive: !initExited, ipc: Self.ipcListing(), queues: Self.posixMQListing(candidates: candidates)))
  }

  /// The queue is small (10 messages of 1024 bytes): every queue counts against its owner's
  /// RLIMIT_MSGQUEUE, 819200 bytes by default, and the kernel's default size would allow nine.
  static let mqMaxMessages = 10
  static let mqMessageSize = 1024

  /// "/NAME" for every POSIX message queue of this IPC namespace, sorted. The queues are the
  /// files of the namespace's mqueue file system (mq_overview(7)); the helper makes a detached
  /// mount of it, reads it and closes it, so nothing is mounted anywhere. Without CAP_SYS_ADMIN
  /// over its mount namespace (rootless, before `unshare mnt`) fsopen(2) is EPERM: then each
  /// candidate name is tried with mq_open(3), which needs no privilege.
  static func posixMQListing(candidates: [String]) -> [String] {
    // A reply is at most 4096 bytes in all (HelperWire): the names get half of that.
    var buffer = [CChar](repeating: 0, count: 2048)
    var stage: UnsafePointer<CChar>?
    let n = bw_mqueue_names(&buffer, buffer.count, &stage)
    if n >= 0 {
      let bytes = buffer[0..<n].map { UInt8(bitPattern: $0) }
      return bytes.split(separator: UInt8(ascii: "\n")).map { "/" + String(decoding: $0, as: UTF8.self) }.sorted()
    }
    return candidates.filter { name in
      var inode: UInt64 = 0
      // EACCES: the queue is there, but not ours to open.
      return bw_mq_inode(name, &inode) == 0 || errno == EACCES
    }.sorted()
  }
}

/// Calls `body` with a NULL-terminated array of C strings (an argv or envp).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  pointers.append(nil)
  defer { for p in pointers { free(p) } }
  return pointers.withUnsafeMutableBufferPointer { buffer in
    // The buffer always holds at least the terminating nil, so it has a base address.
    guard let base = buffer.baseAddress else {
      // Never taken; a pointer made from an array literal would dangle, so make a real one.
      let terminator = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
      terminator.initialize(to: nil)
      defer { terminator.deallocate() }
      return body(UnsafePointer(terminator))
    }
    return body(UnsafePointer(base))
  }
}
