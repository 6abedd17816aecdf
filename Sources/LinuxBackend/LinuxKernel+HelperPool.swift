import Glibc
import HelperWire
import Kernel

// The box helpers' lifecycle (HelperPool owns the list): a box's helper is spawned and
// ledgered by `box new`, killed and forgotten by `box rm`, and buried when it dies on its own,
// with the one sentence that says so (docs/architecture.md, "Processes").
extension LinuxKernel {
  func newBox(_ box: String, step: Step) throws(KernelError) {
    if helper(named: box) != nil {
      throw KernelError(step: step, call: step.entry(.fork), errno: .EEXIST, detail: "box \(box) exists")
    }
    let session = try ensureSession(step: step)
    if rootlessPolicy.boxesJoinSessionUserNamespace { _ = try ensureAnchor(step: step) }

    // fork(2), prctl(2), execve(2): made by one C call in boxwalk's process; each entry reports
    // its own part of it (HelperStart).
    let start = HelperStart(box)
    try make(step) { entry throws(KernelError) in
      guard let making = starting(entry, start) else { throw unplanned(entry, step) }
      return making
    }
    guard let helper = start.helper else { throw unplanned(step.firstCall, step) }
    do {
      try session.record(.helper(box: box, pid: helper.pid, startTime: helper.startTime))
    } catch {
      helper.kill()
      throw KernelError(
        step: step, call: error.call, errno: Errno(rawValue: error.errno),
        detail: "cannot write the ledger; the box was not created")
    }
    if rootlessPolicy.boxesJoinSessionUserNamespace {
      do {
        try joinSessionUserNamespace(helper, step: step)
      } catch {
        helper.kill()
        session.forget { $0 == .helper(box: box, pid: helper.pid, startTime: helper.startTime) }
        throw error
      }
    }
    pool.append(helper)
    anchor(box, from: nil)
  }

  /// Kills a box's helper (if it still runs) and removes what the box had on the host: its
  /// ledger record, cgroup and scratch directories.
  func forget(_ helper: HelperProcess) {
    let box = helper.box
    helper.kill()
    session?.forget { $0 == .helper(box: box, pid: helper.pid, startTime: helper.startTime) }
    if let cgroup = cgroupOf.removeValue(forKey: box), let driver = cgroupDriver {
      // Kill by cgroup, then remove it depth first; "already gone" counts as done.
      _ = try? driver.teardown(cgroup)
    }
    if let overlay = boxState[box]?.overlay {
      // The overlay died with the box's mount namespace; its upper, work and mount
      // directories (one scratch directory) can go now.
      dropScratch(box, Overlay.parent(of: overlay.upper))
    }
    ImageStore.release(boxState[box]?.layerHolds ?? [])
    boxState[box] = nil
    // Mounts of namespaces no box is in any more died with them.
    let live = Set(helpers.compactMap { try? procfs.namespaceInode(pid: String($0.pid), shown: $0.box, kind: .mnt) })
    mountLog.removeAll { !live.contains($0.namespace) }
    settleNetwork()
  }

  /// Helpers that died outside any step: killed from outside (kill(1), the OOM killer). The box
  /// cannot come back (its namespaces died with the helper, and with them its processes and
  /// mounts), so it is forgotten as `box rm` would, and said once. A dead host-side helper took
  /// the lab's bridges and host veth ends with its network namespace; the next net command makes
  /// a new host side.
  public func takeNotices() -> [String] {
    // One question to the kernel first: has any child of this process exited? Asking each helper
    // in turn (waitpid(2) per helper) was a system call per box on every command.
    guard Self.anyChildExited() else { return [] }
    var notes: [String] = []
    for helper in deadHelperCandidates() {
      guard let how = helper.exitedOnItsOwn() else { continue }
      let note = bury(helper, how: how)
      // A step's error has said it already (perform): forgotten, not said twice.
      if deathsReported.remove(helper.pid) == nil { notes.append(note) }
    }
    return notes
  }

  /// Whether some child of this process has exited and waits to be reaped: waitid(2) on every
  /// child (P_ALL) with WNOWAIT, which leaves the child to be reaped by whoever waits for it by
  /// PID. With WNOHANG and no such child, the kernel answers 0 with si_pid zero. True on an error
  /// other than ECHILD (no children at all), so that the caller looks helper by helper.
  static func anyChildExited() -> Bool {
    var info = siginfo_t()
    var rc: Int32
    repeat { rc = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) } while rc < 0 && errno == EINTR
    if rc < 0 { return errno != ECHILD }
    return info._sifields._sigchld.si_pid != 0
  }

  /// Every helper that could have died, the rootless anchor first (its boxes go with it).
  private func deadHelperCandidates() -> [HelperProcess] {
    (anchor.map { [$0] } ?? []) + helpers + (outsideNetwork.map { [$0] } ?? []) + (hostNetwork.map { [$0] } ?? [])
  }

  /// After a step failed because a helper was gone: waits for each such helper to be reaped, at
  /// most a second (the socket reaches end of file as the dying process closes its files, a
  /// moment before waitpid(2) can collect it), forgets it as takeNotices would, and returns the
  /// first sentence that says so. A helper still not reaped stays in `deathsReported`, and
  /// takeNotices forgets it later without a note.
  func buryDeathsReported() -> String? {
    var sentences: [String] = []
    for helper in deadHelperCandidates() where deathsReported.contains(helper.pid) {
      // The anchor's boxes were forgotten with it: skip what is no longer held.
      guard
        anchor === helper || pool.contains(helper) || outsideNetwork === helper
          || hostNetwork === helper
      else { continue }
      var how = helper.exitedOnItsOwn()
      for _ in 0..<100 where how == nil {
        usleep(10_000)
        how = helper.exitedOnItsOwn()
      }
      guard let how else { continue }
      deathsReported.remove(helper.pid)
      sentences.append(bury(helper, how: how))
    }
    return sentences.first
  }

  /// Forgets one helper that died outside boxwalk's doing, and says what went with it and the
  /// command that recovers.
  private func bury(_ helper: HelperProcess, how: String) -> String {
    // Rootless: the anchor holds the session's user namespace, and it stands for the host in every
    // state read (facts() reads the host's namespaces from it). Every box was made inside that
    // user namespace, so a box would no longer match any new host: they go with it, as `box rm`
    // would, and the next step makes a new anchor in a new user namespace (ensureAnchor).
    if helper === anchor {
      anchor = nil
      session?.forget { $0 == .helper(box: helper.box, pid: helper.pid, startTime: helper.startTime) }
      let boxes = helpers.map(\.box)
      let gone = pool.removeAll()
      for box in gone {
        deathsReported.remove(box.pid)
        forget(box)
      }
      return "the session's host is gone: its helper (the process holding the session's user namespace) \(how)"
        + (boxes.isEmpty
          ? ""
          : ", and the boxes made in that user namespace went with it (\(boxes.joined(separator: ", ")))")
        + "; the next command starts a new one, box new NAME makes a box in it"
    }
    if helper === outsideNetwork {
      outsideNetwork = nil
      session?.forget { $0 == .helper(box: helper.box, pid: helper.pid, startTime: helper.startTime) }
      return
        "the lab's outside is gone: its helper \(how), and its network namespace with it; net outside makes a new one"
    }
    if helper === hostNetwork {
      hostNetwork = nil
      hostRulesMade = false
      session?.forget { $0 == .helper(box: helper.box, pid: helper.pid, startTime: helper.startTime) }
      return "the lab network's host side is gone: its helper \(how), and its bridges and host veth ends died with its "
        + "network namespace; the next net command makes a new host side"
    }
    pool.remove(helper)
    forget(helper)
    return "box \(helper.box) is gone: its helper (the process holding its namespaces) \(how), and its namespaces, "
      + "processes and mounts died with it; box new \(helper.box) starts it again"
  }
}
