import CShim
import Glibc

/// One boxwalk session's directory, `<stateRoot>/<pid>-<starttime>/` (mode 0700), and its ledger.
/// The ledger is under /run, replaced whole on every change, and fsync'd before any object that
/// could outlive a crash of the machine is made, so cleanup always finds it.
///
/// fsync(2) matters only for a crash of the machine: if boxwalk alone dies, what it wrote is in
/// the page cache for `boxwalk cleanup` to read. And a crash of the machine ends every process
/// and every System V IPC object, so records of helpers and IPC objects, the ledger's first
/// version (no records) and records removed (`forget`: a stale record is harmless) need no
/// fsync. Where /run is a disk file system rather than tmpfs, each fsync is a journal commit,
/// 1 - 4 ms (BENCHMARKS.md); box scratch directories, which do outlive a crash there, still get it.
final class SessionDirectory {
  let path: String
  let ledgerPath: String
  private(set) var ledger: Ledger
  private let stateRoot: String

  private init(stateRoot: String, path: String, ledger: Ledger) {
    self.stateRoot = stateRoot
    self.path = path
    self.ledgerPath = path + "/" + Ledger.fileName
    self.ledger = ledger
  }

  /// Make the state root if needed, then the session directory with a ledger naming its owner:
  /// this process, in this boot.
  static func create(stateRoot: String, procfs: ProcFS) throws(SystemCallError) -> SessionDirectory {
    try makeStateRoot(stateRoot)
    let bootID = try procfs.bootID()
    guard let me = procfs.identity("self") else {
      throw SystemCallError(call: "open(\"/proc/self/stat\")", errno: ENOENT)
    }
    let owner = Ledger.Owner(bootID: bootID, pid: getpid(), startTime: me.startTime)

    let lock = try StateRootLock.acquire(stateRoot)
    defer { lock.release() }
    // A second kernel in the same process (tests) gets "-2", "-3", ...
    var id = "\(owner.pid)-\(owner.startTime)"
    var attempt = 1
    while mkdir(stateRoot + "/" + id, 0o700) != 0 {
      guard errno == EEXIST, attempt < 1000 else {
        throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(stateRoot + "/" + id)), 0700)", errno: errno)
      }
      attempt += 1
      id = "\(owner.pid)-\(owner.startTime)-\(attempt)"
    }
    let session = SessionDirectory(stateRoot: stateRoot, path: stateRoot + "/" + id, ledger: Ledger(owner: owner))
    do {
      try SmallFiles.replace(session.ledgerPath, with: session.ledger.text, durable: false)
    } catch {
      rmdir(session.path)
      throw error
    }
    _ = bw_emergency_set_ledger(session.ledgerPath, session.path)
    return session
  }

  /// mkdir -p, the last component 0700; then check it is a real directory of ours (not a symlink
  /// someone planted: the state root decides what cleanup deletes).
  private static func makeStateRoot(_ stateRoot: String) throws(SystemCallError) {
    var prefix = stateRoot.hasPrefix("/") ? "" : "."
    let components = stateRoot.split(separator: "/")
    for (i, component) in components.enumerated() {
      prefix += "/" + component
      if mkdir(prefix, i == components.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST {
        throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(prefix)))", errno: errno)
      }
    }
    if let problem = stateRootProblem(stateRoot) { throw problem }
  }

  /// Why `stateRoot` cannot hold sessions, or nil: it must be a real directory (not a symbolic
  /// link), owned by this user, that no one else can write. Whoever can write it can plant a
  /// session directory whose ledger tells cleanup what to kill and remove.
  package static func stateRootProblem(_ stateRoot: String) -> SystemCallError? {
    let shown = SmallFiles.quoted(stateRoot)
    var info = stat()
    guard lstat(stateRoot, &info) == 0 else { return SystemCallError(call: "lstat(\(shown))", errno: errno) }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      let what = info.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a directory"
      return SystemCallError(
        call: "lstat(\(shown)): it is \(what), which boxwalk did not make; remove it, or set XDG_RUNTIME_DIR",
        errno: ENOTDIR)
    }
    guard info.st_uid == geteuid() else {
      return SystemCallError(
        call: "lstat(\(shown)): it belongs to uid \(info.st_uid), not to this user (another user made it); "
          + "set XDG_RUNTIME_DIR to a directory of yours",
        errno: EPERM)
    }
    guard info.st_mode & 0o022 == 0 else {
      return SystemCallError(
        call: "lstat(\(shown)): mode \(String(info.st_mode & 0o7777, radix: 8)) lets others write it; chmod 700 it",
        errno: EPERM)
    }
    return nil
  }

  /// Add a record, durable before returning when its object could outlive a machine crash.
  func record(_ record: Ledger.Record) throws(SystemCallError) {
    ledger.records.append(record)
    do {
      try SafeFiles.append(ledgerPath, Array((Ledger.line(record) + "\n").utf8), durable: record.outlivesTheMachine)
    } catch {
      ledger.records.removeLast()
      throw error
    }
  }

  /// Drop the records of objects that are gone. If the write fails the stale record stays, which
  /// is harmless: cleanup checks every PID's start time before it signals anything.
  func forget(where matches: (Ledger.Record) -> Bool) {
    ledger.records.removeAll(where: matches)
    try? SmallFiles.replace(ledgerPath, with: ledger.text, durable: false)
  }

  /// Where a throwaway image store lives, when the kernel uses one.
  static let imagesDirectory = "images"

  /// Remove the ledger and the directory (the objects it lists must be gone already).
  func remove() {
    bw_emergency_clear_ledger(ledgerPath)
    let lock = try? StateRootLock.acquire(stateRoot)
    SafeFiles.removeTemporaries(of: ledgerPath)
    unlink(ledgerPath)
    FileTree.remove(path + "/boxes")
    FileTree.remove(path + "/" + Self.imagesDirectory)
    rmdir(path)
    lock?.release()
  }
}
