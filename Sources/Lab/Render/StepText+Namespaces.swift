import Kernel

// Why the kernel does a namespace step (StepText.why) and the shell line that does the same
// (StepText.shell): the namespace area's own text.
extension StepText {
  /// `unshare`, `join`, `ipc new`, `mq new`, `clock`, `map`, `hostname` and `domainname`.
  static func whyNamespace(_ step: NamespaceStep) -> [String] {
    switch step {
    case .unshare(_, let kinds, let keepPropagation):
      return whyUnshare(kinds, keepPropagation: keepPropagation)
    case .join(_, let kind, let target):
      return [
        "setns(2) moves a process into an existing namespace, found as /proc/PID/ns/\(kind.procEntry)",
        "of a process inside it (here \(target)'s). nsenter(1) and `docker exec` work this way.",
      ]
    case .ipcNew:
      return [
        "System V message queues, shared memory and semaphores are found by key, in the IPC",
        "namespace of the process that asks (sysvipc(7)). A box with its own IPC namespace neither",
        "sees nor collides with the host's objects; they die with the namespace.",
      ]
    case .posixMQNew:
      return [
        "A POSIX message queue is found by a name such as /jobs, in the IPC namespace of the process",
        "that opens it (mq_overview(7)). The queues are the files of the namespace's mqueue file",
        "system: a container mounts its own at /dev/mqueue, and ls there lists its queues only.",
        "boxwalk reads the list through a mount it never attaches anywhere (fsopen(2), fsmount(2)).",
      ]
    case .clockOffset:
      return [
        "A time namespace adds offsets to CLOCK_MONOTONIC and CLOCK_BOOTTIME (time_namespaces(7)), so",
        "a container moved to another machine can keep its uptime. unshare(CLONE_NEWTIME) does not move",
        "the caller: its children enter the new namespace, and /proc/PID/timens_offsets sets the offsets",
        "until the first one does. Then they are frozen (EACCES). /proc/uptime shows the boot-time clock.",
      ]
    case .map(_, let kind, _):
      return whyIDMap(kind)
    case .setHostname, .setDomainname:
      return [
        "sethostname(2) and setdomainname(2) change the names stored in the UTS namespace the caller",
        "is in. Processes in that namespace see the new name; every other UTS namespace keeps its own.",
        "It needs CAP_SYS_ADMIN in the user namespace that owns the UTS namespace. See uts_namespaces(7).",
      ]
    }
  }

  /// unshare(2): what each new kind isolates, when pid and time take effect, and what boxwalk does
  /// to a new mount namespace's propagation.
  static func whyUnshare(_ kinds: [NamespaceKind], keepPropagation: Bool) -> [String] {
    var lines = [
      "unshare(2) gives the calling process new namespaces of these kinds, so it stops sharing",
      "them with the host. The new namespaces start as copies of the old ones.",
    ]
    for kind in kinds { lines.append("\(kind.rawValue): isolates \(kind.isolates).") }
    if kinds.contains(.pid) || kinds.contains(.time) {
      lines.append(
        "pid and time namespaces take effect for children only: the caller stays where it is, and"
      )
      lines.append("the next process it starts is the first in the new namespace (pid_namespaces(7)).")
    }
    if kinds.contains(.mnt) && keepPropagation {
      lines.append("--propagation unchanged: the copy keeps the old namespace's propagation, so each")
      lines.append("shared mount is a peer of the one it was copied from, and a mount or unmount under")
      lines.append("either now happens under both (mount_namespaces(7), shared subtrees).")
    } else if kinds.contains(.mnt) {
      lines.append("After CLONE_NEWNS boxwalk makes / private, so mounts in the box never propagate to")
      lines.append("the host (mount_namespaces(7), shared subtrees).")
    }
    if kinds.contains(.user) {
      lines.append("A new user namespace gives the box every capability inside it, none outside; the")
      lines.append("other namespaces it creates from now on are owned by it (user_namespaces(7)).")
    }
    return lines
  }

  /// A user namespace's uid_map or gid_map, written once from outside.
  static func whyIDMap(_ kind: IDKind) -> [String] {
    var lines = [
      "A user namespace maps IDs: inside 0..COUNT-1 become OUTSIDE.. on the host. The map is written",
      "once, from outside (by a process in the parent namespace), and never changes; until then the",
      "box sees itself, and every file, as 65534 (nobody).",
    ]
    if kind == .gid {
      lines.append("setgroups is denied first: the kernel requires it of unprivileged writers, so that a process")
      lines.append("cannot drop a group that kept it out of a file (CVE-2014-8989).")
    }
    lines.append("Root inside has every capability in the user namespace and the namespaces it owns, none on")
    lines.append("the host: that is what makes rootless containers safe (user_namespaces(7)).")
    return lines
  }

  /// The shell line of a namespace step (StepText.shell).
  static func namespaceShell(_ step: NamespaceStep) -> String {
    switch step {
    case .unshare(_, let kinds, let keepPropagation):
      var opts = kinds.map(\.utilLinuxOption)
      if kinds.contains(.pid) || kinds.contains(.time) { opts.append("--fork") }
      if keepPropagation { opts.append("--propagation unchanged") }
      return "unshare " + opts.joined(separator: " ")
    case .join(_, let kind, let target):
      return "nsenter --target <\(target)> \(kind.utilLinuxOption)"
    case .setHostname(let box, let name):
      return "nsenter --target <\(box)> --uts hostname \(ShellWord.quote(name))"
    case .setDomainname(let box, let name):
      return "nsenter --target <\(box)> --uts domainname \(ShellWord.quote(name))"
    case .map(let box, .uid, let range):
      return "echo '\(range)' > /proc/<\(box)>/uid_map    # newuidmap(1) does this for unprivileged users"
    case .map(let box, .gid, let range):
      // The same writes as the plan: setgroups is denied first (user_namespaces(7)).
      return "echo deny > /proc/<\(box)>/setgroups && echo '\(range)' > /proc/<\(box)>/gid_map"
        + "    # newgidmap(1) does this for unprivileged users"
    case .ipcNew(let box, let kind, let key):
      // util-linux ipcmk(1): -Q a queue, -M SIZE a segment, -S NSEMS a semaphore set; the sizes
      // are the plan's (shmget of 4096 bytes, semget of 1 semaphore).
      let flag = kind == .mq ? "-Q" : kind == .shm ? "-M 4096" : "-S 1"
      return
        "nsenter --target <\(box)> --ipc ipcmk \(flag)   # ipcmk picks its own key; \(IPCObjectFacts.keyText(key)) here"
    case .posixMQNew(let box, let name):
      // No standard tool makes a POSIX queue, but the mqueue file system does: creating a file
      // in it creates a queue (mq_overview(7)). A private mount namespace keeps the mount local.
      let file = "/dev/mqueue/" + name.drop { $0 == "/" }
      let script = "mount -t mqueue none /dev/mqueue && touch " + ShellWord.quote(String(file))
      return "nsenter --target <\(box)> --ipc unshare --mount sh -c " + ShellWord.quote(script)
    case .clockOffset(let box, let clock, let seconds):
      return
        "echo '\(clock.rawValue) \(seconds) 0' > /proc/<\(box)>/timens_offsets    # unshare --time --\(clock.rawValue) \(seconds) does this"
    }
  }

  /// How to get past an errno for a namespace step, when there is one way (StepText.errnoFix).
  static func namespaceErrnoFix(_ step: NamespaceStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.posixMQNew(_, let name), .EINVAL):
      return "ipc posix_mq new /" + name
    case (.clockOffset(let box, _, _), .EACCES):
      return "box rm \(box), then box new \(box), unshare time and clock offset before the first run"
    default:
      return nil
    }
  }

  /// What an errno means for a namespace step, when there is something specific to teach (StepText.errnoHint).
  static func namespaceErrnoHint(_ step: NamespaceStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
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
    case (.map, .EPERM):
      return
        "a map can be written only once, only for a user namespace of the box's own, and only with outside IDs its parent namespace maps"
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
    default:
      return nil
    }
  }
}
