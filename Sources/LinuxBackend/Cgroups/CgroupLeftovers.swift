import Kernel
import Glibc

/// `boxwalk cleanup` for cgroups: find the `boxwalk/SESSION` directories of sessions that are no
/// longer running and tear them down (docs/security.md, "Where sessions live, and what cleanup may
/// remove").
///
/// A cgroup file system lives in memory, so every directory found under `boxwalk/` was made in
/// this boot, and its name, `PID-STARTTIME[-N]`, says which process made it (BoxCgroup). The
/// session is dead when that PID is gone or now has another start time; the same rule as for
/// ledgers (LedgerCleanup.ownerVerdict), so the two can never disagree. A name that is not a
/// session id was not made by boxwalk and is left alone: cleanup never adopts what it did not make.
package enum CgroupLeftovers {
  package enum Verdict: Equatable, Sendable {
    /// A dead session's cgroups: kill what is left in them and remove them.
    case remove(String)
    /// A running session (maybe this one): leave it.
    case keep(String)
    /// Not a name boxwalk makes.
    case notOurs
  }

  /// Decide about one name under `boxwalk/`. `identity` is what /proc says about a PID now.
  package static func verdict(
    session: String, ownSession: String?, bootID: String, identity: (Int32) -> ProcessIdentity?
  ) -> Verdict {
    if session == ownSession { return .keep("this session") }
    guard let owner = LedgerCleanup.ownerFromDirectoryName(session, bootID: bootID) else { return .notOurs }
    switch LedgerCleanup.ownerVerdict(owner, bootID: bootID, identity: identity(owner.pid)) {
    case .alive: return .keep("pid \(owner.pid) is running")
    case .dead(let why): return .remove(why)
    }
  }

  /// The verdict for every session that has cgroups, in name order.
  package static func plan(
    sessions: [String], ownSession: String?, bootID: String, identity: (Int32) -> ProcessIdentity?
  ) -> [(session: String, verdict: Verdict)] {
    sessions.sorted().map { ($0, verdict(session: $0, ownSession: ownSession, bootID: bootID, identity: identity)) }
  }

  /// Carry the plan out; one line per session, as `cleanup` prints them.
  package static func run(driver: any CgroupDriver, ownSession: String?, procRoot: String = "/proc") -> [String] {
    let procfs = ProcFS(root: procRoot)
    guard let bootID = try? procfs.bootID() else {
      return ["cannot read the boot id under \(procRoot): no cgroup was touched"]
    }
    let decisions = plan(
      sessions: driver.sessions(), ownSession: ownSession, bootID: bootID,
      identity: { procfs.identity(String($0)) })
    var lines: [String] = []
    for (session, verdict) in decisions {
      let path = "\(BoxCgroup.topDirectory)/\(session)"
      switch verdict {
      case .keep(let why):
        lines.append("cgroup \(path): \(why), left alone")
      case .notOurs:
        lines.append("cgroup \(path): not a boxwalk session id, left alone")
      case .remove(let why):
        do {
          let actions = try driver.teardownSession(session)
          let killed = actions.filter { if case .kill = $0 { true } else { false } }.count
          let removed = actions.filter { if case .removeDirectory = $0 { true } else { false } }.count
          lines.append(
            "cgroup \(path): \(why); removed \(removed) director\(removed == 1 ? "y" : "ies")"
              + (killed > 0 ? ", killed \(killed) process(es)" : ""))
        } catch {
          lines.append("cgroup \(path): \(why); could not remove: \(error)")
        }
      }
    }
    return lines
  }
}
