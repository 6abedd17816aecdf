import Kernel

/// Every rule of the rootless backend (LinuxKernel+Rootless.swift says how it works), in one
/// place with its reason: the kernel asks this value, and never asks which backend it is on.
/// On the real backend (`applies` false) every answer is the real backend's.
///
/// The rootless backend runs as an unprivileged user inside a user namespace the session makes
/// for itself (user_namespaces(7)); the session's "host" is the anchor, a boxwalk-helper in that
/// user namespace that shares the machine's other namespaces. What belongs to the machine's own
/// namespaces stays out of reach: its cgroup tree and its network.
struct RootlessPolicy {
  /// Whether the session is rootless.
  let applies: Bool

  init(backend: Backend) { applies = backend == .rootless }

  // MARK: What runs here

  /// nil when `step` may run here; else the refusal, before any system call, with the one line
  /// that says why and names the real backend: the steps that need privileges on the machine
  /// itself.
  func refusal(_ step: Step) -> KernelError? {
    guard applies else { return nil }
    let (what, why): (String, String)
    switch step {
    case .cgroup(.cgroupNew), .cgroup(.cgroupSet):
      (what, why) = ("cgroups need", "the machine's cgroup tree is not delegated to this user")
    case .net(.netVeth), .net(.netBridge), .net(.netAttach), .net(.netOutside), .net(.netForward), .net(.netNAT),
      .net(.netPublish):
      (what, why) = (
        "the lab's host side needs", "host-side veths and bridges live outside the session's user namespace"
      )
    case .net(.netAddr(let link, _)) where link.side == .host:
      (what, why) = ("host:\(link.name) needs", "the lab's host side lives outside the session's user namespace")
    case .net(.netState(let link, _)) where link.side == .host:
      (what, why) = ("host:\(link.name) needs", "the lab's host side lives outside the session's user namespace")
    case .net(.ping(let from, _)) where from == .host:
      (what, why) = ("ping from the host side needs", "the lab's host side lives outside the session's user namespace")
    case .net(.ping(let from, _)) where from == .outside,
      .net(.connect(let from, _, _, _)) where from == .host || from == .outside,
      .net(.netListen(let from, _, _)) where from == .host || from == .outside:
      let place = from == .outside ? "outside" : "host side"
      (what, why) = ("the lab's \(place) needs", "the lab's \(place) lives outside the session's user namespace")
    default:
      return nil
    }
    var error = KernelError(step: step, call: step.firstCall, errno: .EPERM, detail: why + "; nothing was called")
    error.refusal = "\(what) root on this machine, not available in the rootless backend: use --backend real (as root)"
    return error
  }

  /// A mount's error, with the reason the rootless backend adds: proc and sysfs show
  /// machine-wide facts, so in a mount namespace that a user namespace owns the kernel mounts a
  /// new one only where a fully visible one is already mounted (its mount_too_revealing check).
  /// After pivot_root detached the old root there is none: EPERM.
  func mountError(_ error: KernelError, fstype: String) -> KernelError {
    guard applies else { return error }
    guard error.errno == .EPERM, fstype == "proc" || fstype == "sysfs" else { return error }
    var hinted = error
    hinted.detail =
      "rootless backend: the kernel mounts \(fstype) in a user namespace only while a fully visible "
      + "\(fstype) is mounted in the box (mount it before pivot-root), or use --backend real"
    return hinted
  }

  // MARK: Where the host is

  /// Whether the session's host is the anchor helper rather than this process: the anchor is in
  /// the session's user namespace (and the machine's others), so a new box shares every
  /// namespace with it, as a box shares this process's on the real backend.
  var hostIsAnchor: Bool { applies }

  /// Whether the host's namespaces and IDs may be read once and kept. The real backend's host is
  /// this process, whose namespaces and credentials never change (the REPL never unshares,
  /// setns or set*id; no one outside can). The anchor is made again after it dies, in a new
  /// user namespace, so its facts are read every time.
  var hostFactsAreFixed: Bool { !applies }

  /// Whether a new box joins the session's user namespace before anything else, so it is root
  /// there and every namespace it makes belongs to the session.
  var boxesJoinSessionUserNamespace: Bool { applies }

  /// Whether namespaces owned by the machine's user namespace (boxwalk's own) are shown owned by
  /// the session's: the anchor's uts, ipc, mnt, ... are the machine's, and they are the host's
  /// namespaces here, so they are shown as the real backend shows the host's, owned by the
  /// host's user namespace; namespaces a box makes are owned by the session's anyway.
  var machineOwnerShownAsSession: Bool { applies }

  // MARK: Where state lives

  /// The default state root: $XDG_RUNTIME_DIR/boxwalk or its fallbacks when rootless
  /// (LinuxKernel.rootlessStateRoot), else /run/boxwalk, which only root may write.
  var defaultStateRoot: String { applies ? LinuxKernel.rootlessStateRoot() : "/run/boxwalk" }

  /// The default image store home: the user's data directory when rootless
  /// (LinuxKernel.rootlessImageHome), else nil ($BOXWALK_HOME or /var/lib/boxwalk).
  var defaultImageHome: String? { applies ? LinuxKernel.rootlessImageHome() : nil }
}
