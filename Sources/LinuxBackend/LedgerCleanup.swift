import CShim
import Glibc
import Kernel

/// `boxwalk cleanup`, and the same at the next start: remove what dead sessions left on the host,
/// from their ledgers (docs/security.md, "Where sessions live, and what cleanup may remove").
///
/// A session is dead when its ledger's boot id is not this boot's, or its owner PID is gone, or
/// that PID now has another start time. Live sessions are left alone. In a dead session a helper
/// is killed only if its PID still has the recorded start time and is called boxwalk-helper: a
/// recycled PID is never touched, and PIDs from another boot are not even looked at. Everything
/// already gone counts as done, so running it twice is safe.
public enum LedgerCleanup {
  /// How a line of `run` ends when it reports a session that is still running: `reset --all
  /// --images` keeps the image store while any is (a running box's layers are in it).
  public static let runningMarker = "is running, left alone"

  /// Clean every dead session under `stateRoot`; returns one line per thing done or left alone.
  /// - Parameter reportLive: also say which sessions are still running and were left alone
  ///   (`boxwalk cleanup` does; the REPL's start-up check only reports what it cleaned).
  public static func run(stateRoot: String = "/run/boxwalk", reportLive: Bool = true) -> [String] {
    // The host's cgroups belong to the host's sessions: scan them only for the real state root,
    // never for a test's temporary one.
    run(stateRoot: stateRoot, procRoot: "/proc", reportLive: reportLive, cgroups: stateRoot == "/run/boxwalk")
  }

  package static func run(stateRoot: String, procRoot: String, reportLive: Bool = true, cgroups: Bool = false)
    -> [String]
  {
    var info = stat()
    // A symbolic link (or anything but a directory) is not a state root: never followed, and
    // said, since someone else may have put it there (a link at /tmp/boxwalk-UID, for one).
    guard lstat(stateRoot, &info) == 0 else { return [] }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      let what = info.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a directory"
      return ["\(stateRoot): left alone: it is \(what), not a state directory boxwalk made"]
    }
    // A state root someone else made or can write holds ledgers we did not write: acting on
    // them would let that user choose what we kill, unlink and remove.
    if let problem = SessionDirectory.stateRootProblem(stateRoot) {
      return ["\(stateRoot): left alone: \(problem.call)"]
    }
    return locked(stateRoot, procRoot: procRoot) { procfs, bootID in
      let names = (try? SmallFiles.list(stateRoot)) ?? []
      var lines: [String] = []
      for name in names.sorted() {
        let path = stateRoot + "/" + name
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
        lines += cleanSession(path: path, name: name, bootID: bootID, procfs: procfs, reportLive: reportLive)
      }
      // Then the cgroups of dead sessions, found by name under boxwalk/ (a cgroup's name is its
      // session's PID-STARTTIME), after their helpers were killed above.
      if cgroups, let driver = try? CgroupLayout.probe(procRoot: procRoot).makeDriver() {
        lines += CgroupLeftovers.run(driver: driver, ownSession: nil, procRoot: procRoot)
          .filter { reportLive || !$0.contains("left alone") }
      }
      return lines
    }
  }

  /// The rest of a session's teardown after boxwalk was told to die by `signal`: its fatal-signal
  /// handler killed the helpers and exec'd this, as the same process (so the owner check would
  /// say "alive": this session is dead by decree). Then the session's cgroups, found by its name.
  public static func cleanAfterSignal(session path: String, signal: Int32) -> [String] {
    let stateRoot = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    let name = String(path.split(separator: "/").last ?? "")
    guard !stateRoot.isEmpty, !name.isEmpty else { return ["\(path): not a session directory"] }
    return locked(stateRoot, procRoot: "/proc") { procfs, bootID in
      var lines = cleanSession(
        path: path, name: name, bootID: bootID, procfs: procfs, reportLive: false,
        decree: "boxwalk was stopped by signal \(signal)")
      if let driver = try? CgroupLayout.probe(procRoot: "/proc").makeDriver(), driver.sessions().contains(name) {
        do {
          _ = try driver.teardownSession(name)
          lines.append("  removed the cgroups of session \(name)")
        } catch {
          lines.append("  could not remove the cgroups of session \(name): \(error)")
        }
      }
      return lines
    }
  }

  /// Runs `body` under the state root's lock with the boot id it needs, or says why it cannot.
  private static func locked(
    _ stateRoot: String, procRoot: String, _ body: (ProcFS, String) -> [String]
  ) -> [String] {
    let lock: StateRootLock
    do {
      lock = try StateRootLock.acquire(stateRoot)
    } catch {
      return ["cannot lock \(stateRoot): \(error.call): \(Errno(rawValue: error.errno).name)"]
    }
    defer { lock.release() }
    let procfs = ProcFS(root: procRoot)
    guard let bootID = try? procfs.bootID() else {
      return ["cannot read the boot id under \(procRoot): nothing cleaned"]
    }
    return body(procfs, bootID)
  }

  // MARK: - Decisions (pure)

  package enum OwnerVerdict: Equatable, Sendable {
    case alive
    case dead(String)
  }

  /// Is the session's owner still running? `identity` is what /proc says about its PID now.
  package static func ownerVerdict(_ owner: Ledger.Owner, bootID: String, identity: ProcessIdentity?) -> OwnerVerdict {
    if owner.bootID != bootID { return .dead("it is from an earlier boot") }
    guard let identity else { return .dead("its owner, pid \(owner.pid), has exited") }
    if identity.startTime != owner.startTime {
      return .dead("its owner, pid \(owner.pid), has exited (the pid now belongs to another process)")
    }
    if identity.state == "Z" { return .dead("its owner, pid \(owner.pid), has exited (a zombie)") }
    return .alive
  }

  package enum HelperVerdict: Equatable, Sendable {
    /// It is our helper, still running: kill it.
    case kill
    /// Nothing to do: the process has exited.
    case gone
    /// The ledger is from another boot: its PIDs name nothing of ours.
    case otherBoot
    /// The PID now belongs to another process: never touch it.
    case notOurs(String)
  }

  package static func helperVerdict(startTime: UInt64, sameBoot: Bool, identity: ProcessIdentity?) -> HelperVerdict {
    guard sameBoot else { return .otherBoot }
    guard let identity else { return .gone }
    if identity.startTime != startTime {
      return .notOurs("its start time is \(identity.startTime), the ledger says \(startTime)")
    }
    if identity.comm != "boxwalk-helper" { return .notOurs("it is \(identity.comm), not boxwalk-helper") }
    if identity.state == "Z" { return .gone }
    return .kill
  }

  /// The owner a session directory's name implies (`PID-STARTTIME[-N]`), for a directory whose
  /// ledger is missing or unreadable (a crash while it was being made).
  package static func ownerFromDirectoryName(_ name: String, bootID: String) -> Ledger.Owner? {
    let parts = name.split(separator: "-")
    guard (2...3).contains(parts.count), let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { return nil }
    if parts.count == 3 && Int(parts[2]) == nil { return nil }
    return Ledger.Owner(bootID: bootID, pid: pid, startTime: start)
  }

  // MARK: - Acting

  /// - Parameter decree: the session is dead for this reason, whatever its owner's PID says.
  private static func cleanSession(
    path: String, name: String, bootID: String, procfs: ProcFS, reportLive: Bool, decree: String? = nil
  ) -> [String] {
    let ledger: Ledger?
    let owner: Ledger.Owner
    if let text = try? SmallFiles.readText(path + "/" + Ledger.fileName), let parsed = try? Ledger.parse(text) {
      ledger = parsed
      owner = parsed.owner
    } else if let implied = ownerFromDirectoryName(name, bootID: bootID) {
      ledger = nil
      owner = implied
    } else {
      return ["\(path): not a boxwalk session directory, left alone"]
    }

    let why: String
    if let decree {
      why = decree
    } else {
      let me = procfs.identity("self")
      if owner.pid == getpid() && owner.startTime == me?.startTime { return [] }  // our own session
      guard case .dead(let reason) = ownerVerdict(owner, bootID: bootID, identity: procfs.identity(String(owner.pid)))
      else {
        return reportLive ? ["session \(name): pid \(owner.pid) \(runningMarker)"] : []
      }
      why = reason
    }

    var lines = ["session \(name): \(why)" + (ledger == nil ? "; it has no readable ledger" : "")]
    var keep = false
    for record in (ledger?.records ?? []).reversed() {
      switch record {
      case .helper(let box, let pid, let start):
        lines.append(killHelper(box: box, pid: pid, startTime: start, sameBoot: owner.bootID == bootID, procfs: procfs))
      case .scratch(let box, let scratch):
        // Only ever a scratch directory of this session: a ledger cannot make us delete elsewhere.
        if isScratchPath(scratch, of: path) {
          FileTree.remove(scratch)
          lines.append("  removed the scratch files of box \(box)")
        } else {
          lines.append("  scratch path \(scratch) is outside \(path): left alone")
        }
      case .ipc(let kind, let key, let id):
        lines.append("  " + HostIPC.remove(kind: kind, key: key, id: id))
      case .posixMQ(let name, let inode):
        lines.append("  " + HostIPC.removeQueue(name: name, inode: inode))
      case .unknown(let line):
        keep = true
        lines.append("  unknown ledger record \"\(line)\": left in place for a newer boxwalk")
      }
    }
    if keep { return lines }
    if ledger == nil, boxScratchExists(path) {
      // No ledger says which scratch directories the session made (it died while making its
      // ledger, or an older boxwalk deleted the ledger on a signal). Box scratch lives only in
      // the session's own boxes/ directory, so that whole directory is the session's to remove.
      FileTree.remove(path + "/boxes")
      lines.append("  removed the scratch files under \(path)/boxes (no ledger recorded them)")
    }
    SafeFiles.removeTemporaries(of: path + "/" + Ledger.fileName)
    unlink(path + "/" + Ledger.fileName)
    // The directory the scratch records were in (SessionDirectory makes it); only if empty.
    rmdir(path + "/boxes")
    let removed = rmdir(path) == 0
    let failure = errno
    if removed || failure == ENOENT {
      lines.append("  removed \(path)")
    } else {
      let why = failure == ENOTEMPTY ? "ENOTEMPTY, it holds files boxwalk did not write" : Errno(rawValue: failure).name
      lines.append("  could not remove \(path): rmdir: \(why)")
    }
    return lines
  }

  private static func boxScratchExists(_ session: String) -> Bool {
    var info = stat()
    return lstat(session + "/boxes", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
  }

  /// Whether `scratch` is one of the places a session makes scratch directories: SESSION/images
  /// (a throwaway image store) or SESSION/boxes/NAME (a box's overlay), NAME one plain path
  /// component. A prefix check alone is not enough: "SESSION/boxes/../../../etc" starts with
  /// SESSION/ and names /etc. And no component on the way may be a symbolic link: the tree is
  /// removed without following links, but a link at SESSION/boxes would lead elsewhere first.
  package static func isScratchPath(_ scratch: String, of session: String) -> Bool {
    guard scratch.hasPrefix(session + "/") else { return false }
    let parts = scratch.dropFirst(session.count + 1).split(separator: "/", omittingEmptySubsequences: false)
    let plain = parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    guard plain, parts == [Substring(SessionDirectory.imagesDirectory)] || (parts.count == 2 && parts[0] == "boxes")
    else { return false }
    var st = stat()
    if parts.count == 2 && lstat(session + "/boxes", &st) == 0 { return st.st_mode & S_IFMT == S_IFDIR }
    return true  // SESSION/boxes is missing: so is the scratch directory, nothing to remove
  }

  /// Kill a recorded helper if, and only if, it is still that helper. pidfd_open(2) pins the
  /// process first; the identity is checked after that, so the signal cannot reach a process
  /// that got the PID in between (a PID is reused only once its old process is reaped, and then
  /// the start time read below is the new process's).
  private static func killHelper(box: String, pid: Int32, startTime: UInt64, sameBoot: Bool, procfs: ProcFS) -> String {
    let label =
      switch Owner(name: box) {
      case .labHost: "helper of the host side's network (pid \(pid))"
      case .outside, .box: "helper of box \(box) (pid \(pid))"
      }
    guard sameBoot else { return "  \(label): from an earlier boot, not signalled" }
    let pidfd = bw_pidfd_open(pid, 0)
    guard pidfd >= 0 else {
      let failure = errno
      return failure == ESRCH
        ? "  \(label): already gone" : "  \(label): pidfd_open: \(Errno(rawValue: failure).name), not signalled"
    }
    defer { close(pidfd) }
    switch helperVerdict(startTime: startTime, sameBoot: sameBoot, identity: procfs.identity(String(pid))) {
    case .gone: return "  \(label): already gone"
    case .otherBoot: return "  \(label): from an earlier boot, not signalled"
    case .notOurs(let why): return "  \(label): the pid is another process now (\(why)), not touched"
    case .kill:
      guard bw_pidfd_send_signal(pidfd, SIGKILL) == 0 else {
        let failure = errno
        return failure == ESRCH
          ? "  \(label): already gone" : "  \(label): pidfd_send_signal: \(Errno(rawValue: failure).name)"
      }
      // A pidfd becomes readable when its process exits (pidfd_open(2)); it is not our child, so
      // waitpid(2) cannot wait for it.
      var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
      _ = poll(&poller, 1, 2000)
      return "  killed \(label)"
    }
  }
}
