/// The system calls each step makes, in order: the step's plan. Both kernels make exactly these
/// calls and name a failing one by its entry here (`KernelError.failed`), and the renderer prints
/// each entry's text (SystemCall.swift), so this plan is part of every transcript.
extension Step {
  public var plan: [SystemCall] {
    switch self {
    case .boxNew:
      // fork(2) the helper, ask the kernel to kill it if boxwalk dies (prctl(2)), then run it.
      return [.fork, .prctlDeathSignal, .execve(program: "boxwalk-helper")]
    case .boxRemove(let box):
      return [.kill(box: box, pid: nil), .waitpid(box: box)]
    case .run(_, let argv, let background):
      // execvp(3) searches PATH like a shell; the directory it finds differs between hosts.
      return background ? [.fork, .execvp(argv: argv)] : [.fork, .execvp(argv: argv), .wait4Child]
    case .kill(let box, let pid):
      return [.kill(box: box, pid: pid)]
    case .unshare, .join, .setHostname, .setDomainname, .map, .ipcNew, .posixMQNew, .clockOffset:
      return namespacePlan
    case .mount, .umount, .propagation, .pivotRoot, .chroot:
      return mountPlan
    case .cgroupNew, .cgroupSet, .stress:
      return cgroupPlan
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .ping, .netOutside, .netNAT, .netPublish,
      .netListen, .connect, .netForward:
      return netPlan
    case .overlay, .writeFile, .removeFile, .commit, .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune,
      .imageRemove, .layerRemove:
      return layerPlan
    }
  }

  /// The plan as the learner reads it: one line per entry, the way strace(1) prints the call.
  public var calls: [String] { plan.map(\.description) }

  /// The directory pivot-root makes in the new root to put the old root under, then removes.
  public static let oldRootName = ".oldroot"
  /// Why pivot-root refuses a root that already has that name (boxwalk-helper says the same):
  /// mkdir(2) must make a new, empty directory. An image's own `.oldroot` (a link, a file, a
  /// directory with files) would make pivot_root(2) follow the link, or leave the old root's
  /// directory behind after the root had already changed: the step would fail half done.
  public static let oldRootTaken =
    "the new root already has /.oldroot, where pivot-root puts the old root; rm /.oldroot in the box first"
  /// pivot_root(2)'s second EINVAL, after the new root is a mount point: the current root (or
  /// new_root's parent) is a shared mount, and the move would propagate to its peers. Both
  /// kernels give this detail for it, so the refusal can say which rule it broke.
  public static let pivotRootShared = "the new root is a mount point, but the box's / is a shared mount"

  /// After unshare(CLONE_NEWNS) the new mount namespace is a copy of the old one, and on systemd
  /// hosts "/" is a shared mount: without this, mounts made in the box would propagate back to the
  /// host (mount_namespaces(7), "Shared subtrees"). runc and systemd do the same first.
  public static let makeRootPrivate = SystemCall.setPropagation(.private)
}
