/// One entry of a step's plan: a system call boxwalk makes, with its arguments as values. A step's
/// plan (`Step.plan`, each area's in Kernel/Steps/) is the list of these in the order they are made; the
/// `syscall` lines, the error's headline and `explain` are all this value written out the way
/// strace(1) prints a call, flags by name (`description`). Both kernels name a failing call by
/// finding its entry in the plan (`Step.entry`), never by its position in the printed text.
///
/// Host PIDs and interface indexes never appear in the text (they differ between runs;
/// docs/transcripts.md): a box's helper is written `<web>`, an index `if_nametoindex("br0")`.
public enum SystemCall: Hashable, Sendable, CustomStringConvertible {
  // Processes (fork(2), execve(2), wait4(2), kill(2)).
  case fork
  /// prctl(PR_SET_PDEATHSIG, SIGKILL): the child is killed when the thread that forked it dies.
  case prctlDeathSignal
  /// execve(2) of a program boxwalk names itself (`boxwalk-helper`).
  case execve(program: String)
  /// execvp(3): searches PATH the way a shell does.
  case execvp(argv: [String])
  /// wait4(2) for the child the step forked.
  case wait4Child
  /// kill(2) with SIGKILL: the box's helper (`pid` nil) or the box's process `pid`.
  case kill(box: String, pid: Int?)
  case waitpid(box: String)

  // Namespaces (namespaces(7)).
  case unshare([NamespaceKind])
  /// setns(2) on the namespace file of `target`'s helper.
  case setns(target: String, kind: NamespaceKind)
  case sethostname(String)
  case setdomainname(String)
  /// The write of "deny" to /proc/PID/setgroups that must come before an unprivileged gid_map.
  case denySetgroups(box: String)
  /// The write of one range to /proc/PID/uid_map or gid_map (user_namespaces(7)).
  case writeIDMap(box: String, kind: IDKind, range: IDMapRange)
  /// setresuid(2) or setresgid(2) to 0 inside the box, once 0 is mapped.
  case becomeRoot(box: String, kind: IDKind)
  /// The write of one clock's offset to /proc/PID/timens_offsets (time_namespaces(7)).
  case writeTimeOffset(box: String, clock: TimeClock, seconds: Int64)

  // IPC (sysvipc(7), mq_overview(7)).
  /// msgget(2), shmget(2) or semget(2) with IPC_CREAT|IPC_EXCL.
  case sysvGet(IPCKind, key: Int32)
  case mqOpen(name: String)

  // Mounts (mount(2), the new mount API: fsopen(2), fsconfig(2), fsmount(2), move_mount(2)).
  /// mount(2) with only a propagation flag, on "/" and everything under it.
  case setPropagation(Propagation)
  /// openat2(2) of `path` beneath the box's root, following no symbolic link.
  case openBeneath(box: String, path: String, OpenIntent)
  case fsopen(fstype: String)
  case fsconfig(FSConfig)
  case fsmount(attributes: String)
  /// move_mount(2) of a detached mount onto the directory opened for `target`.
  case moveMount(MountHandle, target: String)
  /// move_mount(2) of the overlay onto the box's rootfs directory.
  case moveOverlayRoot(box: String)
  /// open_tree(2) with OPEN_TREE_CLONE: a bind mount of `source`, attached nowhere yet.
  case openTreeClone(source: String)
  /// open_tree(2) of the helper's handle on the host's /dev/NAME.
  case openTreeDevice(name: String)
  /// mount_setattr(2) making a device node's copy read-only, nosuid, noexec.
  case deviceReadOnly(name: String)
  /// openat(2) creating the empty file a device node's copy is mounted on.
  case createDeviceFile(name: String)
  case symlinkat(target: String, name: String)
  /// mkdirat(2) of a directory in the new tmpfs.
  case mkdirat(name: String)
  case fchdirParent
  case umount2(path: String, UmountFlag)
  case mkdir(path: String, mode: Int)
  case pivotRoot(box: String)
  case chdirRoot
  case rmdir(path: String)
  case chroot(box: String)

  // Cgroups (cgroups(7)).
  /// open(2) of the box's cgroup.procs, kept by the helper for the processes it starts.
  case openCgroupProcs(box: String)
  /// One write of a cgroup interface file, named as the host's layout names it.
  case writeCgroup(box: String, file: String, value: String)
  /// A child's write of "0" (itself) to the box's cgroup.procs.
  case enterCgroup(box: String)
  case touchMemory(bytes: UInt64)
  case forkTimes(Int)
  case spin(milliseconds: Int)

  // Networking (rtnetlink(7), raw(7), tcp(7), nft(8)).
  /// One rtnetlink(7) request on a NETLINK_ROUTE socket.
  case rtnetlink(RouteRequest)
  case socket(SocketKind)
  case sendEcho(to: IPv4Address)
  case receiveEchoReply
  case bind(port: Int)
  case listen
  case connect(address: IPv4Address, port: Int)
  /// send(2) of one line on a connected socket, and recv(2) of the answer (tcp(7), udp(7)).
  case send(line: String)
  case receive
  case writeIPForward(Bool)
  /// One nftables batch: the table and chain if missing, and the rule.
  case nftables(NATRule)

  // Files in a box, layers and images: work in boxwalk's own process, on the box's files and
  // the image store (see Steps/LayerStep.swift).
  case layer(LayerWork)

  /// The word before the entry in a step's output: `syscall` for what the kernel does, `boxwalk`
  /// (the same width) for work boxwalk does in its own memory (making a tar, gzip, sha256), so
  /// no line labelled syscall names something that is not one.
  public var label: String {
    switch self {
    case .layer(.tarUpper), .layer(.storeBlobs), .layer(.tarAndStoreBlobs): "boxwalk"
    default: "syscall"
    }
  }

  /// What an openat2(2) of a path in a box opens it for.
  public enum OpenIntent: Hashable, Sendable {
    /// O_PATH|O_DIRECTORY: a directory to mount on, or a parent to work in.
    case directory
    /// O_WRONLY|O_CREAT|O_TRUNC, 0644: a file to write.
    case writeFile
    /// O_RDONLY: a file to read (`cat`).
    case read
    /// O_RDONLY|O_DIRECTORY: a directory to list (`ls`).
    case list
  }

  /// The fsconfig(2) commands boxwalk sends.
  public enum FSConfig: Hashable, Sendable {
    /// FSCONFIG_SET_FD: a file descriptor for `key`, `what` says whose.
    case setFD(key: String, what: String)
    case setString(key: String, value: String)
    /// FSCONFIG_CMD_CREATE: the superblock is made (or found) with what was set.
    case create
  }

  /// A mount made with the new mount API, not yet attached anywhere.
  public enum MountHandle: Hashable, Sendable {
    /// What fsmount(2) or open_tree(2) returned for this step.
    case newMount
    /// The copy of the host's /dev/NAME.
    case deviceCopy(name: String)
  }

  public enum UmountFlag: String, Hashable, Sendable {
    case nofollow = "UMOUNT_NOFOLLOW"
    case detach = "MNT_DETACH"
  }

  /// The rtnetlink(7) requests boxwalk sends.
  public enum RouteRequest: Hashable, Sendable {
    /// RTM_NEWLINK of a veth pair, its peer made in the namespace of `peerNamespace`'s helper.
    case newVeth(name: String, peer: String, peerNamespace: String)
    case newBridge(name: String)
    /// RTM_NEWLINK setting IFLA_MASTER: the link becomes a port of the bridge.
    case setMaster(link: String, bridge: String)
    case setUp(link: String, up: Bool)
    case newAddress(link: String, cidr: IPv4CIDR)
    case newDefaultRoute(gateway: IPv4Address)
  }

  public enum SocketKind: Hashable, Sendable {
    /// SOCK_RAW, IPPROTO_ICMP.
    case icmp
    case tcp
    /// SOCK_DGRAM: one datagram per send(2), no connection (udp(7)).
    case udp
  }

  /// The nftables rules boxwalk makes (NetRule).
  public enum NATRule: Hashable, Sendable {
    case masquerade(subnet: IPv4CIDR, bridge: String)
    case publish(hostPort: Int, proto: String, address: IPv4Address, port: Int)
  }

  /// The work of file, layer and image steps, each entry a group of calls written as one line.
  public enum LayerWork: Hashable, Sendable {
    /// A plain rootfs: the layers' merged view copied file by file.
    case copyLayers(box: String, layers: [String])
    /// mkdirat(2) of each missing parent directory, like mkdir -p.
    case makeParents(box: String)
    /// write(2) of the file's text.
    case writeData(String)
    /// unlinkat(2) of the last name (a directory: its entries first).
    case unlink(name: String)
    /// The walk of the box's upper layer for commit.
    case walkUpper(box: String)
    case tarUpper
    case storeBlobs
    /// The walk of a host directory for image import.
    case walkDirectory(String)
    case tarAndStoreBlobs
    /// The image store's index replaced whole under its lock.
    case renameIndex(IndexChange)
    case registryHead(repository: String)
    case registryUpload(repository: String)
    case registryPutManifest(repository: String, tag: String)
    case statBlobs(directory: String)
    case copyBlobs(directory: String)
    case renameDirectoryIndex(directory: String, repository: String, tag: String)
    case registryGetManifest(repository: String, tag: String)
    case registryGetBlobs(repository: String)
    case openDirectoryIndex(directory: String, repository: String, tag: String)
    case copyFromDirectory(directory: String)
    case verifyAndUnpack
    case lockStore
    case readIndex
    case deleteUnneeded
    case deleteLeftovers
    case unlinkImageBlobs
    case removeImageLayer(name: String)
    case removeUnusedLayer(name: String)
  }

  /// What a rename of the store's index.json changes.
  public enum IndexChange: Hashable, Sendable {
    case names(ImageName)
    case retags(ImageName, as: ImageName)
    case forgets(ImageName)
  }

  /// The call as strace(1) would print it, flags by name.
  public var description: String {
    switch self {
    case .fork: "fork()"
    case .prctlDeathSignal: "prctl(PR_SET_PDEATHSIG, SIGKILL)"
    case .execve(let program): "execve(\(JSON.quote(program)))"
    case .execvp(let argv):
      "execvp(\(JSON.quote(argv.first ?? "")), [\(argv.map(JSON.quote).joined(separator: ", "))])"
    case .wait4Child: "wait4(<child>)"
    case .kill(let box, nil): "kill(<\(box)>, SIGKILL)"
    case .kill(let box, let pid?): "kill(<\(box):\(pid)>, SIGKILL)"
    case .waitpid(let box): "waitpid(<\(box)>)"
    case .unshare(let kinds): "unshare(\(cloneFlagsDescription(kinds)))"
    case .setns(let target, let kind): "setns(open(\"/proc/<\(target)>/ns/\(kind.procEntry)\"), \(kind.cloneFlagName))"
    case .sethostname(let name): "sethostname(\(JSON.quote(name)), \(name.utf8.count))"
    case .setdomainname(let name): "setdomainname(\(JSON.quote(name)), \(name.utf8.count))"
    case .denySetgroups(let box): "write(\"/proc/<\(box)>/setgroups\", \"deny\")"
    case .writeIDMap(let box, let kind, let range): "write(\"/proc/<\(box)>/\(kind.rawValue)_map\", \"\(range)\")"
    case .becomeRoot(let box, .uid): "setresuid(0, 0, 0) in \(box)"
    case .becomeRoot(let box, .gid): "setresgid(0, 0, 0) in \(box)"
    case .writeTimeOffset(let box, let clock, let seconds):
      "write(\"/proc/<\(box)>/timens_offsets\", \"\(clock.rawValue) \(seconds) 0\")"
    case .sysvGet(let kind, let key):
      switch kind {
      case .mq: "msgget(\(IPCObjectFacts.keyText(key)), IPC_CREAT|IPC_EXCL|0600)"
      case .shm: "shmget(\(IPCObjectFacts.keyText(key)), 4096, IPC_CREAT|IPC_EXCL|0600)"
      case .sem: "semget(\(IPCObjectFacts.keyText(key)), 1, IPC_CREAT|IPC_EXCL|0600)"
      }
    case .mqOpen(let name): "mq_open(\(JSON.quote(name)), O_RDWR|O_CREAT|O_EXCL, 0600, {mq_maxmsg=10, mq_msgsize=1024})"
    case .setPropagation(let mode): "mount(NULL, \"/\", NULL, MS_REC|\(mode.flag), NULL)"
    case .openBeneath(let box, let path, let intent):
      "openat2(<\(box) root>, \(JSON.quote(path)), \(intent.flags), \(Step.resolveFlags))"
    case .fsopen(let fstype): "fsopen(\(JSON.quote(fstype)), FSOPEN_CLOEXEC)"
    case .fsconfig(.setFD(let key, let what)): "fsconfig(FSCONFIG_SET_FD, \"\(key)\", <\(what)>)"
    case .fsconfig(.setString(let key, let value)): "fsconfig(FSCONFIG_SET_STRING, \"\(key)\", \"\(value)\")"
    case .fsconfig(.create): "fsconfig(FSCONFIG_CMD_CREATE)"
    case .fsmount(let attributes): "fsmount(\(attributes))"
    case .moveMount(let handle, let target):
      "move_mount(\(handle), \"\", <\(JSON.quote(target))>, \"\", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)"
    case .moveOverlayRoot(let box): "move_mount(\"<\(box) rootfs>\")"
    case .openTreeClone(let source):
      "open_tree(<\(JSON.quote(source))>, \"\", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH)"
    case .openTreeDevice(let name): "open_tree(<host /dev/\(name)>, \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH)"
    case .deviceReadOnly(let name):
      "mount_setattr(<copy of /dev/\(name)>, \"\", AT_EMPTY_PATH, {MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC})"
    case .createDeviceFile(let name):
      "openat(<new mount>, \(JSON.quote(name)), O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0666)"
    case .symlinkat(let target, let name): "symlinkat(\(JSON.quote(target)), <new mount>, \(JSON.quote(name)))"
    case .mkdirat(let name): "mkdirat(<new mount>, \(JSON.quote(name)), 0755)"
    case .fchdirParent: "fchdir(<parent>)"
    case .umount2(let path, let flag): "umount2(\(JSON.quote(path)), \(flag.rawValue))"
    case .mkdir(let path, let mode): "mkdir(\(JSON.quote(path)), 0\(String(mode, radix: 8)))"
    case .pivotRoot(let box): "pivot_root(\"<\(box) rootfs>\", \"<\(box) rootfs>/\(Step.oldRootName)\")"
    case .chdirRoot: "chdir(\"/\")"
    case .rmdir(let path): "rmdir(\(JSON.quote(path)))"
    case .chroot(let box): "chroot(\"<\(box) rootfs>\")"
    case .openCgroupProcs(let box): "open(\"<\(box) cgroup>/cgroup.procs\", O_WRONLY|O_CLOEXEC) in <\(box)>"
    case .writeCgroup(let box, let file, let value): "write(\"<\(box) cgroup>/\(file)\", \"\(value)\")"
    case .enterCgroup(let box): "write(\"<\(box) cgroup>/cgroup.procs\", \"0\")"
    case .touchMemory(let bytes): "mmap(\(bytes)) and write one byte per page"
    case .forkTimes(let count): "fork() \(count) times"
    case .spin(let ms): "spin for \(ms) ms"
    case .rtnetlink(let request): request.description
    case .socket(.icmp): "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)"
    case .socket(.tcp): "socket(AF_INET, SOCK_STREAM, 0)"
    case .socket(.udp): "socket(AF_INET, SOCK_DGRAM, 0)"
    case .sendEcho(let address): "sendto(ICMP_ECHO, inet_addr(\"\(address)\"))"
    case .receiveEchoReply: "recvfrom(ICMP_ECHOREPLY)"
    case .bind(let port): "bind(inet_addr(\"0.0.0.0\"), htons(\(port)))"
    case .listen: "listen(SOMAXCONN)"
    case .connect(let address, let port): "connect(inet_addr(\"\(address)\"), htons(\(port)))"
    case .send(let line): "send(\(JSON.quote(line + "\n")))"
    case .receive: "recv()"
    case .writeIPForward(let on): "write(\"/proc/sys/net/ipv4/ip_forward\", \"\(on ? 1 : 0)\")"
    case .nftables(let rule): rule.description
    case .layer(let work): work.description
    }
  }
}

extension SystemCall.OpenIntent {
  var flags: String {
    switch self {
    case .directory: "O_PATH|O_DIRECTORY"
    case .writeFile: "O_WRONLY|O_CREAT|O_TRUNC, 0644"
    case .read: "O_RDONLY"
    case .list: "O_RDONLY|O_DIRECTORY"
    }
  }
}

extension SystemCall.MountHandle: CustomStringConvertible {
  public var description: String {
    switch self {
    case .newMount: "<new mount>"
    case .deviceCopy(let name): "<copy of /dev/\(name)>"
    }
  }
}

extension SystemCall.RouteRequest: CustomStringConvertible {
  /// One rtnetlink(7) request as boxwalk writes it: sendmsg(2) on a NETLINK_ROUTE socket, the
  /// message type, the flags that matter (NLM_F_REQUEST|NLM_F_ACK are always set: the kernel then
  /// answers every request with an NLMSG_ERROR message carrying 0 or -errno), then the header
  /// fields and attributes. Nested attributes are flattened where the nesting is only packaging
  /// (IFLA_INFO_KIND sits in IFLA_LINKINFO, VETH_INFO_PEER in IFLA_INFO_DATA there).
  public var description: String {
    switch self {
    case .newVeth(let name, let peer, let namespace):
      Self.netlink(
        "RTM_NEWLINK", create: true,
        "IFLA_IFNAME=\(JSON.quote(name)), IFLA_INFO_KIND=\"veth\", VETH_INFO_PEER={IFLA_IFNAME=\(JSON.quote(peer)), IFLA_NET_NS_PID=<\(namespace)>}"
      )
    case .newBridge(let name):
      Self.netlink("RTM_NEWLINK", create: true, "IFLA_IFNAME=\(JSON.quote(name)), IFLA_INFO_KIND=\"bridge\"")
    case .setMaster(let link, let bridge):
      Self.netlink("RTM_NEWLINK", create: false, "IFLA_IFNAME=\(JSON.quote(link)), IFLA_MASTER=\(Self.index(bridge))")
    case .setUp(let link, let up):
      Self.netlink(
        "RTM_NEWLINK", create: false,
        "ifi_flags=\(up ? "IFF_UP" : "0"), ifi_change=IFF_UP, IFLA_IFNAME=\(JSON.quote(link))")
    case .newAddress(let link, let cidr):
      Self.netlink(
        "RTM_NEWADDR", create: true,
        "ifa_prefixlen=\(cidr.prefixLength), ifa_index=\(Self.index(link)), IFA_LOCAL=\(cidr.address), IFA_ADDRESS=\(cidr.address)"
      )
    case .newDefaultRoute(let gateway):
      Self.netlink("RTM_NEWROUTE", create: true, "rtm_dst_len=0, rtm_table=RT_TABLE_MAIN, RTA_GATEWAY=\(gateway)")
    }
  }

  static func netlink(_ type: String, create: Bool, _ body: String) -> String {
    "sendmsg(NETLINK_ROUTE, \(type), \(create ? "NLM_F_CREATE|NLM_F_EXCL" : "0"), {\(body)})"
  }

  /// An interface index, which differs between runs, written as strace(1) decodes one.
  static func index(_ name: String) -> String { "if_nametoindex(\(JSON.quote(name)))" }
}

extension SystemCall.NATRule: CustomStringConvertible {
  /// nft(8) sends one batch: the table and chain if they are not there yet, and the rule; the
  /// kernel applies all of it or none.
  public var description: String {
    let (rule, hook, priority): (NetRule, String, String) =
      switch self {
      case .masquerade(let subnet, let bridge): (NetRule.masquerade(subnet, leavingBy: bridge), "postrouting", "srcnat")
      case .publish(let hostPort, let proto, let address, let port):
        (NetRule.publish(hostPort, proto, to: address, port: port), "prerouting", "dstnat")
      }
    return
      "sendmsg(NETLINK_NETFILTER, NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWTABLE {\"\(NetRule.table)\"}, NFT_MSG_NEWCHAIN {\"\(hook)\", type nat hook \(hook) priority \(priority)}, NFT_MSG_NEWRULE {\(JSON.quote(rule.text))}, NFNL_MSG_BATCH_END)"
  }
}

extension SystemCall {
  /// Which call an entry is, without its arguments: how a kernel looks up the entry that failed
  /// in a step's plan (`Step.entry(_:)`).
  public enum Kind: Hashable, Sendable {
    case fork, prctlDeathSignal, execve, execvp, wait4Child, kill, waitpid, unshare, setns, sethostname, setdomainname,
      denySetgroups, writeIDMap, becomeRoot, writeTimeOffset, sysvGet, mqOpen, setPropagation, openBeneath, fsopen,
      fsconfig, fsmount, moveMount, moveOverlayRoot, openTreeClone, openTreeDevice, deviceReadOnly, createDeviceFile,
      symlinkat, mkdirat, fchdirParent, umount2, mkdir, pivotRoot, chdirRoot, rmdir, chroot, openCgroupProcs,
      writeCgroup, enterCgroup, touchMemory, forkTimes, spin, rtnetlink, socket, sendEcho, receiveEchoReply, bind,
      listen, connect, send, receive, writeIPForward, nftables, layer
  }

  public var kind: Kind {
    switch self {
    case .fork: .fork
    case .prctlDeathSignal: .prctlDeathSignal
    case .execve: .execve
    case .execvp: .execvp
    case .wait4Child: .wait4Child
    case .kill: .kill
    case .waitpid: .waitpid
    case .unshare: .unshare
    case .setns: .setns
    case .sethostname: .sethostname
    case .setdomainname: .setdomainname
    case .denySetgroups: .denySetgroups
    case .writeIDMap: .writeIDMap
    case .becomeRoot: .becomeRoot
    case .writeTimeOffset: .writeTimeOffset
    case .sysvGet: .sysvGet
    case .mqOpen: .mqOpen
    case .setPropagation: .setPropagation
    case .openBeneath: .openBeneath
    case .fsopen: .fsopen
    case .fsconfig: .fsconfig
    case .fsmount: .fsmount
    case .moveMount: .moveMount
    case .moveOverlayRoot: .moveOverlayRoot
    case .openTreeClone: .openTreeClone
    case .openTreeDevice: .openTreeDevice
    case .deviceReadOnly: .deviceReadOnly
    case .createDeviceFile: .createDeviceFile
    case .symlinkat: .symlinkat
    case .mkdirat: .mkdirat
    case .fchdirParent: .fchdirParent
    case .umount2: .umount2
    case .mkdir: .mkdir
    case .pivotRoot: .pivotRoot
    case .chdirRoot: .chdirRoot
    case .rmdir: .rmdir
    case .chroot: .chroot
    case .openCgroupProcs: .openCgroupProcs
    case .writeCgroup: .writeCgroup
    case .enterCgroup: .enterCgroup
    case .touchMemory: .touchMemory
    case .forkTimes: .forkTimes
    case .spin: .spin
    case .rtnetlink: .rtnetlink
    case .socket: .socket
    case .sendEcho: .sendEcho
    case .receiveEchoReply: .receiveEchoReply
    case .bind: .bind
    case .listen: .listen
    case .connect: .connect
    case .send: .send
    case .receive: .receive
    case .writeIPForward: .writeIPForward
    case .nftables: .nftables
    case .layer: .layer
    }
  }
}

extension Step {
  /// The plan's first entry: what a failure before any particular call of the step is reported
  /// against (a box that is not there, a fault injected by a test).
  public var firstCall: SystemCall { plan.first ?? .fork }

  /// The first entry of the plan that is a `kind` call. Every kernel names a failing call with
  /// this, so the text it prints is the text the step's `syscall` lines print.
  public func entry(_ kind: SystemCall.Kind) -> SystemCall {
    entry { $0.kind == kind }
  }

  /// The first entry of the plan `matches` accepts (for a step with more than one call of a
  /// kind: the openat2(2) of a bind's source, the fsconfig(2) that sets "upperdir").
  public func entry(where matches: (SystemCall) -> Bool) -> SystemCall {
    let plan = plan
    guard let found = plan.first(where: matches) else {
      assertionFailure("\(self) plans no such call: \(plan)")
      return plan.first ?? .fork
    }
    return found
  }
}
