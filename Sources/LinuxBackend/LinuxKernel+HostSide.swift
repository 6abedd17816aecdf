import CShim
import Glibc
import HelperWire
import Kernel

/// The lab's host side and its outside (docs/architecture.md, "Processes"): each a
/// boxwalk-helper alone in a network namespace of its own, not a box. The host side holds the
/// lab's bridges and host veth ends for the session, so the machine's own network is never
/// touched; it is started by the first step that needs it. The outside is started by
/// `net outside`. Both are in the ledger like any helper and die at teardown.
struct LabHostSide {
  /// The host side's helper, or nil before the first step that needs it.
  var network: HelperProcess?
  /// The outside's helper (OutsideNet), or nil before `net outside`.
  var outside: HelperProcess?
  /// Whether boxwalk made its nftables table in the current host side (LinuxKernel+Firewall).
  var rulesMade = false
}

extension LinuxKernel {
  /// The lab's host side helper (LabHostSide.network).
  var hostNetwork: HelperProcess? {
    get { hostSideHelpers.network }
    set { hostSideHelpers.network = newValue }
  }
  /// The lab's outside helper (LabHostSide.outside).
  var outsideNetwork: HelperProcess? {
    get { hostSideHelpers.outside }
    set { hostSideHelpers.outside = newValue }
  }
  /// Whether boxwalk made its nftables table in the current host side (LabHostSide.rulesMade).
  var hostRulesMade: Bool {
    get { hostSideHelpers.rulesMade }
    set { hostSideHelpers.rulesMade = newValue }
  }

  // MARK: Helpers in the lab's network namespaces

  /// The helper that acts in a side's network namespace. A box still in the machine's network
  /// namespace is refused here too, whatever the layers above checked: boxwalk never sends a
  /// netlink request or a packet there.
  func networkHelper(_ side: NetSide, step: Step) throws(KernelError) -> HelperProcess {
    if side == .outside {
      guard let outsideNetwork else {
        throw KernelError(
          step: step, call: step.firstCall, errno: .ENOENT, detail: "there is no outside yet (net outside makes it)"
        )
      }
      return outsideNetwork
    }
    guard case .box(let box) = side else { return try hostSide(step: step) }
    guard let helper = helper(named: box) else { throw noSuchBox(box, step: step) }
    try refuseMachineNetwork(helper, shown: box, step: step)
    return helper
  }

  func refuseMachineNetwork(_ helper: HelperProcess, shown: String, step: Step) throws(KernelError) {
    let machine = try? procfs.namespaceInode(pid: "self", shown: "self", kind: .net)
    let its = try? procfs.namespaceInode(pid: String(helper.pid), shown: shown, kind: .net)
    guard let machine, let its, machine != its else {
      throw KernelError(
        step: step, call: step.firstCall, errno: .EPERM,
        detail: "\(shown) is in the machine's network namespace, which boxwalk never changes")
    }
  }

  /// The host side's helper, started on first use: spawn, record in the ledger, unshare(CLONE_NEWNET).
  func hostSide(step: Step) throws(KernelError) -> HelperProcess {
    if let existing = hostNetwork { return existing }
    let helper = try labNetworkHelper(.labHost, step: step)
    hostNetwork = helper
    hostRulesMade = false
    return helper
  }

  /// A helper alone in a new network namespace of the lab (the host side's, the outside's):
  /// spawned, then set up (labNetworkSetup).
  func labNetworkHelper(_ owner: Owner, step: Step) throws(KernelError) -> HelperProcess {
    let session = try ensureSession(step: step)
    let shown = owner == .labHost ? "host side" : owner.name
    let helper: HelperProcess
    do {
      helper = try HelperProcess.spawn(box: owner.name, executable: helperPath, procfs: procfs)
    } catch {
      var failure = spawnError(error, step: .process(.boxNew(box: owner.name)))
      failure.step = step
      failure.detail = "starting the \(shown)'s helper" + (failure.detail.map { ": \($0)" } ?? "")
      throw failure
    }
    try labNetworkSetup(helper, owner, session, step: step)
    return helper
  }

  /// A new lab helper made the holder of a network namespace of its own: recorded in the ledger
  /// under its reserved name, unshare(CLONE_NEWNET), checked not to be in the machine's
  /// namespace. A new network namespace copies net.ipv4.ip_forward from the machine's
  /// (devconf_inherit_init_net, proc_sys_net_core(5)); boxwalk sets it to 0, the kernel's
  /// default, so the lab starts the same on every machine. On failure the helper is killed.
  func labNetworkSetup(_ helper: HelperProcess, _ owner: Owner, _ session: SessionDirectory, step: Step)
    throws(KernelError)
  {
    let name = owner.name
    let shown = owner == .labHost ? "host side" : name
    // Its ledger name is Owner.name, `host` or `outside`, names no box may have: this record
    // never collides with a box's, and `cleanup` kills it like any helper.
    let record = Ledger.Record.helper(box: name, pid: helper.pid, startTime: helper.startTime)
    do {
      try session.record(record)
    } catch {
      helper.kill()
      throw KernelError(
        step: step, call: error.call, errno: Errno(rawValue: error.errno),
        detail: "cannot write the ledger; the \(shown) was not created")
    }
    var failure: (errno: Int32, note: String?)?
    do {
      let reply = try helper.call(.calls([.namespace(.unshare(flags: UInt32(BW_CLONE_NEWNET)))]))
      if case .err(let errno, _, let note) = reply { failure = (errno, note) }
    } catch {
      failure = (ECONNRESET, "the \(shown)'s helper is gone")
    }
    if let (errno, note) = failure {
      helper.kill()
      session.forget { $0 == record }
      throw KernelError(
        step: step, call: "unshare(CLONE_NEWNET)", errno: Errno(rawValue: errno),
        detail: "the \(shown)'s network namespace could not be made" + (note.map { ": \($0)" } ?? ""))
    }
    do throws(KernelError) {
      try refuseMachineNetwork(helper, shown: "the \(shown)", step: step)
      let reply = try exchange(helper, .calls([.net(.writeIPForward(false))]), step: step)
      if case .err(let errno, _, let note) = reply {
        throw KernelError(
          step: step, call: "write(\"/proc/sys/net/ipv4/ip_forward\")", errno: Errno(rawValue: errno), detail: note)
      }
    } catch {
      helper.kill()
      session.forget { $0 == record }
      throw error
    }
  }
}
