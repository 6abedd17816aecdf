/// One learner action that changes kernel state, as an Equatable value. Both kernels take the same
/// steps; tests compare whole step sequences. Reading commands (`show`, `ns`, `state`) are not
/// steps: they only read the state tree.
public enum Step: Equatable, Hashable, Sendable {
  /// Start the process that will hold a new box's namespaces. It shares every host namespace.
  case boxNew(box: String)
  /// Kill a box's processes; namespaces nobody else uses die with them.
  case boxRemove(box: String)
  /// unshare(2): move the box into new namespaces of these kinds. A new mount namespace has its
  /// "/" made private at once (`Step.makeRootPrivate`) unless `keepPropagation` is set, as
  /// `unshare --propagation unchanged` leaves it: then every shared mount of the copy is a peer of
  /// the mount it was copied from, and mounts pass between the two namespaces.
  case unshare(box: String, kinds: [NamespaceKind], keepPropagation: Bool = false)
  /// setns(2): move the box into `target`'s namespace of this kind.
  case join(box: String, kind: NamespaceKind, target: String)
  /// sethostname(2) inside the box's UTS namespace.
  case setHostname(box: String, name: String)
  /// setdomainname(2) inside the box's UTS namespace.
  case setDomainname(box: String, name: String)
  /// fork(2) + execvp(3) a program in the box; in the foreground boxwalk waits for it (wait4(2)).
  case run(box: String, argv: [String], background: Bool)
  /// kill(2) a box process, named by its PID as the box sees it, with SIGKILL.
  case kill(box: String, pid: Int)
  /// mount(2) in the box's mount namespace; paths are inside the box's root filesystem.
  case mount(box: String, request: MountRequest)
  /// umount2(2) in the box's mount namespace.
  case umount(box: String, path: String)
  /// mount(2) with MS_REC and a propagation flag on the box's "/" (mount_namespaces(7)).
  case propagation(box: String, mode: Propagation)
  /// pivot_root(2) into the box's root filesystem, then detach the old root.
  case pivotRoot(box: String)
  /// chroot(2) into the box's root filesystem (for contrast with pivot_root).
  case chroot(box: String)
  /// msgget(2) / shmget(2) / semget(2) with IPC_CREAT|IPC_EXCL in the box's IPC namespace.
  case ipcNew(box: String, kind: IPCKind, key: Int32)
  /// mq_open(3) with O_CREAT|O_EXCL in the box's IPC namespace: a POSIX message queue, found by
  /// a name such as "/jobs" (mq_overview(7)).
  case posixMQNew(box: String, name: String)
  /// Write /proc/PID/timens_offsets of the box (from outside, as unshare(1) --boottime does for
  /// its child): the clock's offset in the time namespace the box's next process will enter.
  case clockOffset(box: String, clock: TimeClock, seconds: Int64)
  /// Write /proc/PID/uid_map or gid_map of the box (from outside, as newuidmap(1) does), then let
  /// the box become the inside ID 0 if the range maps it (setresuid(2) / setresgid(2)).
  case map(box: String, kind: IDKind, range: IDMapRange)
  /// mkdir(2) a cgroup for the box under boxwalk/ and move the box's process into it.
  case cgroupNew(box: String)
  /// Write one limit of the box's cgroup (named as on cgroup v2; translated on v1).
  case cgroupSet(box: String, setting: CgroupSetting)
  /// Run a stress program in the box against its limits.
  case stress(box: String, kind: StressKind)
  /// rtnetlink RTM_NEWLINK on the host side: a veth pair, `hostLink` on the host side and its
  /// peer `boxLink` created directly in the box's network namespace (veth(4), ip-link(8)).
  case netVeth(box: String, hostLink: String, boxLink: String)
  /// RTM_NEWLINK on the host side: a bridge, like docker0.
  case netBridge(name: String)
  /// RTM_NEWLINK with IFLA_MASTER on the host side: `link` becomes a port of `bridge`.
  case netAttach(link: String, bridge: String)
  /// RTM_NEWADDR: an IPv4 address (and with it the subnet) on a link.
  case netAddr(link: NetLinkRef, cidr: IPv4CIDR)
  /// RTM_NEWLINK with IFF_UP set or cleared in ifi_change: `ip link set IF up|down`.
  case netState(link: NetLinkRef, up: Bool)
  /// RTM_NEWROUTE in the box's main table: `ip route add default via ADDR`.
  case netRoute(box: String, gateway: IPv4Address)
  /// One ICMP echo request from a lab network namespace, over a raw socket (icmp(7), raw(7)).
  case ping(from: NetSide, address: IPv4Address)
  /// Make the lab's outside: one more network namespace of boxwalk's own that stands for the
  /// internet, joined to the host side by a veth (`uplink` there, `eth0` in the outside) with an
  /// address at each end on a subnet of their own (OutsideNet).
  case netOutside
  /// Write net.ipv4.ip_forward in the host side's network namespace: a per-namespace sysctl
  /// (proc_sys_net_ipv4(5) via /proc/sys/net, which shows the namespace of the process reading it).
  case netForward(on: Bool)
  /// nftables in the host side's network namespace: masquerade what comes from `subnet` (the
  /// bridge's) and leaves by any link but `bridge`, as Docker does for docker0.
  case netNAT(bridge: String, subnet: IPv4CIDR)
  /// nftables in the host side's network namespace: `proto` to `hostPort` of any of the host
  /// side's own addresses goes to `address:port` of the box instead (destination NAT before
  /// routing), as `docker run -p HOSTPORT:PORT` does (NetRule.publish).
  case netPublish(hostPort: Int, proto: String, box: String, address: IPv4Address, port: Int)
  /// A socket bound to `port` of any address (socket(2), bind(2), and for "tcp" listen(2)),
  /// held by the side's helper, which answers each connection's line or each datagram with the
  /// line and the sender's address: something to connect to and hear back from.
  case netListen(side: NetSide, port: Int, proto: String = "tcp")
  /// One connect(2) from a side's network namespace, one line sent and one awaited, with a time
  /// limit (tcp(7), udp(7)).
  case connect(from: NetSide, address: IPv4Address, port: Int, proto: String = "tcp")
  /// Mount an overlay of these layers (top first) plus a fresh writable upper layer, as the box's
  /// root filesystem (not entered yet). `names` is what the learner typed; see Step+Layers.swift.
  /// With `plain`, no overlay: the layers' merged files are copied into a plain directory, the
  /// way an image unpacked from `docker export` is one, and that directory is no mount point.
  case overlay(box: String, names: [String], layers: [String], plain: Bool = false)
  /// Write a file in the box's root filesystem, making missing parent directories.
  case writeFile(box: String, path: String, text: String)
  /// Remove a file, or a directory with everything in it, from the box's root filesystem.
  case removeFile(box: String, path: String)
  /// The box's upper layer becomes a new layer, and an image of it on top of the box's layers.
  case commit(box: String, image: ImageName)
  /// A host directory becomes a one-layer image.
  case imageImport(image: ImageName, directory: String)
  /// Give a local image a second name (`docker tag`): the same manifest, another index entry.
  case imageTag(source: ImageName, target: ImageName)
  /// Copy a local image to a registry.
  case imagePush(image: ImageName, ref: RegistryRef)
  /// Copy an image from a registry into the local store.
  case imagePull(ref: RegistryRef)
  /// Remove from the store what no image needs: layers and blobs no image names, and what
  /// killed pulls and commits left half-written.
  case imagePrune
  /// Remove an image's name from the store (`docker image rm`). `layers` are the image's layers
  /// that no other image uses: they go with it, as docker removes an untagged image's layers.
  case imageRemove(image: ImageName, layers: [String])
  /// Remove a layer that no image and no box uses.
  case layerRemove(name: String)

  /// Whom the step acts on: its box, the lab's host (the host side's network, the image store)
  /// or the outside.
  public var owner: Owner {
    switch self {
    case .boxNew(let b), .boxRemove(let b), .unshare(let b, _, _), .join(let b, _, _),
      .setHostname(let b, _), .setDomainname(let b, _), .run(let b, _, _), .kill(let b, _),
      .mount(let b, _), .umount(let b, _), .propagation(let b, _), .pivotRoot(let b),
      .chroot(let b), .ipcNew(let b, _, _), .posixMQNew(let b, _), .clockOffset(let b, _, _), .map(let b, _, _),
      .cgroupNew(let b), .cgroupSet(let b, _),
      .stress(let b, _), .netVeth(let b, _, _), .netRoute(let b, _), .overlay(let b, _, _, _), .writeFile(let b, _, _),
      .removeFile(let b, _), .commit(let b, _):
      .box(b)
    case .netBridge, .netAttach, .netOutside, .netForward, .netNAT, .netPublish: .labHost
    case .netAddr(let link, _), .netState(let link, _): Owner(link.side)
    case .ping(let side, _), .netListen(let side, _, _), .connect(let side, _, _, _): Owner(side)
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove: .labHost
    }
  }

  /// A short kind name, for fault injection and error messages ("unshare", "sethostname").
  public var kindName: String {
    switch self {
    case .boxNew: "box-new"
    case .boxRemove: "box-rm"
    case .unshare: "unshare"
    case .join: "setns"
    case .setHostname: "sethostname"
    case .setDomainname: "setdomainname"
    case .run: "run"
    case .kill: "kill"
    case .mount: "mount"
    case .umount: "umount"
    case .propagation: "propagation"
    case .pivotRoot: "pivot_root"
    case .chroot: "chroot"
    case .ipcNew: "ipc"
    case .posixMQNew: "mq_open"
    case .clockOffset: "clock-offset"
    case .map: "map"
    case .cgroupNew: "cgroup-new"
    case .cgroupSet: "cgroup-set"
    case .stress: "stress"
    case .netVeth: "net-veth"
    case .netBridge: "net-bridge"
    case .netAttach: "net-attach"
    case .netAddr: "net-addr"
    case .netState(_, let up): up ? "net-up" : "net-down"
    case .netRoute: "net-route"
    case .ping: "ping"
    case .netOutside: "net-outside"
    case .netForward: "net-forward"
    case .netNAT: "net-nat"
    case .netPublish: "net-publish"
    case .netListen: "net-listen"
    case .connect: "connect"
    case .overlay: "overlay"
    case .writeFile: "write"
    case .removeFile: "rm"
    case .commit: "commit"
    case .imageImport: "image-import"
    case .imageTag: "image-tag"
    case .imagePush: "image-push"
    case .imagePull: "image-pull"
    case .imagePrune: "image-prune"
    case .imageRemove: "image-rm"
    case .layerRemove: "layer-rm"
    }
  }

  /// Whether the step acts on the image store, not on a box.
  public var isImageStep: Bool {
    switch self {
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove: true
    default: false
    }
  }
}

/// Which network namespace a net step acts in: boxwalk's host side, or a box's own.
public enum NetSide: Equatable, Hashable, Sendable {
  case host
  case box(String)
  /// The lab's outside (OutsideNet): the stand-in for the internet.
  case outside

  /// `host`, or the box's name.
  public var name: String {
    switch self {
    case .host: "host"
    case .box(let b): b
    case .outside: OutsideNet.name
    }
  }
}

/// A link named by the side it is on: `host:veth-web` on the host side, `eth0` in a box.
public struct NetLinkRef: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var side: NetSide
  public var name: String
  public init(_ side: NetSide, _ name: String) {
    self.side = side
    self.name = name
  }
  /// As the learner writes it: `host:NAME` on the host side, the bare name in a box.
  public var description: String { side == .host ? "host:\(name)" : name }
}

/// The combined flags of several namespace kinds, printed the way strace does: `CLONE_NEWUTS|CLONE_NEWIPC`.
public func cloneFlagsDescription(_ kinds: [NamespaceKind]) -> String {
  kinds.map(\.cloneFlagName).joined(separator: "|")
}

/// What `stress` runs, inside the box: allocate and touch memory, fork children, or spin a CPU.
public enum StressKind: Equatable, Hashable, Sendable {
  case memory(bytes: UInt64)
  case fork(count: Int)
  case cpu(milliseconds: Int)
}
