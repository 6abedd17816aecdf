import Kernel

/// What tearing a cgroup down takes, worked out from a listing of its tree before anything is
/// done (planned purely, carried out separately): how to kill every process in it, how to know they
/// are gone, and which directories to remove in which order. `CgroupTeardown` carries a plan out.
///
/// Kill by cgroup, not by a list of PIDs remembered from earlier (docs/security.md, "Every process
/// dies with its box"): a box can fork, double-fork and setsid(2) away from every PID boxwalk
/// knows, but not out of its cgroup. Three ways, best first:
/// - `cgroup.kill` (cgroup v2, Linux 5.13): writing "1" SIGKILLs every process in the cgroup and
///   its descendants, in the kernel, with no race against fork(2) (cgroup-v2.rst, "cgroup.kill").
/// - freeze, signal, thaw: freeze the cgroup (`freezer.state` = FROZEN on v1, `cgroup.freeze` = 1
///   on v2), SIGKILL every PID in every `cgroup.procs` of the tree, then thaw. A frozen process
///   can neither fork nor exit, so the list read is complete and no PID in it can be reused by
///   another process before the signal lands. On v1 the SIGKILL takes effect at the thaw
///   (cgroup-v1/freezer-subsystem.rst); a sub-cgroup the learner froze on its own stays frozen
///   when its parent thaws, so every directory is thawed, top down. This is runc's
///   `signalAllProcesses` fallback.
/// - signal only: where there is no freezer at all; racy against a fork bomb, so it is repeated.
package struct CgroupTeardownPlan: Equatable, Sendable {
  package enum KillMethod: Equatable, Sendable {
    /// cgroup v2 with cgroup.kill.
    case cgroupKill
    /// cgroup v2 before 5.13: cgroup.freeze (5.2).
    case freezeV2
    /// cgroup v1: the target's directory in the freezer hierarchy (`freezer/boxwalk/S/web`).
    case freezerV1(target: String)
    /// Neither.
    case signalOnly
  }

  package enum KillStep: Equatable, Sendable {
    case write(CgroupWrite)
    /// Poll until the flat-keyed file at `path` says `key value` (or, with no key, holds `value`):
    /// freezing is asynchronous (FREEZING before FROZEN on v1, `frozen 1` in cgroup.events on v2).
    case waitFor(path: String, key: String?, value: String)
    /// SIGKILL every PID listed in these cgroups' cgroup.procs.
    case signalProcesses([String])
  }

  /// How to tell that no process is left.
  package enum EmptyCheck: Equatable, Sendable {
    /// cgroup v2: `populated 0` in this cgroup.events (it counts descendants too).
    case populated(events: String)
    /// cgroup v1 has no cgroup.events: every cgroup.procs of the tree is empty.
    case noProcesses([String])
  }

  package var kill: [KillStep]
  package var emptyCheck: EmptyCheck?
  /// rmdir(2), deepest first, each retried on EBUSY.
  package var removals: [String]
  /// Parents to remove if nothing else is in them (`boxwalk/SESSION`, `boxwalk`): one try, and a
  /// failure (another box, another session) is no error.
  package var prune: [String]

  /// Plan the teardown of `targets` (one directory per hierarchy, relative to the driver's root)
  /// whose trees hold `tree` (every existing directory at or under a target). `kill` and `remove`
  /// choose the parts; `prune` lists the parents to tidy afterwards.
  package static func make(
    targets: [String], tree: [String], method: KillMethod, kill: Bool = true, remove: Bool = true,
    prune: [String] = []
  ) -> CgroupTeardownPlan {
    let existing = tree.filter { dir in targets.contains { dir == $0 || dir.hasPrefix($0 + "/") } }
    // Top down for thawing; removal is the reverse: children before parents (rmdir(2) of a
    // cgroup with children fails with EBUSY), ties in a fixed order.
    let topDown = existing.sorted { (depth($0), $0) < (depth($1), $1) }
    let liveTargets = targets.filter { existing.contains($0) }
    var steps: [KillStep] = []
    var check: EmptyCheck?
    if kill && !liveTargets.isEmpty {
      switch method {
      case .cgroupKill:
        steps = liveTargets.map { .write(CgroupWrite(path: $0 + "/cgroup.kill", value: "1")) }
      case .freezeV2:
        steps = liveTargets.map { .write(CgroupWrite(path: $0 + "/cgroup.freeze", value: "1")) }
        steps += liveTargets.map { .waitFor(path: $0 + "/cgroup.events", key: "frozen", value: "1") }
        steps.append(.signalProcesses(topDown))
        steps += liveTargets.map { .write(CgroupWrite(path: $0 + "/cgroup.freeze", value: "0")) }
      case .freezerV1(let freezer):
        let frozen = existing.contains(freezer)
        if frozen {
          steps.append(.write(CgroupWrite(path: freezer + "/freezer.state", value: "FROZEN")))
          steps.append(.waitFor(path: freezer + "/freezer.state", key: nil, value: "FROZEN"))
        }
        steps.append(.signalProcesses(topDown))
        if frozen {
          steps += topDown.filter { $0 == freezer || $0.hasPrefix(freezer + "/") }.map {
            .write(CgroupWrite(path: $0 + "/freezer.state", value: "THAWED"))
          }
        }
      case .signalOnly:
        steps = [.signalProcesses(topDown)]
      }
      switch method {
      case .cgroupKill, .freezeV2:
        // One v2 target per plan; cgroup.events of it covers the whole tree.
        check = liveTargets.first.map { .populated(events: $0 + "/cgroup.events") }
      case .freezerV1, .signalOnly:
        check = .noProcesses(topDown)
      }
    }
    return CgroupTeardownPlan(
      kill: steps, emptyCheck: check, removals: remove ? topDown.reversed() : [], prune: remove ? prune : [])
  }

  static func depth(_ path: String) -> Int { path.split(separator: "/").count }
}
