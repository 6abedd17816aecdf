/// The system calls each step makes, written the way strace(1) prints them, with flags by name.
/// Both kernels make exactly these calls and name them the same way in errors (`KernelError.call`),
/// and the renderer prints them, so this text is part of every transcript. Host PIDs never appear
/// (they are volatile; docs/transcripts.md): a box's process is written `<web>`.
extension Step {
  public var calls: [String] {
    switch self {
    case .boxNew:
      // fork(2) the helper, ask the kernel to kill it if boxwalk dies (prctl(2)), then run it.
      return ["fork()", "prctl(PR_SET_PDEATHSIG, SIGKILL)", "execve(\"boxwalk-helper\")"]
    case .boxRemove(let box):
      return ["kill(<\(box)>, SIGKILL)", "waitpid(<\(box)>)"]
    case .unshare(_, let kinds, let keepPropagation):
      var calls = ["unshare(\(cloneFlagsDescription(kinds)))"]
      if kinds.contains(.mnt) && !keepPropagation { calls.append(Self.makeRootPrivateCall) }
      return calls
    case .join(_, let kind, let target):
      return ["setns(open(\"/proc/<\(target)>/ns/\(kind.procEntry)\"), \(kind.cloneFlagName))"]
    case .setHostname(_, let name):
      return ["sethostname(\(JSON.quote(name)), \(name.utf8.count))"]
    case .setDomainname(_, let name):
      return ["setdomainname(\(JSON.quote(name)), \(name.utf8.count))"]
    case .run(_, let argv, let background):
      // execvp(3) searches PATH like a shell; the directory it finds differs between hosts.
      let exec = "execvp(\(JSON.quote(argv.first ?? "")), [\(argv.map(JSON.quote).joined(separator: ", "))])"
      return background ? ["fork()", exec] : ["fork()", exec, "wait4(<child>)"]
    case .kill(let box, let pid):
      return ["kill(<\(box):\(pid)>, SIGKILL)"]
    case .mount(let box, let request):
      // The target (and a bind's source) is opened beneath the box's root first, following no
      // symbolic link, and the new mount is attached to that descriptor: a link in the image can
      // never lead the mount outside the box (see docs/security.md, "Mounts inside a box").
      let target = Self.openCall(box, request.target, "O_PATH|O_DIRECTORY")
      let attach =
        "move_mount(<new mount>, \"\", <\(JSON.quote(request.target))>, \"\", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)"
      switch request {
      case .proc:
        // A proc shows the pid namespace of whoever mounts it, and boxwalk-helper is not in the
        // box's (only its children are): so the new mount API names the namespace explicitly.
        return [
          target, "fsopen(\"proc\", FSOPEN_CLOEXEC)",
          "fsconfig(FSCONFIG_SET_FD, \"pidns\", <\(box) pid_for_children>)", "fsconfig(FSCONFIG_CMD_CREATE)",
          "fsmount(\(request.attributes))", attach,
        ]
      case .bind(let source, _):
        // open_tree(2) with OPEN_TREE_CLONE is a bind mount not yet attached anywhere.
        return [
          target, Self.openCall(box, source, "O_PATH|O_DIRECTORY"),
          "open_tree(<\(JSON.quote(source))>, \"\", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH)", attach,
        ]
      case .dev(let path):
        return [target] + Self.devCalls(path, attach: attach, fsmount: "fsmount(\(request.attributes))")
      case .device(let name, let path):
        return [Self.deviceCopyCall(name), Self.deviceAttachCall(name, path)]
      default:
        return [
          target, "fsopen(\(JSON.quote(request.fstype)), FSOPEN_CLOEXEC)", "fsconfig(FSCONFIG_CMD_CREATE)",
          "fsmount(\(request.attributes))", attach,
        ]
      }
    case .umount(let box, let path):
      // umount2(2) takes a path: the parent is opened beneath the box's root, made the working
      // directory, and the last name unmounted from there without following a link.
      guard path != "/" else { return ["umount2(\"<\(box) root>\", UMOUNT_NOFOLLOW)"] }
      return [
        Self.openCall(box, Overlay.parent(of: path), "O_PATH|O_DIRECTORY"), "fchdir(<parent>)",
        "umount2(\(JSON.quote(Overlay.baseName(path))), UMOUNT_NOFOLLOW)",
      ]
    case .propagation(_, let mode):
      return ["mount(NULL, \"/\", NULL, MS_REC|\(mode.flag), NULL)"]
    case .pivotRoot(let box):
      return [
        "mkdir(\"<\(box) rootfs>/.oldroot\", 0700)", "pivot_root(\"<\(box) rootfs>\", \"<\(box) rootfs>/.oldroot\")",
        "chdir(\"/\")", "umount2(\"/.oldroot\", MNT_DETACH)", "rmdir(\"/.oldroot\")",
      ]
    case .chroot(let box):
      return ["chroot(\"<\(box) rootfs>\")", "chdir(\"/\")"]
    case .map(let box, let kind, let range):
      let write = "write(\"/proc/<\(box)>/\(kind.rawValue)_map\", \"\(range)\")"
      switch kind {
      case .uid:
        return [write] + (range.inside == 0 ? ["setresuid(0, 0, 0) in \(box)"] : [])
      case .gid:
        // An unprivileged writer must deny setgroups(2) before gid_map, or a process could drop
        // a group that was keeping it out of a file (CVE-2014-8989); boxwalk does it always.
        return ["write(\"/proc/<\(box)>/setgroups\", \"deny\")", write]
          + (range.inside == 0 ? ["setresgid(0, 0, 0) in \(box)"] : [])
      }
    case .cgroupNew(let box):
      // On cgroup v1 the same happens once per controller hierarchy (memory, pids, cpu, ...). The
      // helper keeps the file open and stays out; each process it starts writes "0" (itself) there.
      return [
        "mkdir(\"<\(box) cgroup>\", 0755)", "open(\"<\(box) cgroup>/cgroup.procs\", O_WRONLY|O_CLOEXEC) in <\(box)>",
      ]
    case .cgroupSet(let box, let setting):
      return ["write(\"<\(box) cgroup>/\(setting.key.rawValue)\", \"\(setting.v2Text)\")"]
    case .stress(let box, let kind):
      // The child moves itself into the box's cgroup before it does anything else.
      let enter = "write(\"<\(box) cgroup>/cgroup.procs\", \"0\")"
      switch kind {
      case .memory(let bytes): return ["fork()", enter, "mmap(\(bytes)) and write one byte per page"]
      case .fork(let count): return ["fork()", enter, "fork() \(count) times"]
      case .cpu(let ms): return ["fork()", enter, "spin for \(ms) ms"]
      }
    case .ipcNew(_, let kind, let key):
      let k = IPCObjectFacts.keyText(key)
      switch kind {
      case .mq: return ["msgget(\(k), IPC_CREAT|IPC_EXCL|0600)"]
      case .shm: return ["shmget(\(k), 4096, IPC_CREAT|IPC_EXCL|0600)"]
      case .sem: return ["semget(\(k), 1, IPC_CREAT|IPC_EXCL|0600)"]
      }
    case .posixMQNew(_, let name):
      // A small queue: each one is charged against the owner's RLIMIT_MSGQUEUE (819200 bytes by
      // default), and the kernel's default size (10 messages of 8192 bytes) would allow only nine.
      return ["mq_open(\(JSON.quote(name)), O_RDWR|O_CREAT|O_EXCL, 0600, {mq_maxmsg=10, mq_msgsize=1024})"]
    case .clockOffset(let box, let clock, let seconds):
      return ["write(\"/proc/<\(box)>/timens_offsets\", \"\(clock.rawValue) \(seconds) 0\")"]
    case .netVeth(let box, let hostLink, let boxLink):
      return [
        Self.netlink(
          "RTM_NEWLINK", create: true,
          "IFLA_IFNAME=\(JSON.quote(hostLink)), IFLA_INFO_KIND=\"veth\", VETH_INFO_PEER={IFLA_IFNAME=\(JSON.quote(boxLink)), IFLA_NET_NS_PID=<\(box)>}"
        )
      ]
    case .netBridge(let name):
      return [Self.netlink("RTM_NEWLINK", create: true, "IFLA_IFNAME=\(JSON.quote(name)), IFLA_INFO_KIND=\"bridge\"")]
    case .netAttach(let link, let bridge):
      return [
        Self.netlink("RTM_NEWLINK", create: false, "IFLA_IFNAME=\(JSON.quote(link)), IFLA_MASTER=\(Self.index(bridge))")
      ]
    case .netState(let link, let up):
      return [
        Self.netlink(
          "RTM_NEWLINK", create: false,
          "ifi_flags=\(up ? "IFF_UP" : "0"), ifi_change=IFF_UP, IFLA_IFNAME=\(JSON.quote(link.name))")
      ]
    case .netAddr(let link, let cidr):
      return [
        Self.netlink(
          "RTM_NEWADDR", create: true,
          "ifa_prefixlen=\(cidr.prefixLength), ifa_index=\(Self.index(link.name)), IFA_LOCAL=\(cidr.address), IFA_ADDRESS=\(cidr.address)"
        )
      ]
    case .netRoute(_, let gateway):
      return [
        Self.netlink("RTM_NEWROUTE", create: true, "rtm_dst_len=0, rtm_table=RT_TABLE_MAIN, RTA_GATEWAY=\(gateway)")
      ]
    case .ping(_, let address):
      return [
        "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)", "sendto(ICMP_ECHO, inet_addr(\"\(address)\"))",
        "recvfrom(ICMP_ECHOREPLY)",
      ]
    case .netOutside:
      let o = OutsideNet.self
      return [
        "fork()", "execve(\"boxwalk-helper\")", "unshare(CLONE_NEWNET)",
        Self.netlink(
          "RTM_NEWLINK", create: true,
          "IFLA_IFNAME=\(JSON.quote(o.hostLink)), IFLA_INFO_KIND=\"veth\", VETH_INFO_PEER={IFLA_IFNAME=\(JSON.quote(o.outsideLink)), IFLA_NET_NS_PID=<\(o.name)>}"
        ),
        Self.netlink(
          "RTM_NEWADDR", create: true,
          "ifa_prefixlen=\(o.outsideAddress.prefixLength), ifa_index=\(Self.index(o.outsideLink)), IFA_LOCAL=\(o.outsideAddress.address), IFA_ADDRESS=\(o.outsideAddress.address)"
        ),
        Self.netlink(
          "RTM_NEWLINK", create: false, "ifi_flags=IFF_UP, ifi_change=IFF_UP, IFLA_IFNAME=\(JSON.quote(o.outsideLink))"),
        Self.netlink(
          "RTM_NEWADDR", create: true,
          "ifa_prefixlen=\(o.hostAddress.prefixLength), ifa_index=\(Self.index(o.hostLink)), IFA_LOCAL=\(o.hostAddress.address), IFA_ADDRESS=\(o.hostAddress.address)"
        ),
        Self.netlink(
          "RTM_NEWLINK", create: false, "ifi_flags=IFF_UP, ifi_change=IFF_UP, IFLA_IFNAME=\(JSON.quote(o.hostLink))"),
      ]
    case .netForward(let on):
      return ["write(\"/proc/sys/net/ipv4/ip_forward\", \"\(on ? 1 : 0)\")"]
    case .netNAT(let bridge, let subnet):
      // nft(8) sends one batch: the table and chain if they are not there yet, and the rule; the
      // kernel applies all of it or none.
      let rule = NetRule.masquerade(subnet, leavingBy: bridge)
      return [
        "sendmsg(NETLINK_NETFILTER, NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWTABLE {\"\(NetRule.table)\"}, NFT_MSG_NEWCHAIN {\"postrouting\", type nat hook postrouting priority srcnat}, NFT_MSG_NEWRULE {\(JSON.quote(rule.text))}, NFNL_MSG_BATCH_END)"
      ]
    case .netPublish(let hostPort, let proto, _, let address, let port):
      let rule = NetRule.publish(hostPort, proto, to: address, port: port)
      return [
        "sendmsg(NETLINK_NETFILTER, NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWTABLE {\"\(NetRule.table)\"}, NFT_MSG_NEWCHAIN {\"prerouting\", type nat hook prerouting priority dstnat}, NFT_MSG_NEWRULE {\(JSON.quote(rule.text))}, NFNL_MSG_BATCH_END)"
      ]
    case .netListen(_, let port):
      return [
        "socket(AF_INET, SOCK_STREAM, 0)", "bind(inet_addr(\"0.0.0.0\"), htons(\(port)))", "listen(SOMAXCONN)",
      ]
    case .connect(_, let address, let port):
      return ["socket(AF_INET, SOCK_STREAM, 0)", "connect(inet_addr(\"\(address)\"), htons(\(port)))"]
    case .overlay, .writeFile, .removeFile, .commit, .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune,
      .imageRemove, .layerRemove:
      return layerCalls
    }
  }

  /// One rtnetlink(7) request as boxwalk writes it: sendmsg(2) on a NETLINK_ROUTE socket, the
  /// message type, the flags that matter (NLM_F_REQUEST|NLM_F_ACK are always set: the kernel then
  /// answers every request with an NLMSG_ERROR message carrying 0 or -errno), then the header
  /// fields and attributes. Nested attributes are flattened where the nesting is only packaging
  /// (IFLA_INFO_KIND sits in IFLA_LINKINFO, VETH_INFO_PEER in IFLA_INFO_DATA there).
  static func netlink(_ type: String, create: Bool, _ body: String) -> String {
    "sendmsg(NETLINK_ROUTE, \(type), \(create ? "NLM_F_CREATE|NLM_F_EXCL" : "0"), {\(body)})"
  }

  /// An interface index, which differs between runs, written as strace(1) decodes one.
  static func index(_ name: String) -> String { "if_nametoindex(\(JSON.quote(name)))" }

  /// Which of `calls` a failure of the pivot_root step belongs to, when it is pivot_root itself.
  public static let pivotRootCallIndex = 1
  /// The directory pivot-root makes in the new root to put the old root under, then removes.
  public static let oldRootName = ".oldroot"
  /// Why pivot-root refuses a root that already has that name (boxwalk-helper says the same):
  /// mkdir(2) must make a new, empty directory. An image's own `.oldroot` (a link, a file, a
  /// directory with files) would make pivot_root(2) follow the link, or leave the old root's
  /// directory behind after the root had already changed: the step would fail half done.
  public static let oldRootTaken =
    "the new root already has /.oldroot, where pivot-root puts the old root; rm /.oldroot in the box first"

  /// `mount dev PATH` after its openat2(2) of PATH. Copies of the host's device nodes first
  /// (open_tree(2) of the helper's handles, attached nowhere yet), so a refusal comes before
  /// anything is made; then the tmpfs, filled while still detached (one empty file per node, the
  /// links, the directories); then attached at PATH; then each node's copy mounted onto its
  /// file. Until the tmpfs is attached nothing in the box has changed.
  static func devCalls(_ path: String, attach: String, fsmount: String) -> [String] {
    var calls = ContainerDev.devices.flatMap { [deviceCopyCall($0.name), deviceReadOnlyCall($0.name)] }
    calls += [
      "fsopen(\"tmpfs\", FSOPEN_CLOEXEC)", "fsconfig(FSCONFIG_SET_STRING, \"mode\", \"0755\")",
      "fsconfig(FSCONFIG_CMD_CREATE)", fsmount,
    ]
    calls += ContainerDev.devices.map {
      "openat(<new mount>, \(JSON.quote($0.name)), O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0666)"
    }
    calls += ContainerDev.links.map { "symlinkat(\(JSON.quote($0.target)), <new mount>, \(JSON.quote($0.name)))" }
    calls += ContainerDev.directories.map { "mkdirat(<new mount>, \(JSON.quote($0)), 0755)" }
    calls.append(attach)
    calls += ContainerDev.devices.map { deviceAttachCall($0.name, ContainerDev.path(path, $0.name)) }
    return calls
  }

  /// Where `mount dev`'s calls start, after the openat2(2) of the target: the copies (each with
  /// its mount_setattr(2), so device i's copy is call 1 + 2i), fsopen(2),
  /// the files made in the tmpfs, its move_mount(2).
  public static let devCopyCallIndex = 1
  public static let devFileCallIndex = 1 + 2 * ContainerDev.devices.count + 4
  public static let devAttachCallIndex =
    devFileCallIndex + ContainerDev.devices.count + ContainerDev.links.count + ContainerDev.directories.count

  /// A copy of the host's device node NAME: the helper holds a handle of each (a detached copy
  /// made when the box got its mount namespace), and copies it again for every `mount dev`.
  static func deviceCopyCall(_ name: String) -> String {
    "open_tree(<host /dev/\(name)>, \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH)"
  }

  /// Each copy is made read-only before it is attached. A bind mount shows the host's own inode:
  /// without this, a box that is the host's root (the real backend) could chmod(2) or chown(2)
  /// the host's /dev/null through it. Reading and writing a device is not changing a file, so
  /// the node still works (a read-only mount refuses only changes to its files; mount(2)).
  static func deviceReadOnlyCall(_ name: String) -> String {
    "mount_setattr(<copy of /dev/\(name)>, \"\", AT_EMPTY_PATH, {MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC})"
  }

  static func deviceAttachCall(_ name: String, _ target: String) -> String {
    "move_mount(<copy of /dev/\(name)>, \"\", <\(JSON.quote(target))>, \"\", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)"
  }

  /// Which of a mount step's calls fails when the mount point cannot be opened in the box.
  public var mountTargetCallIndex: Int { 0 }

  /// The first of the step's calls that starts with one of `prefixes` (0 if none does): where a
  /// kernel says a multi-call step failed, by the call's name rather than its position.
  public func callIndex(startingWith prefixes: [String]) -> Int {
    calls.firstIndex { call in prefixes.contains { call.hasPrefix($0) } } ?? 0
  }

  /// Which of a bind mount's calls fails when its source cannot be opened in the box.
  public var mountSourceCallIndex: Int { 1 }

  /// Which of an umount step's calls is umount2(2) itself.
  public var umountCallIndex: Int {
    if case .umount(_, "/") = self { return 0 }
    return 2
  }

  /// After unshare(CLONE_NEWNS) the new mount namespace is a copy of the old one, and on systemd
  /// hosts "/" is a shared mount: without this, mounts made in the box would propagate back to the
  /// host (mount_namespaces(7), "Shared subtrees"). runc and systemd do the same first.
  public static let makeRootPrivateCall = "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)"
}
