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
    // A path of the box as nsenter --mount names it: through the root filesystem's directory
    // while the box has not pivoted into it (prepared, or only chrooted), as runc's
    // `mount --rbind rootfs rootfs` does; as it is otherwise.
    func boxPath(_ box: String, _ path: String) -> String {
      switch root {
      case .prepared, .chrooted: "<\(box) rootfs>" + (path == "/" ? "" : ShellWord.quote(path))
      case .host, .pivoted: ShellWord.quote(path)
      }
    }
    switch step {
    case .boxNew:
      return "sleep infinity &    # any process can hold namespaces; boxwalk's is boxwalk-helper"
    case .boxRemove(let box):
      return "kill -KILL <\(box)>"
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
    case .run(let box, let argv, let background):
      return "nsenter --target <\(box)> --all " + argv.map(ShellWord.quote).joined(separator: " ")
        + (background ? " &" : "")
    case .kill(let box, let pid):
      return "kill -KILL <\(box):\(pid)>"
    case .mount(let box, let request):
      switch request {
      case .bind(let source, let target):
        return "nsenter --target <\(box)> --mount mount --rbind \(boxPath(box, source)) \(boxPath(box, target))"
      case .dev(let path):
        // What runc does for a container's /dev, as shell commands; the path is passed as $0 so
        // that no quoting nests.
        let nodes = ContainerDev.devices.map(\.name).joined(separator: " ")
        let links = ContainerDev.links.map { "ln -s \($0.target) \"$0/\($0.name)\"" }.joined(separator: " && ")
        let dirs = ContainerDev.directories.map { "mkdir \"$0/\($0)\"" }.joined(separator: " && ")
        return "nsenter --target <\(box)> --mount sh -c 'mount -t tmpfs -o nosuid,nodev,noexec,mode=0755 tmpfs \"$0\""
          + " && for n in \(nodes); do touch \"$0/$n\" && mount --bind \"/dev/$n\" \"$0/$n\"; done"
          + " && \(links) && \(dirs)' \(boxPath(box, path))"
      case .proc(let path):
        return
          "nsenter --target <\(box)> --mount --pid mount -t proc -o ro,nosuid,nodev,noexec proc \(boxPath(box, path))"
      case .sysfs:
        return
          "nsenter --target <\(box)> --mount mount -t sysfs -o ro,nosuid,nodev,noexec sysfs \(boxPath(box, request.target))"
      case .mqueue(let path):
        return
          "nsenter --target <\(box)> --mount --ipc mount -t mqueue -o nosuid,nodev,noexec mqueue \(boxPath(box, path))"
      default:
        return
          "nsenter --target <\(box)> --mount mount -t \(request.fstype) -o nosuid,nodev \(request.source) \(boxPath(box, request.target))"
      }
    case .umount(let box, let path):
      return "nsenter --target <\(box)> --mount umount \(boxPath(box, path))"
    case .propagation(let box, let mode):
      return "nsenter --target <\(box)> --mount mount --make-r\(mode.rawValue) /"
    case .pivotRoot:
      return "cd rootfs && mkdir .oldroot && pivot_root . .oldroot && cd / && umount -l /.oldroot && rmdir /.oldroot"
    case .chroot:
      return "chroot rootfs"
    case .map(let box, .uid, let range):
      return "echo '\(range)' > /proc/<\(box)>/uid_map    # newuidmap(1) does this for unprivileged users"
    case .map(let box, .gid, let range):
      // The same writes as the plan: setgroups is denied first (user_namespaces(7)).
      return "echo deny > /proc/<\(box)>/setgroups && echo '\(range)' > /proc/<\(box)>/gid_map"
        + "    # newgidmap(1) does this for unprivileged users"
    case .cgroupNew(let box):
      if cgroup == .v1 {
        // v1: one hierarchy per controller, each mounted under /sys/fs/cgroup/CONTROLLER (cpu is
        // often a link to cpu,cpuacct); the box needs a directory in each. Each process the box
        // starts then joins with `echo 0 > .../cgroup.procs`; the helper itself never does.
        return "for c in memory pids cpu; do mkdir /sys/fs/cgroup/$c/boxwalk/SESSION/\(box); done"
      }
      return "mkdir /sys/fs/cgroup/boxwalk/SESSION/\(box)"
    case .cgroupSet(let box, let setting):
      if cgroup == .v1 {
        return setting.files(.v1).map { file in
          let controller = file.file.prefix { $0 != "." }
          return
            "echo \(ShellWord.quote(file.value)) > /sys/fs/cgroup/\(controller)/boxwalk/SESSION/\(box)/\(file.file)"
        }.joined(separator: " && ")
      }
      return "echo \(ShellWord.quote(setting.v2Text)) > /sys/fs/cgroup/boxwalk/SESSION/\(box)/\(setting.key.rawValue)"
    case .stress(let box, let kind):
      switch kind {
      case .memory(let bytes): return "nsenter --target <\(box)> --all stress-ng --vm 1 --vm-bytes \(bytes) --vm-keep"
      case .fork(let count):
        return "nsenter --target <\(box)> --all sh -c 'for i in $(seq \(count)); do sleep 1000 & done'"
      case .cpu(let ms):
        return "nsenter --target <\(box)> --all timeout \(Double(ms) / 1000) sh -c 'while :; do :; done'"
      }
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
    case .netVeth(let box, let hostLink, let boxLink):
      return "ip link add \(hostLink) type veth peer name \(boxLink) netns <\(box)>"
    case .netBridge(let name):
      return "ip link add \(name) type bridge"
    case .netAttach(let link, let bridge):
      return "ip link set \(link) master \(bridge)"
    case .netAddr(let link, let cidr):
      return inNetwork(link.side, "ip addr add \(cidr) dev \(link.name)")
    case .netState(let link, let up):
      return inNetwork(link.side, "ip link set \(link.name) \(up ? "up" : "down")")
    case .netRoute(let box, let gateway):
      return inNetwork(.box(box), "ip route add default via \(gateway)")
    case .ping(let side, let address):
      return inNetwork(side, "ping -c 1 -W 1 \(address)")
    case .netOutside:
      let o = OutsideNet.self
      return "unshare --net sleep infinity & ip link add \(o.hostLink) type veth peer name \(o.outsideLink) netns $!"
        + " && nsenter --target $! --net sh -c 'ip addr add \(o.outsideAddress) dev \(o.outsideLink) && ip link set \(o.outsideLink) up'"
        + " && ip addr add \(o.hostAddress) dev \(o.hostLink) && ip link set \(o.hostLink) up"
    case .netForward(let on):
      return "sysctl -w net.ipv4.ip_forward=\(on ? 1 : 0)"
    case .netNAT(let bridge, let subnet):
      let t = NetRule.table
      let rule = NetRule.masquerade(subnet, leavingBy: bridge).text
      return "nft "
        + ShellWord.quote(
          "add table ip \(t); add chain ip \(t) postrouting { type nat hook postrouting priority srcnat; }; add rule ip \(t) postrouting \(rule)"
        )
    case .netPublish(let hostPort, let proto, _, let address, let port):
      let t = NetRule.table
      let rule = NetRule.publish(hostPort, proto, to: address, port: port).text
      return "nft "
        + ShellWord.quote(
          "add table ip \(t); add chain ip \(t) prerouting { type nat hook prerouting priority dstnat; }; add rule ip \(t) prerouting \(rule)"
        )
    case .netListen(let side, let port, let proto):
      // socat(1), from Debian's socat: busybox's nc has neither UDP nor the peer's address. With
      // fork, each connection (or datagram) gets its own `sh`, whose SOCAT_PEERADDR is the sender.
      let listen = proto == "udp" ? "UDP-RECVFROM:\(port),fork" : "TCP-LISTEN:\(port),fork,reuseaddr"
      return inNetwork(side, "socat \(listen) SYSTEM:'read l; echo \"$l from $SOCAT_PEERADDR\"' &")
    case .connect(let side, let address, let port, let proto):
      return "echo \(ConnectModel.greeting) | "
        + inNetwork(
          side,
          "socat -t 2 - " + (proto == "udp" ? "UDP:\(address):\(port)" : "TCP:\(address):\(port),connect-timeout=2"))
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
