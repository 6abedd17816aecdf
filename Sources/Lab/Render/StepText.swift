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
      case .prepared, .chrooted: "<\(box) rootfs>" + (path == "/" ? "" : shellQuote(path))
      case .host, .pivoted: shellQuote(path)
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
      return "nsenter --target <\(box)> --uts hostname \(shellQuote(name))"
    case .setDomainname(let box, let name):
      return "nsenter --target <\(box)> --uts domainname \(shellQuote(name))"
    case .run(let box, let argv, let background):
      return "nsenter --target <\(box)> --all " + argv.map(shellQuote).joined(separator: " ") + (background ? " &" : "")
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
          return "echo \(shellQuote(file.value)) > /sys/fs/cgroup/\(controller)/boxwalk/SESSION/\(box)/\(file.file)"
        }.joined(separator: " && ")
      }
      return "echo \(shellQuote(setting.v2Text)) > /sys/fs/cgroup/boxwalk/SESSION/\(box)/\(setting.key.rawValue)"
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
      let script = "mount -t mqueue none /dev/mqueue && touch " + shellQuote(String(file))
      return "nsenter --target <\(box)> --ipc unshare --mount sh -c " + shellQuote(script)
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
        + shellQuote(
          "add table ip \(t); add chain ip \(t) postrouting { type nat hook postrouting priority srcnat; }; add rule ip \(t) postrouting \(rule)"
        )
    case .netPublish(let hostPort, let proto, _, let address, let port):
      let t = NetRule.table
      let rule = NetRule.publish(hostPort, proto, to: address, port: port).text
      return "nft "
        + shellQuote(
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
    case .unshare(_, let kinds, let keepPropagation):
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
    case .join(_, let kind, let target):
      return [
        "setns(2) moves a process into an existing namespace, found as /proc/PID/ns/\(kind.procEntry)",
        "of a process inside it (here \(target)'s). nsenter(1) and `docker exec` work this way.",
      ]
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
    case .mount(_, let request):
      var lines = [
        "A mount attaches a file system at a path in the box's mount namespace only; the host's table",
        "is a different namespace and does not change (mount_namespaces(7)). boxwalk first opens the",
        "path beneath the box's root with openat2(2), following no symbolic link, then makes the mount",
        "as a file descriptor (fsmount(2), or open_tree(2) for a bind) and attaches it to the opened",
        "directory with move_mount(2): a link in the image can never lead the mount to the host's files.",
      ]
      if case .proc = request {
        lines.append("A proc file system shows the processes of one pid namespace. boxwalk-helper is not in the")
        lines.append("box's pid namespace (only its children are), so it names it with the pidns= mount option;")
        lines.append("unshare --pid --fork --mount-proc gets the same by mounting from inside (proc(5)).")
      }
      if case .dev = request {
        lines = [
          "A container needs a /dev of its own: programs open /dev/null (a shell, for a job it starts",
          "in the background), /dev/zero, /dev/urandom. It must not be the host's /dev, a devtmpfs",
          "with every disk and terminal of the machine, which a box that is root could open. So, as",
          "runc does, boxwalk mounts a fresh tmpfs (mode 0755, nodev: a node the box makes there with",
          "mknod(2) opens nothing) and binds six of the host's nodes onto empty files in it, one by one:",
          "open_tree(2) copies the helper's handle of each node, taken when the box got its mount",
          "namespace, and move_mount(2) attaches the copy. Binding, not mknod(2), because in a user",
          "namespace the kernel refuses to make device nodes, so this works rootless too. The links",
          "fd, stdin, stdout and stderr lead to /proc/self/fd (proc(5)), which needs a proc mounted.",
          "Everything is done on file descriptors beneath the box's root: no path is looked up twice.",
        ]
      }
      if case .bind = request {
        lines.append("A bind mount makes a directory appear at a second place; binding a directory onto itself")
        lines.append("makes it a mount point, which pivot_root(2) requires of the new root.")
      }
      return lines
    case .umount:
      return [
        "umount2(2) detaches the mount from the box's namespace; what was beneath it shows again.",
        "It takes a path, so boxwalk opens the parent beneath the box's root, changes into it, and",
        "unmounts the last name with UMOUNT_NOFOLLOW: no link is followed on the way.",
      ]
    case .propagation:
      return [
        "Propagation decides whether mounts and unmounts under a mount are passed to its peers",
        "(shared), only received from a master (slave), or neither (private). boxwalk makes the box's",
        "copy private right after unshare mnt, so nothing the box mounts reaches the host",
        "(mount_namespaces(7), \"Shared subtrees\").",
      ]
    case .pivotRoot:
      return [
        "pivot_root(2) makes new_root the root of the mount namespace and moves the old root to",
        "put_old; detaching put_old then removes every host mount from the box's view. The new root",
        "must be a mount point (an overlay is one; a plain directory gets EINVAL until it is",
        "bind-mounted onto itself), and neither root may be shared. runc does this for every",
        "container (libcontainer/rootfs_linux.go).",
      ]
    case .chroot:
      return [
        "chroot(2) changes only the process's root directory: the mount namespace still holds every",
        "host mount, and a root process can leave it (chroot into a subdirectory, then chdir(\"..\")",
        "repeatedly: the classic chroot escape). Containers use pivot_root for that reason.",
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
    case .cgroupNew:
      return [
        "A cgroup groups processes so the kernel can limit and count what they use together. boxwalk",
        "makes one under boxwalk/ (on v1: one per controller hierarchy). The box's helper keeps its",
        "cgroup.procs open but stays out; each process it starts writes \"0\" (itself) there first, so",
        "every process of the box is counted, and a limit never kills the helper that holds the box",
        "(cgroups(7); Docker's containerd-shim stays out of its container's cgroup the same way).",
      ]
    case .cgroupSet:
      return [
        "Limits are plain files: memory.max (bytes; the OOM killer acts past it), pids.max (processes;",
        "fork fails with EAGAIN past it), cpu.max (QUOTA PERIOD microseconds: run at most QUOTA per",
        "PERIOD). cgroup v1 names them memory.limit_in_bytes, pids.max and cpu.cfs_quota_us/_period_us.",
      ]
    case .stress:
      return [
        "A stress program runs as a box process, in the box's cgroup, so the limits apply to it: the",
        "kernel refuses, kills or throttles it, and the counters in cgroup show say so.",
      ]
    case .netVeth:
      return [
        "A veth pair is a virtual cable: what goes into one end comes out of the other (veth(4)). One",
        "RTM_NEWLINK message makes both ends, and IFLA_NET_NS_PID puts the peer straight into the box's",
        "network namespace, so no half-made pair is ever left behind. Docker wires every container to",
        "docker0 this way. Both ends start down. When the box's namespace dies, the kernel deletes the",
        "pair, host end included: boxwalk never deletes veths one by one (rtnetlink(7), ip-link(8)).",
      ]
    case .netBridge:
      return [
        "A bridge is a virtual switch: it passes Ethernet frames between the links attached to it (its",
        "ports) and learns which address is behind which port; docker0 is one. It is also a link of its",
        "own, which can have an address: the host side's address on the bridge's subnet (ip-link(8)).",
      ]
    case .netAttach:
      return [
        "IFLA_MASTER makes the link a port of the bridge: frames that arrive on it go to the bridge,",
        "which passes them on to its other ports or up to the host side's own stack. The port itself",
        "no longer takes part in IP: its namespace sees the traffic as the bridge's (ip-link(8), master).",
      ]
    case .netAddr:
      return [
        "An address with a prefix length says two things: the address, and the subnet reachable directly",
        "on that link. While the link is up the kernel keeps a route for that subnet (proto kernel), which",
        "is how it knows where 10.0.0.0/24 is. The address itself is local to the whole namespace, on",
        "any of its links (ip-address(8), the \"weak host\" model).",
      ]
    case .netState(_, let up):
      return up
        ? [
          "IFF_UP switches the link on (netdevice(7)); the kernel then adds the routes for its subnets. A",
          "veth passes frames only while both ends are up. lo gets 127.0.0.1/8 the first time it comes up.",
        ]
        : [
          "Clearing IFF_UP switches the link off, and the kernel removes every route through it, the",
          "default route too: when the link comes back up, only the routes for its subnets return.",
        ]
    case .netRoute:
      return [
        "The default route says where to send what no other route covers: to a gateway, a neighbour on",
        "one of the box's subnets that passes packets on (ip-route(8)). The kernel checks the gateway",
        "is reachable on a link right away (ENETUNREACH otherwise). Docker gives each container one, to",
        "the bridge's address.",
      ]
    case .ping:
      return [
        "ping sends an ICMP echo request over a raw socket (icmp(7), raw(7)) and waits for the echo",
        "reply. On the way the kernel picks a route, asks on that link who has the next hop (ARP), and",
        "the reply must find its way back the same way. boxwalk checks the kernel's answer against its",
        "own model of the network, which is how it can say why a packet did not arrive.",
      ]
    case .netOutside:
      return [
        "A Docker host reaches the internet through a link of its own; the lab's stand-in is one more",
        "network namespace joined to the host side by a veth. Its addresses are from 203.0.113.0/24,",
        "reserved for examples (RFC 5737). Like the internet, the outside knows no route to the lab's",
        "private subnets: a reply to a box's private address has nowhere to go.",
      ]
    case .netNAT:
      return [
        "Masquerade is source NAT: a packet from the bridge's subnet that leaves the host side by any",
        "other link gets that link's address as its source, and the kernel's connection tracking",
        "turns the reply's destination back into the box's address (nft(8), conntrack(8)). Docker adds",
        "the same rule for docker0. Without forwarding the packet never gets that far.",
      ]
    case .netPublish:
      return [
        "Publishing a port is destination NAT: a connection to that port of any of the host side's own",
        "addresses gets the box's address and port as its destination in prerouting, before the routing",
        "decision, so the host side forwards it to the box instead of taking it (nft(8), `dnat to`).",
        "Connection tracking turns the answer's source back. `docker run -p 8080:80` adds the same rule.",
      ]
    case .netListen(_, _, let proto) where proto == "udp":
      return [
        "UDP has no connections: a socket bound to a port receives every datagram sent to it (udp(7)),",
        "and the helper sends each one back with the address it came from (recvfrom(2), sendto(2)).",
        "With nothing bound there the kernel answers with ICMP port unreachable (icmp(7)).",
      ]
    case .netListen:
      return [
        "A socket in LISTEN state is what a connection needs at the other end (listen(2)): the kernel",
        "answers a SYN for its port with SYN-ACK and queues the finished connection for accept(2). With",
        "nothing listening it answers with a reset, and connect(2) fails with ECONNREFUSED (tcp(7)).",
        "The helper accepts each connection and answers its first line with the address it came from.",
      ]
    case .connect(_, _, _, let proto) where proto == "udp":
      return [
        "connect(2) on a UDP socket sends nothing: it fixes the peer. The datagram takes the route a",
        "ping would, through forwarding and NAT; an ICMP port unreachable coming back is reported as",
        "ECONNREFUSED on that connected socket (udp(7)); silence means the datagram or its answer was lost.",
      ]
    case .connect:
      return [
        "connect(2) sends a SYN and waits for SYN-ACK (the three-way handshake, tcp(7)). The SYN takes",
        "the route a ping would, through forwarding and NAT; a reset means it arrived and nothing listens;",
        "silence means it or its answer was dropped on the way.",
      ]
    case .netForward:
      return [
        "net.ipv4.ip_forward decides whether a namespace passes on packets addressed to someone else",
        "(proc_sys_net_ipv4(5)). Every network namespace has its own copy, and /proc/sys/net shows the",
        "copy of the namespace of the process that opens it: boxwalk's host side writes its own, and",
        "the machine's stays as it was. Docker sets it to 1 on the real host.",
      ]
    case .overlay, .writeFile, .removeFile, .commit, .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune,
      .imageRemove, .layerRemove:
      return layerWhy(step)
    case .setHostname, .setDomainname:
      return [
        "sethostname(2) and setdomainname(2) change the names stored in the UTS namespace the caller",
        "is in. Processes in that namespace see the new name; every other UTS namespace keeps its own.",
        "It needs CAP_SYS_ADMIN in the user namespace that owns the UTS namespace. See uts_namespaces(7).",
      ]
    }
  }

  /// Quotes a word for a POSIX shell when it needs it, scalar by scalar (a quote followed by a
  /// combining mark is still a quote). A word with control characters uses bash's $'...' quoting
  /// with \xNN escapes, so the printed line can be pasted and never drives the terminal.
  static func shellQuote(_ s: String) -> String {
    let safe =
      !s.isEmpty
      && s.unicodeScalars.allSatisfy {
        ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
          || "-_.,:/=@+".unicodeScalars.contains($0)
      }
    if safe { return s }
    let isControl = TerminalText.isControl
    if s.unicodeScalars.contains(where: isControl) {
      var out = "$'"
      for c in s.unicodeScalars {
        if isControl(c) {
          for byte in String(c).utf8 { out += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16) }
        } else if c == "'" || c == "\\" {
          out += "\\" + String(c)
        } else {
          out.unicodeScalars.append(c)
        }
      }
      return out + "'"
    }
    var out = "'"
    for c in s.unicodeScalars {
      if c == "'" { out += "'\\''" } else { out.unicodeScalars.append(c) }
    }
    return out + "'"
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
