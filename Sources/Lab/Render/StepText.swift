import Kernel

/// The teaching text around each step: the shell command a learner would type on a real Linux
/// machine for the same effect, and why the kernel behaves as it does. `<web>` stands for web's
/// host PID, which is volatile (`show web.host_pid` prints it).
enum StepText {
  /// The equivalent command with util-linux (unshare(1), nsenter(1)) and coreutils. Cgroup
  /// steps name the files of the host's cgroup interface, so the line works where it is shown.
  /// `root` is where the box's `/` was when the step ran: before pivot-root a mount or umount
  /// acts beneath the prepared root filesystem (the syscalls open `<web root>`), which nsenter(1)
  /// reaches at its place on the host, `<web rootfs>`.
  static func shell(_ step: Step, cgroup: CgroupVersion = .v2, root: RootFacts = .host) -> String {
    switch step {
    case .boxNew:
      return "sleep infinity &    # any process can hold namespaces; boxwalk's is boxwalk-helper"
    case .boxRemove(let box):
      return "kill -KILL <\(box)>"
    case .run(let box, let argv, let background):
      return "nsenter --target <\(box)> --all " + argv.map(ShellWord.quote).joined(separator: " ")
        + (background ? " &" : "")
    case .kill(let box, let pid):
      return "kill -KILL <\(box):\(pid)>"
    case .unshare, .join, .setHostname, .setDomainname, .map, .ipcNew, .posixMQNew, .clockOffset:
      return namespaceShell(step)
    case .mount, .umount, .propagation, .pivotRoot, .chroot:
      return mountShell(step, root: root)
    case .cgroupNew, .cgroupSet, .stress:
      return cgroupShell(step, cgroup: cgroup)
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .ping, .netOutside, .netNAT, .netPublish,
      .netListen, .connect, .netForward:
      return netShell(step)
    case .overlay, .writeFile, .removeFile, .commit, .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune,
      .imageRemove, .layerRemove:
      return layerShell(step)
    }
  }

  /// A command run in a side's network namespace: on the host side as it is (that side stands in
  /// for the host), in a box through nsenter(1).
  static func inNetwork(_ side: NetSide, _ command: String) -> String {
    switch side {
    case .host: return command
    case .box(let box): return "nsenter --target <\(box)> --net " + command
    case .outside: return "nsenter --target <\(OutsideNet.name)> --net " + command
    }
  }

  /// Why the kernel does this, with the man page to read next.
  static func why(_ step: Step) -> [String] {
    switch step {
    case .boxNew:
      return [
        "A container starts as an ordinary process. boxwalk forks boxwalk-helper, a small process",
        "that holds this box's namespaces (like containerd-shim or conmon). PR_SET_PDEATHSIG asks",
        "the kernel to kill it if boxwalk dies. Until you unshare, it sees what the host sees.",
        "See fork(2), prctl(2), execve(2).",
      ]
    case .boxRemove:
      return [
        "A namespace lives as long as a process (or an open file or bind mount) uses it. Killing",
        "the box's last process frees every namespace that only it used. See namespaces(7).",
      ]
    case .unshare, .join, .ipcNew, .posixMQNew, .clockOffset, .map, .setHostname, .setDomainname:
      return whyNamespace(step)
    case .run(_, _, let background):
      return [
        "The box's helper forks; the child execs the program in every namespace of the box. In a new",
        "pid namespace the first child is PID 1: its init. When PID 1 exits, the kernel kills every",
        "other process in the namespace, and fork(2) into it fails with ENOMEM (pid_namespaces(7)).",
        background
          ? "In the background it runs until killed or until the box is removed, like docker run -d."
          : "In the foreground boxwalk waits for it with wait4(2); Ctrl-C kills it.",
      ]
    case .kill:
      return [
        "kill(2) with SIGKILL, which a process cannot catch or ignore. From an ancestor pid namespace",
        "SIGKILL reaches even the namespace's PID 1, which ignores every signal it has no handler for.",
      ]
    case .mount, .umount, .propagation, .pivotRoot, .chroot:
      return whyMount(step)
    case .cgroupNew, .cgroupSet, .stress:
      return whyCgroup(step)
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .ping, .netOutside, .netNAT, .netPublish,
      .netListen, .connect, .netForward:
      return whyNet(step)
    case .overlay, .writeFile, .removeFile, .commit, .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune,
      .imageRemove, .layerRemove:
      return layerWhy(step)
    }
  }

  /// How to get past an errno for this step, when there is one way.
  static func errnoFix(_ step: Step, _ errno: Errno, detail: String? = nil) -> String? {
    switch (step, errno) {
    case (.pivotRoot, .EINVAL) where detail == Step.pivotRootShared:
      return "propagation private (or slave, as runc makes them), then pivot-root"
    case (.posixMQNew(_, let name), .EINVAL):
      return "ipc posix_mq new /" + name
    case (.clockOffset(let box, _, _), .EACCES):
      return "box rm \(box), then box new \(box), unshare time and clock offset before the first run"
    default:
      return nil
    }
  }

  /// What an errno means for this step, when there is something specific to teach.
  static func errnoHint(_ step: Step, _ errno: Errno, detail: String? = nil) -> String? {
    switch (step, errno) {
    case (.pivotRoot, .EINVAL) where detail == Step.pivotRootShared:
      return
        "pivot_root refuses when the current root or the new root's parent is a shared mount: moving the root would propagate to every peer of that mount (pivot_root(2))"
    case (.unshare(_, let kinds, _), .EINVAL) where kinds.contains(.pid):
      return
        "a process can make only one pid namespace for its children: unshare never moves the caller itself, and the kernel requires pid_for_children to still be the caller's own (box new gives a fresh box)"
    case (.setHostname, .EPERM), (.setDomainname, .EPERM):
      return
        "the box's UTS namespace belongs to a user namespace where the box has no CAP_SYS_ADMIN (it was created before `unshare user`); unshare uts again"
    case (.join(_, .user, _), .EINVAL):
      return "the box is already in that user namespace; a process cannot re-enter its own user namespace"
    case (.join, .EACCES):
      return
        "the box is in a user namespace of its own, so it has no capabilities on the host, and the kernel will not let it open another process's /proc/PID/ns files (ptrace access check, proc(5))"
    case (.join(_, .pid, _), .ENOENT):
      return "no process has entered that pid namespace yet, so the kernel cannot hand it out through pid_for_children"
    case (.run, .ENOMEM):
      return
        "the box's pid namespace is dead: its PID 1 exited, and the kernel lets no new process in (box new gives a fresh one)"
    case (.run, .EAGAIN):
      return
        "the box's cgroup is at pids.max: the pids controller refuses every fork past it (cgroup show counts the refusals)"
    case (.run, .ENOENT):
      return "execvp found no such program in the box's PATH (/bin:/usr/bin:/sbin:/usr/sbin)"
    case (.pivotRoot, .EINVAL):
      return
        "pivot_root needs the new root to be a mount point, and no shared mounts: mount bind / / makes the root filesystem a mount point"
    case (.mount(_, .sysfs), .EPERM):
      return
        "sysfs shows the network devices of the mounter's network namespace, so the kernel asks for CAP_SYS_ADMIN in the user namespace that owns that network namespace (sysfs(5)): a box in a user namespace of its own must unshare net first"
    case (.mount(_, .proc), .EPERM):
      return
        "proc shows the processes of the mounter's pid namespace, so the kernel asks for CAP_SYS_ADMIN in the user namespace that owns it, and in a user namespace also a fully visible proc already mounted (proc(5), user_namespaces(7))"
    case (.mount, .ENOENT):
      return "the mount point (or bind source) does not exist in the box's root filesystem"
    case (.mount, .ELOOP), (.umount, .ELOOP):
      return
        "mount and umount follow no symbolic link (RESOLVE_NO_SYMLINKS): resolved from the host's root, a link in the image could point at the host's files"
    case (.mount, .ENOTDIR):
      return "boxwalk mounts only on directories, and binds only directories"
    case (.map, .EPERM):
      return
        "a map can be written only once, only for a user namespace of the box's own, and only with outside IDs its parent namespace maps"
    case (.writeFile, .ELOOP), (.removeFile, .ELOOP):
      return "file commands follow no symbolic link (RESOLVE_NO_SYMLINKS): a link in a layer could point anywhere"
    case (.writeFile, .EISDIR):
      return "that path is a directory"
    case (.imagePush, .ECONNREFUSED), (.imagePull, .ECONNREFUSED):
      return "no registry listens there; start one (Debian's docker-registry) or use a directory registry, oci:NAME/..."
    case (.ipcNew, .EEXIST):
      return "an object with that key already exists in this IPC namespace (IPC_EXCL)"
    case (.posixMQNew, .EEXIST):
      return "a queue with that name already exists in this IPC namespace (O_EXCL)"
    case (.posixMQNew, .EINVAL):
      return
        "a POSIX queue name starts with a slash: glibc's mq_open refuses anything else before the kernel sees it (mq_overview(7))"
    case (.posixMQNew, .EACCES):
      return
        "after its leading slash a queue name is one file name of the mqueue file system: no second slash, not . or .."
    case (.posixMQNew, .ENOENT):
      return "\"/\" alone names the mqueue file system's root directory, not a queue"
    case (.posixMQNew, .ENAMETOOLONG):
      return "a queue name is at most NAME_MAX (255) bytes after its slash"
    case (.posixMQNew, .EMFILE):
      return "the queues this user owns would pass RLIMIT_MSGQUEUE, the bytes their messages may take (getrlimit(2))"
    case (.clockOffset, .EACCES):
      return
        "a process has already entered the box's time namespace, and the kernel froze its offsets then (time_namespaces(7))"
    case (.join, .EPERM):
      return
        "setns needs CAP_SYS_ADMIN in the user namespace that owns the target; the box has capabilities only in its own user namespace and below"
    case (.join(_, .pid, _), .EINVAL):
      return "a process may only move its children into its own pid namespace or one below it"
    case (.netRoute, .EEXIST):
      return "the box already has a default route; boxwalk keeps one (ip route replace would swap it)"
    case (.netRoute, .ENETUNREACH):
      return
        "the gateway is not on any subnet the box has a route for: an address on its subnet, and the link up, come first"
    case (.netVeth, .EEXIST), (.netBridge, .EEXIST):
      return "a link with that name already exists in that network namespace"
    case (.netAddr, .EEXIST):
      return "the link already has that address"
    case (.netAttach, .EOPNOTSUPP):
      return "only a bridge takes ports"
    case (_, .ENODEV):
      return "no link with that name exists in that network namespace"
    case (.ping, .EPERM):
      return
        "a raw socket needs CAP_NET_RAW in the user namespace that owns the box's network namespace; it was made before `unshare user`, so the box has none there (unshare net again)"
    case (.netAddr, .EPERM), (.netState, .EPERM), (.netRoute, .EPERM):
      return
        "the box's network namespace belongs to a user namespace where the box has no CAP_NET_ADMIN (it was made before `unshare user`); unshare net again"
    default:
      return nil
    }
  }
}
