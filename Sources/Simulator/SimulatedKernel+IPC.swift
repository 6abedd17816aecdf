import Kernel

/// System V IPC (sysvipc(7)): objects live in the IPC namespace of the process that made them.
extension SimulatedKernel {
  /// The `ipc new` entry, msgget/shmget/semget with IPC_CREAT|IPC_EXCL: EEXIST when the key is
  /// taken in this namespace. Key 0 is IPC_PRIVATE: always a new object.
  func sysvGet(_ i: Int, _ kind: IPCKind, _ key: Int32, _ step: Step, _ call: SystemCall) throws(KernelError) {
    guard let inode = boxes[i].process.ns[.ipc], var ns = namespaces[inode] else { throw missing(step, boxes[i].name) }
    if key != 0, ns.ipc.contains(IPCObjectFacts(kind: kind, key: key)) {
      throw KernelError(step: step, call: call, errno: .EEXIST)
    }
    ns.ipc.append(IPCObjectFacts(kind: kind, key: key))
    namespaces[inode] = ns
  }
}

/// POSIX message queues (mq_overview(7)): named files of the IPC namespace's mqueue file system.
extension SimulatedKernel {
  /// The `mq new` entry, mq_open(3) with O_CREAT|O_EXCL, with the errnos glibc and Linux give (checked on Linux
  /// 6.18): glibc refuses a name without a leading slash (EINVAL) and hands the rest to the
  /// kernel, which looks it up as one file name in the mqueue root: "/" alone is ENOENT, a
  /// second slash or a name "." or ".." is EACCES, more than NAME_MAX bytes ENAMETOOLONG.
  func mqOpen(_ i: Int, _ name: String, _ step: Step, _ call: SystemCall) throws(KernelError) {
    guard let inode = boxes[i].process.ns[.ipc], var ns = namespaces[inode] else { throw missing(step, boxes[i].name) }
    guard name.hasPrefix("/") else { throw KernelError(step: step, call: call, errno: .EINVAL) }
    let file = name.dropFirst()
    if file.isEmpty { throw KernelError(step: step, call: call, errno: .ENOENT) }
    if file.contains("/") || file == "." || file == ".." { throw KernelError(step: step, call: call, errno: .EACCES) }
    if file.utf8.count > 255 { throw KernelError(step: step, call: call, errno: .ENAMETOOLONG) }
    if ns.posixMQ.contains(name) { throw KernelError(step: step, call: call, errno: .EEXIST) }
    // The queue is a new inode of the namespace's mqueue file system, owned by the caller's
    // fsuid and fsgid. The kernel refuses to create an inode whose owner the file system's user
    // namespace (the one that owns the IPC namespace) cannot name: may_create in fs/namei.c
    // checks fsuidgid_has_mapping and fails with EOVERFLOW, as it does after `unshare user,ipc`
    // before any `map`.
    let p = boxes[i].process
    if let owner = ns.owner, owner != host.ns[.user],
      !credentialsMapped(p, in: owner)
    {
      throw KernelError(step: step, call: call, errno: .EOVERFLOW)
    }
    ns.posixMQ.append(name)
    namespaces[inode] = ns
  }
}

/// Time namespaces (time_namespaces(7)): offsets for CLOCK_MONOTONIC and CLOCK_BOOTTIME.
extension SimulatedKernel {
  /// The `clock` entry: a write to /proc/PID/timens_offsets sets the offsets of the process's time_for_children.
  /// Once a process has entered that namespace (the host's always has one) the offsets are
  /// frozen: EACCES. An offset that would take the clock below zero or past half of
  /// KTIME_SEC_MAX is ERANGE (the simulated machine takes 0 to ClockOffsets.maximum).
  func writeTimeOffset(_ i: Int, _ clock: TimeClock, _ seconds: Int64, _ step: Step, _ call: SystemCall)
    throws(KernelError)
  {
    guard let inode = boxes[i].process.ns[.time], var ns = namespaces[inode] else { throw missing(step, boxes[i].name) }
    // The kernel checks the freeze first (proc_timens_set_offset in kernel/time/namespace.c).
    if ns.populated { throw KernelError(step: step, call: call, errno: .EACCES) }
    if seconds < 0 || seconds > ClockOffsets.maximum { throw KernelError(step: step, call: call, errno: .ERANGE) }
    ns.clockOffsets[clock] = seconds
    namespaces[inode] = ns
  }

  /// A process enters the box's time_for_children namespace (a fork, or the helper's own
  /// setns(2)): its offsets are fixed from now on.
  func enterTimeNamespace(_ p: SimProcess) {
    guard let inode = p.ns[.time] else { return }
    namespaces[inode]?.populated = true
  }

  /// Seconds the simulated machine has been up, and idle, as /proc/uptime shows them.
  static let simulatedUptime = (up: 4242.42, idle: 8123.45)

  /// /proc/uptime in a time namespace: CLOCK_BOOTTIME plus the namespace's boottime offset
  /// (the idle time is not shifted).
  func uptimeLine(_ p: SimProcess) -> String {
    let offset = p.ns[.time].flatMap { namespaces[$0]?.clockOffsets.boottime } ?? 0
    let up = Self.simulatedUptime.up + Double(offset)
    return Self.twoDecimals(up) + " " + Self.twoDecimals(Self.simulatedUptime.idle)
  }

  static func twoDecimals(_ value: Double) -> String {
    let hundredths = Int64((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
  }
}
