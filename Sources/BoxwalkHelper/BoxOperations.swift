import CShim
import Glibc

/// What the helper does inside the box besides namespaces: start programs, mount, switch roots,
/// make IPC objects, and report what only the inside can see. One request at a time, on itself.
final class BoxOperations {
  /// The host PID of the box's PID 1, once a program started as PID 1 of a new pid namespace.
  private var initHostPID: pid_t?
  /// PID 1 of the box's pid namespace has exited: the namespace is dead (pid_namespaces(7)).
  private var initExited = false

  /// The environment of every box program: nothing of the host's environment crosses (R7).
  private static let environment = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
  ]
  private static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

  /// waitpid(2) every child that has exited, so none lingers as a zombie, and notice PID 1's end.
  func reapExited() {
    var status: Int32 = 0
    while true {
      let pid = waitpid(-1, &status, WNOHANG)
      guard pid > 0 else { return }
      if pid == initHostPID { initExited = true }
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

  func run(background: Bool, argv: [[UInt8]], channel: Channel) -> HelperReply {
    let program = String(decoding: argv[0], as: UTF8.self)
    guard !argv.contains(where: { $0.contains(0) }) else { return .err(errno: EINVAL, call: "execvp", note: nil) }
    let (found, error) = Self.resolve(program)
    guard let path = found else { return .err(errno: error, call: "execvp", note: nil) }
    // The kernel would refuse the fork into a dead pid namespace with ENOMEM; say so without trying.
    if initExited { return .err(errno: ENOMEM, call: "fork", note: nil) }

    var pipeFDs: [Int32] = [-1, -1]
    let outFD: Int32
    if background {
      outFD = open("/dev/null", O_WRONLY | O_CLOEXEC)
    } else {
      guard bw_pipe_cloexec(&pipeFDs) == 0 else { return .err(errno: errno, call: "fork", note: "pipe2") }
      outFD = pipeFDs[1]
    }
    var child = bw_box_child()
    let rc = withCStrings(argv.map { String(decoding: $0, as: UTF8.self) }) { cArgv in
      withCStrings(Self.environment) { cEnv in bw_spawn_box_process(path, cArgv, cEnv, outFD, &child) }
    }
    let spawnErrno = errno
    if outFD >= 0 { close(outFD) }
    if rc != 0 {
      if pipeFDs[0] >= 0 { close(pipeFDs[0]) }
      // The fork happened only if the child reported its PID.
      if child.box_pid == 1 { initExited = true }
      return .err(errno: spawnErrno, call: child.host_pid > 0 ? "execvp" : "fork", note: nil)
    }
    if child.box_pid == 1 && child.host_pid != 1 { initHostPID = child.host_pid }
    if background {
      return .ok([HelperWire.number(child.host_pid), HelperWire.number(child.box_pid)])
    }
    channel.send(.started(hostPID: child.host_pid, boxPID: child.box_pid))
    // Stream the output until every writer closed the pipe, then collect the exit status.
    var buffer = [UInt8](repeating: 0, count: 3000)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      channel.send(.out(Array(buffer[0..<n])))
    }
    close(pipeFDs[0])
    var status: Int32 = 0
    while waitpid(child.host_pid, &status, 0) < 0 && errno == EINTR {}
    if child.host_pid == initHostPID { initExited = true }
    // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: the C macros do not reach Swift.
    let signal = status & 0x7f
    return signal == 0
      ? .ok([HelperWire.text("exited"), HelperWire.number((status >> 8) & 0xff)])
      : .ok([HelperWire.text("signaled"), HelperWire.number(signal)])
  }

  /// SIGKILL through a pidfd (it cannot hit a recycled PID), then wait until the process is gone:
  /// poll(2) on a pidfd reports its exit even for a process that is not our child.
  func kill(_ pid: pid_t) -> HelperReply {
    let pidfd = bw_pidfd_open(pid, 0)
    guard pidfd >= 0 else { return .err(errno: errno, call: "kill", note: nil) }
    defer { close(pidfd) }
    guard bw_pidfd_send_signal(pidfd, SIGKILL) == 0 else { return .err(errno: errno, call: "kill", note: nil) }
    var waiting = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
    while poll(&waiting, 1, 5000) < 0 && errno == EINTR {}
    var status: Int32 = 0
    if waitpid(pid, &status, 0) == pid, pid == initHostPID { initExited = true }
    reapExited()
    return .ok([])
  }

  // MARK: mounts

  func propagation(_ flag: UInt32) -> HelperReply {
    bw_mount(nil, "/", nil, UInt(MS_REC) | UInt(flag), nil) == 0 ? .ok([]) : .err(errno: errno, call: "mount", note: nil)
  }

  /// The pivot_root(2) dance of runc's pivotRoot, with an explicit put_old so each step shows.
  func pivot(_ rootfs: String) -> HelperReply {
    // pivot_root(2) requires new_root to be a mount point. The kernel's answer when it is not
    // depends on the host: EINVAL, or EBUSY when the directory is on the current root's mount
    // (no separate /run). Check first and answer EINVAL, the rule itself, on every host.
    if bw_is_mount_point(rootfs) == 0 {
      return .err(errno: EINVAL, call: "pivot_root", note: Self.notAMountPoint)
    }
    let putOld = rootfs + "/.oldroot"
    guard mkdir(putOld, 0o700) == 0 || errno == EEXIST else { return .err(errno: errno, call: "mkdir", note: nil) }
    guard bw_pivot_root(rootfs, putOld) == 0 else {
      let failure = errno
      rmdir(putOld)
      return .err(errno: failure, call: "pivot_root", note: nil)
    }
    guard chdir("/") == 0 else { return .err(errno: errno, call: "chdir", note: nil) }
    // Detach, do not unmount: the old root is busy (we were standing in it a moment ago).
    guard umount2("/.oldroot", Int32(MNT_DETACH)) == 0 else { return .err(errno: errno, call: "umount2", note: nil) }
    guard rmdir("/.oldroot") == 0 else { return .err(errno: errno, call: "rmdir", note: nil) }
    return .ok([])
  }

  /// The box's root filesystem as an overlay, mounted in the box's own mount namespace (the
  /// helper is in it; the REPL is not). Paths arrive as the REPL made them, in the session's
  /// scratch space and the image store.
  func overlay(target: String, upper: String, work: String, lowers: [String]) -> HelperReply {
    var stage: UnsafePointer<CChar>?
    let rc = withCStrings(lowers) { list in
      bw_mount_overlay(target, UnsafeRawPointer(list).assumingMemoryBound(to: UnsafePointer<CChar>?.self), Int32(lowers.count), upper, work, &stage)
    }
    guard rc == 0 else {
      let failure = errno
      // "fsconfig(upperdir)": LinuxKernel names the matching call of Step.calls from it.
      return .err(errno: failure, call: stage.map { String(cString: $0) } ?? "fsopen", note: nil)
    }
    return .ok([])
  }

  func chroot(_ rootfs: String) -> HelperReply {
    guard Glibc.chroot(rootfs) == 0 else { return .err(errno: errno, call: "chroot", note: nil) }
    guard chdir("/") == 0 else { return .err(errno: errno, call: "chdir", note: nil) }
    return .ok([])
  }

  // MARK: stress

  /// A stress program as a box process (CShim stress.c): it is forked from us, so it is in the
  /// box's namespaces and cgroup. In a fresh pid namespace it is PID 1, and its exit ends it.
  func stress(kind: String, arg: UInt64) -> HelperReply {
    guard let k = ["memory", "fork", "cpu"].firstIndex(of: kind) else { return .err(errno: EINVAL, call: "fork", note: kind) }
    if initExited { return .err(errno: ENOMEM, call: "fork", note: nil) }
    var outcome = bw_stress_outcome()
    guard bw_stress_run(Int32(k), arg, &outcome) == 0 else { return .err(errno: errno, call: "fork", note: nil) }
    // PID 1 of a new pid namespace (the host's PID 1 is never our child): its exit ended it.
    if outcome.box_pid == 1 { initExited = true }
    return .ok([
      HelperWire.number(outcome.status), HelperWire.number(outcome.started), HelperWire.number(outcome.refused),
    ])
  }

  // MARK: IPC and facts

  static let ipcKinds = ["mq", "shm", "sem"]
  /// Must read as the simulator's detail for the same failure.
  static let notAMountPoint = "the new root is not a mount point"

  func ipcNew(kind: String, key: Int32) -> HelperReply {
    guard let k = Self.ipcKinds.firstIndex(of: kind) else { return .err(errno: EINVAL, call: "ipc", note: kind) }
    let id = bw_ipc_create(Int32(k), key)
    let call = ["msgget", "shmget", "semget"][k]
    return id >= 0 ? .ok([HelperWire.number(id)]) : .err(errno: errno, call: call, note: nil)
  }

  /// "KIND KEY" per line for every System V object in this IPC namespace.
  static func ipcListing() -> String {
    var lines: [String] = []
    var objects = [bw_ipc_object](repeating: bw_ipc_object(), count: 256)
    for (k, kind) in ipcKinds.enumerated() {
      let n = bw_ipc_list(Int32(k), &objects, Int32(objects.count))
      for i in 0..<max(0, Int(n)) { lines.append("\(kind) \(objects[i].key)") }
    }
    return lines.joined(separator: "\n")
  }

  func facts() -> HelperReply {
    var names = utsname()
    guard Glibc.uname(&names) == 0 else { return .err(errno: errno, call: "uname", note: nil) }
    return .ok([
      withUnsafeBytes(of: names.nodename) { Array($0.prefix { $0 != 0 }) },
      withUnsafeBytes(of: names.__domainname) { Array($0.prefix { $0 != 0 }) },
      HelperWire.text(initExited ? "0" : "1"), HelperWire.text(Self.ipcListing()),
    ])
  }
}

/// Calls `body` with a NULL-terminated array of C strings (an argv or envp).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  pointers.append(nil)
  defer { for p in pointers { free(p) } }
  return pointers.withUnsafeMutableBufferPointer { buffer in
    // The buffer always holds at least the terminating nil, so it has a base address.
    guard let base = buffer.baseAddress else { return body(UnsafePointer([nil])) }
    return body(UnsafePointer(base))
  }
}
