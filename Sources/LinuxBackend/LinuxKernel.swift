import CShim
import Glibc
import Kernel

/// The real kernel (DESIGN.md, "Process model of the real backend"). Each box is one
/// boxwalk-helper process that holds the box's namespaces and makes the namespace system calls on
/// itself; this process only spawns helpers, asks them for one step at a time, and reads the
/// outside view from /proc. It never calls unshare, setns or mount on itself: it may be
/// multi-threaded, and those calls need a single-threaded caller or move only one thread.
///
/// Helpers die with the thread that created the kernel (PR_SET_PDEATHSIG), so use a kernel from one
/// long-lived thread, as the REPL does.
public final class LinuxKernel: Kernel {
  public let backend: Backend = .real

  private let stateRoot: String
  private let helperPath: String
  private let procfs: ProcFS
  /// Every box, in creation order.
  private var helpers: [HelperProcess] = []
  /// nil after teardown(); made again by the next `box new`.
  private var session: SessionDirectory?

  /// - Parameters:
  ///   - stateRoot: where session directories and their ledgers live (SPEC §9).
  ///   - helperPath: the boxwalk-helper executable; by default $BOXWALK_HELPER, else
  ///     `boxwalk-helper` beside this process's own executable.
  ///   - procRoot: where proc(5) is mounted.
  public init(stateRoot: String = "/run/boxwalk", helperPath: String? = nil, procRoot: String = "/proc")
    throws(KernelError)
  {
    guard geteuid() == 0 else {
      throw KernelError(
        call: "geteuid()", errno: .EPERM, detail: "the real backend needs root; use --backend rootless or --backend sim"
      )
    }
    self.stateRoot = stateRoot
    self.procfs = ProcFS(root: procRoot)
    guard let path = helperPath ?? Self.defaultHelperPath(procfs: procfs) else {
      throw KernelError(
        call: "readlink(\"/proc/self/exe\")", errno: .ENOENT,
        detail: "cannot tell where boxwalk-helper is; set BOXWALK_HELPER")
    }
    guard access(path, X_OK) == 0 else {
      throw KernelError(
        call: "access(\(SmallFiles.quoted(path)), X_OK)", errno: Errno(rawValue: errno),
        detail: "boxwalk-helper is missing or not executable; build it or set BOXWALK_HELPER")
    }
    self.helperPath = path
    do {
      session = try SessionDirectory.create(stateRoot: stateRoot, procfs: procfs)
    } catch {
      throw KernelError(
        call: error.call, errno: Errno(rawValue: error.errno),
        detail: "cannot create the session directory under \(stateRoot)")
    }
  }

  deinit { teardown() }

  private static func defaultHelperPath(procfs: ProcFS) -> String? {
    if let fromEnvironment = getenv("BOXWALK_HELPER"), fromEnvironment.pointee != 0 {
      return String(cString: fromEnvironment)
    }
    guard let executable = procfs.ownExecutable(), let slash = executable.lastIndex(of: "/") else { return nil }
    return executable[..<slash] + "/boxwalk-helper"
  }

  // MARK: - Steps

  public func perform(_ step: Step) throws(KernelError) {
    switch step {
    case .boxNew(let box):
      try newBox(box, step: step)
    case .boxRemove(let box):
      guard let index = helpers.firstIndex(where: { $0.box == box }) else { throw noSuchBox(box, step: step) }
      let helper = helpers.remove(at: index)
      helper.kill()
      session?.forget { $0 == .helper(box: box, pid: helper.pid, startTime: helper.startTime) }
    case .unshare(let box, let kinds):
      let flags = kinds.reduce(UInt32(0)) { $0 | $1.cloneFlag }
      try ask(box, .unshare(flags: flags), step: step)
    case .join(let box, let kind, let target):
      guard let holder = helpers.first(where: { $0.box == target }) else { throw noSuchBox(target, step: step) }
      // The helper opens the path itself, like nsenter(1): setns(2) wants an fd of the namespace.
      let path = "\(procfs.root)/\(holder.pid)/ns/\(kind.procEntry)"
      try ask(box, .setns(path: Array(path.utf8), nstype: kind.cloneFlag), step: step)
    case .setHostname(let box, let name):
      try ask(box, .sethostname(Array(name.utf8)), step: step)
    case .setDomainname(let box, let name):
      try ask(box, .setdomainname(Array(name.utf8)), step: step)
    }
  }

  private func newBox(_ box: String, step: Step) throws(KernelError) {
    if helpers.contains(where: { $0.box == box }) {
      throw KernelError(step: step, call: Self.call(step, 0), errno: .EEXIST, detail: "box \(box) exists")
    }
    let session: SessionDirectory
    if let existing = self.session {
      session = existing
    } else {
      do {
        session = try SessionDirectory.create(stateRoot: stateRoot, procfs: procfs)
      } catch {
        throw KernelError(
          step: step, call: error.call, errno: Errno(rawValue: error.errno),
          detail: "cannot create the session directory")
      }
      self.session = session
    }

    let helper: HelperProcess
    do {
      helper = try HelperProcess.spawn(box: box, executable: helperPath, procfs: procfs)
    } catch {
      throw spawnError(error, step: step)
    }
    do {
      try session.record(.helper(box: box, pid: helper.pid, startTime: helper.startTime))
    } catch {
      helper.kill()
      throw KernelError(
        step: step, call: error.call, errno: Errno(rawValue: error.errno),
        detail: "cannot write the ledger; the box was not created")
    }
    helpers.append(helper)
  }

  /// Send `request` to the box's helper; an `err` reply becomes a KernelError naming the call
  /// exactly as `Step.calls` does.
  private func ask(_ box: String, _ request: HelperRequest, step: Step) throws(KernelError) {
    guard let helper = helpers.first(where: { $0.box == box }) else { throw noSuchBox(box, step: step) }
    let reply: HelperReply
    do {
      reply = try helper.call(request)
    } catch {
      throw helperError(error, helper: helper, step: step)
    }
    switch reply {
    case .ok: return
    case .err(let errno, let call, let note):
      // unshare with mnt makes two calls; a failure of the second is the mount.
      let index = call == "mount" ? (step.calls.firstIndex(of: Step.makeRootPrivateCall) ?? 0) : 0
      let detail = note ?? (call == "open" ? "open(2) of the namespace file failed" : nil)
      throw KernelError(step: step, call: Self.call(step, index), errno: Errno(rawValue: errno), detail: detail)
    case .hello:
      throw KernelError(
        step: step, call: Self.call(step, 0), errno: .EPROTO, detail: "the helper for \(box) sent a second hello")
    }
  }

  /// The step's `index`th call, exactly as `Step.calls` writes it, so both kernels name failing
  /// calls alike.
  private static func call(_ step: Step, _ index: Int) -> String {
    let calls = step.calls
    return calls.indices.contains(index) ? calls[index] : calls.last ?? step.kindName
  }

  private func noSuchBox(_ box: String, step: Step) -> KernelError {
    KernelError(step: step, call: Self.call(step, 0), errno: .ESRCH, detail: "no box named \(box)")
  }

  /// A failed `box new`, named by the step's calls: fork(), prctl(PR_SET_PDEATHSIG, SIGKILL),
  /// execve("boxwalk-helper").
  private func spawnError(_ failure: HelperProcess.Failure, step: Step) -> KernelError {
    switch failure {
    case .spawn(let stage, let errno):
      let (index, what): (Int, String?) =
        switch stage {
        case BW_SPAWN_FORK.rawValue: (0, nil)
        case BW_SPAWN_PDEATHSIG.rawValue: (1, nil)
        case BW_SPAWN_PARENT_GONE.rawValue: (1, "boxwalk's thread died before the child armed its death signal")
        case BW_SPAWN_SETSID.rawValue: (2, "setsid(2) in the child failed, before execve")
        case BW_SPAWN_FDS.rawValue: (2, "setting up the child's file descriptors failed, before execve")
        case BW_SPAWN_SIGNALS.rawValue: (2, "resetting the child's signals failed, before execve")
        default: (2, "\(helperPath)")
        }
      return KernelError(step: step, call: Self.call(step, index), errno: Errno(rawValue: errno), detail: what)
    case .system(let error):
      return KernelError(
        step: step, call: Self.call(step, 0), errno: Errno(rawValue: error.errno), detail: "\(error.call) failed")
    case .gone:
      return KernelError(
        step: step, call: Self.call(step, 2), errno: .ECONNRESET, detail: "\(helperPath) exited before saying hello")
    case .protocolError(let what):
      return KernelError(step: step, call: Self.call(step, 2), errno: .EPROTO, detail: what)
    case .refused(let errno, let note):
      return KernelError(
        step: step, call: Self.call(step, 2), errno: Errno(rawValue: errno), detail: "boxwalk-helper " + note)
    }
  }

  private func helperError(_ failure: HelperProcess.Failure, helper: HelperProcess, step: Step?) -> KernelError {
    let call = step.map { Self.call($0, 0) } ?? "uname()"
    switch failure {
    case .gone:
      return KernelError(
        step: step, call: call, errno: .ECONNRESET,
        detail: "the helper for \(helper.box) is gone (killed or crashed); remove the box with `box rm \(helper.box)`")
    case .system(let error):
      return KernelError(
        step: step, call: call, errno: Errno(rawValue: error.errno),
        detail: "\(error.call) to the helper for \(helper.box) failed")
    case .protocolError(let what):
      return KernelError(step: step, call: call, errno: .EPROTO, detail: "the helper for \(helper.box) sent \(what)")
    case .spawn(_, let errno), .refused(let errno, _):
      return KernelError(step: step, call: call, errno: Errno(rawValue: errno))
    }
  }

  // MARK: - Facts

  public func facts() throws(KernelError) -> KernelFacts {
    var names = utsname()
    guard uname(&names) == 0 else { throw KernelError(call: "uname()", errno: Errno(rawValue: errno)) }
    let host = ProcessFacts(
      hostPID: Int(getpid()), namespaces: try namespaces(pid: "self", shown: "self"),
      hostname: Self.string(names.nodename), domainname: Self.string(names.__domainname))

    var boxes: [BoxFacts] = []
    for helper in helpers {
      let reply: HelperReply
      do {
        reply = try helper.call(.uname)
      } catch {
        throw helperError(error, helper: helper, step: nil)
      }
      guard case .ok(let fields) = reply, fields.count == 2 else {
        if case .err(let errno, _, _) = reply {
          throw KernelError(call: "uname()", errno: Errno(rawValue: errno), detail: "in box \(helper.box)")
        }
        throw KernelError(
          call: "uname()", errno: .EPROTO, detail: "the helper for \(helper.box) sent an unexpected reply")
      }
      let process = ProcessFacts(
        hostPID: Int(helper.pid), namespaces: try namespaces(pid: String(helper.pid), shown: "<\(helper.box)>"),
        hostname: HelperWire.string(fields[0]), domainname: HelperWire.string(fields[1]))
      boxes.append(BoxFacts(name: helper.box, process: process))
    }
    return KernelFacts(host: host, boxes: boxes)
  }

  /// The inode of every /proc/PID/ns entry. A PID namespace made by unshare(2) has no entry until
  /// its first process exists; the pidfd ioctl names it anyway, and if the kernel is too old for
  /// that the kind is left out rather than guessed.
  private func namespaces(pid: String, shown: String) throws(KernelError) -> [NamespaceKind: UInt64] {
    var inodes: [NamespaceKind: UInt64] = [:]
    for kind in NamespaceKind.allCases {
      do {
        inodes[kind] = try procfs.namespaceInode(pid: pid, shown: shown, kind: kind)
      } catch {
        if kind == .pid, error.errno == ENOENT, let number = pid_t(pid) {
          inodes[kind] = ProcFS.pidForChildrenInode(pid: number)
          continue
        }
        throw KernelError(call: error.call, errno: Errno(rawValue: error.errno))
      }
    }
    return inodes
  }

  private static func string<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  }

  // MARK: - Teardown

  public func teardown() {
    // Kill them all first and reap after: they die in parallel.
    for helper in helpers { helper.signalKill() }
    for helper in helpers { helper.reap() }
    helpers = []
    session?.remove()
    session = nil
  }
}
