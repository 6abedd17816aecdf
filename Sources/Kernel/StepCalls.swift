/// The system calls each step makes, written the way strace(1) prints them, with flags by name.
/// Both kernels make exactly these calls and name them the same way in errors (`KernelError.call`),
/// and the renderer prints them, so this text is part of every transcript. Host PIDs never appear
/// (they are volatile, SPEC §5): a box's process is written `<web>`.
extension Step {
  public var calls: [String] {
    switch self {
    case .boxNew:
      // fork(2) the helper, ask the kernel to kill it if boxwalk dies (prctl(2)), then run it.
      return ["fork()", "prctl(PR_SET_PDEATHSIG, SIGKILL)", "execve(\"boxwalk-helper\")"]
    case .boxRemove(let box):
      return ["kill(<\(box)>, SIGKILL)", "waitpid(<\(box)>)"]
    case .unshare(_, let kinds):
      var calls = ["unshare(\(cloneFlagsDescription(kinds)))"]
      if kinds.contains(.mnt) { calls.append(Self.makeRootPrivateCall) }
      return calls
    case .join(_, let kind, let target):
      return ["setns(open(\"/proc/<\(target)>/ns/\(kind.procEntry)\"), \(kind.cloneFlagName))"]
    case .setHostname(_, let name):
      return ["sethostname(\(JSON.quote(name)), \(name.utf8.count))"]
    case .setDomainname(_, let name):
      return ["setdomainname(\(JSON.quote(name)), \(name.utf8.count))"]
    }
  }

  /// After unshare(CLONE_NEWNS) the new mount namespace is a copy of the old one, and on systemd
  /// hosts "/" is a shared mount: without this, mounts made in the box would propagate back to the
  /// host (mount_namespaces(7), "Shared subtrees"). runc and systemd do the same first.
  public static let makeRootPrivateCall = "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)"
}
