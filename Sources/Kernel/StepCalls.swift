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
    case .unshare(_, let kinds, let keepPropagation):
      var plan: [SystemCall] = [.unshare(kinds)]
      if kinds.contains(.mnt) && !keepPropagation { plan.append(Self.makeRootPrivate) }
      return plan
    case .join(_, let kind, let target):
      return [.setns(target: target, kind: kind)]
    case .setHostname(_, let name):
      return [.sethostname(name)]
    case .setDomainname(_, let name):
      return [.setdomainname(name)]
    case .run(_, let argv, let background):
      // execvp(3) searches PATH like a shell; the directory it finds differs between hosts.
      return background ? [.fork, .execvp(argv: argv)] : [.fork, .execvp(argv: argv), .wait4Child]
    case .kill(let box, let pid):
      return [.kill(box: box, pid: pid)]
    case .mount(let box, let request):
      // The target (and a bind's source) is opened beneath the box's root first, following no
      // symbolic link, and the new mount is attached to that descriptor: a link in the image can
      // never lead the mount outside the box (see docs/security.md, "Mounts inside a box").
      let target = SystemCall.openBeneath(box: box, path: request.target, .directory)
      let attach = SystemCall.moveMount(.newMount, target: request.target)
      switch request {
      case .proc:
        // A proc shows the pid namespace of whoever mounts it, and boxwalk-helper is not in the
        // box's (only its children are): so the new mount API names the namespace explicitly.
        return [
          target, .fsopen(fstype: "proc"), .fsconfig(.setFD(key: "pidns", what: "\(box) pid_for_children")),
          .fsconfig(.create), .fsmount(attributes: request.attributes), attach,
        ]
      case .bind(let source, _):
        // open_tree(2) with OPEN_TREE_CLONE is a bind mount not yet attached anywhere.
        return [target, .openBeneath(box: box, path: source, .directory), .openTreeClone(source: source), attach]
      case .dev(let path):
        return [target] + Self.devPlan(path, attach: attach, fsmount: .fsmount(attributes: request.attributes))
      case .device(let name, let path):
        return [.openTreeDevice(name: name), .moveMount(.deviceCopy(name: name), target: path)]
      default:
        return [
          target, .fsopen(fstype: request.fstype), .fsconfig(.create), .fsmount(attributes: request.attributes), attach,
        ]
      }
    case .umount(let box, let path):
      // umount2(2) takes a path: the parent is opened beneath the box's root, made the working
      // directory, and the last name unmounted from there without following a link.
      guard path != "/" else { return [.umount2(path: "<\(box) root>", .nofollow)] }
      return [
        .openBeneath(box: box, path: Overlay.parent(of: path), .directory), .fchdirParent,
        .umount2(path: Overlay.baseName(path), .nofollow),
      ]
    case .propagation(_, let mode):
      return [.setPropagation(mode)]
    case .pivotRoot(let box):
      let oldRoot = "/" + Self.oldRootName
      return [
        .mkdir(path: "<\(box) rootfs>" + oldRoot, mode: 0o700), .pivotRoot(box: box), .chdirRoot,
        .umount2(path: oldRoot, .detach), .rmdir(path: oldRoot),
      ]
    case .chroot(let box):
      return [.chroot(box: box), .chdirRoot]
    case .map(let box, let kind, let range):
      let write = SystemCall.writeIDMap(box: box, kind: kind, range: range)
      let become: [SystemCall] = range.inside == 0 ? [.becomeRoot(box: box, kind: kind)] : []
      switch kind {
      case .uid:
        return [write] + become
      case .gid:
        // An unprivileged writer must deny setgroups(2) before gid_map, or a process could drop
        // a group that was keeping it out of a file (CVE-2014-8989); boxwalk does it always.
        return [.denySetgroups(box: box), write] + become
      }
    case .cgroupNew(let box):
      // On cgroup v1 the same happens once per controller hierarchy (memory, pids, cpu, ...). The
      // helper keeps the file open and stays out; each process it starts writes "0" (itself) there.
      return [.mkdir(path: "<\(box) cgroup>", mode: 0o755), .openCgroupProcs(box: box)]
    case .cgroupSet(let box, let setting):
      // The files of the host's layout: on v1 memory.max is memory.limit_in_bytes, and cpu.max
      // two writes, the period before the quota (CgroupSetting.files).
      return setting.files(setting.layout).map { .writeCgroup(box: box, file: $0.file, value: $0.value) }
    case .stress(let box, let kind):
      // The child moves itself into the box's cgroup before it does anything else.
      let enter = SystemCall.enterCgroup(box: box)
      switch kind {
      case .memory(let bytes): return [.fork, enter, .touchMemory(bytes: bytes)]
      case .fork(let count): return [.fork, enter, .forkTimes(count)]
      case .cpu(let ms): return [.fork, enter, .spin(milliseconds: ms)]
      }
    case .ipcNew(_, let kind, let key):
      return [.sysvGet(kind, key: key)]
    case .posixMQNew(_, let name):
      // A small queue: each one is charged against the owner's RLIMIT_MSGQUEUE (819200 bytes by
      // default), and the kernel's default size (10 messages of 8192 bytes) would allow only nine.
      return [.mqOpen(name: name)]
    case .clockOffset(let box, let clock, let seconds):
      return [.writeTimeOffset(box: box, clock: clock, seconds: seconds)]
    case .netVeth(let box, let hostLink, let boxLink):
      return [.rtnetlink(.newVeth(name: hostLink, peer: boxLink, peerNamespace: box))]
    case .netBridge(let name):
      return [.rtnetlink(.newBridge(name: name))]
    case .netAttach(let link, let bridge):
      return [.rtnetlink(.setMaster(link: link, bridge: bridge))]
    case .netState(let link, let up):
      return [.rtnetlink(.setUp(link: link.name, up: up))]
    case .netAddr(let link, let cidr):
      return [.rtnetlink(.newAddress(link: link.name, cidr: cidr))]
    case .netRoute(_, let gateway):
      return [.rtnetlink(.newDefaultRoute(gateway: gateway))]
    case .ping(_, let address):
      return [.socket(.icmp), .sendEcho(to: address), .receiveEchoReply]
    case .netOutside:
      let o = OutsideNet.self
      return [
        .fork, .execve(program: "boxwalk-helper"), .unshare([.net]),
        .rtnetlink(.newVeth(name: o.hostLink, peer: o.outsideLink, peerNamespace: o.name)),
        .rtnetlink(.newAddress(link: o.outsideLink, cidr: o.outsideAddress)),
        .rtnetlink(.setUp(link: o.outsideLink, up: true)),
        .rtnetlink(.newAddress(link: o.hostLink, cidr: o.hostAddress)),
        .rtnetlink(.setUp(link: o.hostLink, up: true)),
      ]
    case .netForward(let on):
      return [.writeIPForward(on)]
    case .netNAT(let bridge, let subnet):
      return [.nftables(.masquerade(subnet: subnet, bridge: bridge))]
    case .netPublish(let hostPort, let proto, _, let address, let port):
      return [.nftables(.publish(hostPort: hostPort, proto: proto, address: address, port: port))]
    case .netListen(_, let port, let proto):
      // A UDP socket is bound and receives; only a stream socket listens (udp(7), tcp(7)).
      return proto == "udp" ? [.socket(.udp), .bind(port: port)] : [.socket(.tcp), .bind(port: port), .listen]
    case .connect(_, let address, let port, let proto):
      return [
        .socket(proto == "udp" ? .udp : .tcp), .connect(address: address, port: port),
        .send(line: ConnectModel.greeting), .receive,
      ]
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

  /// `mount dev PATH` after its openat2(2) of PATH. Copies of the host's device nodes first
  /// (open_tree(2) of the helper's handles, attached nowhere yet), so a refusal comes before
  /// anything is made; then the tmpfs, filled while still detached (one empty file per node, the
  /// links, the directories); then attached at PATH; then each node's copy mounted onto its
  /// file. Until the tmpfs is attached nothing in the box has changed.
  ///
  /// The helper holds a handle of each host node (a detached copy made when the box got its
  /// mount namespace), and copies it again for every `mount dev`. Each copy is made read-only
  /// before it is attached. A bind mount shows the host's own inode: without this, a box that is
  /// the host's root (the real backend) could chmod(2) or chown(2) the host's /dev/null through
  /// it. Reading and writing a device is not changing a file, so the node still works (a
  /// read-only mount refuses only changes to its files; mount(2)).
  static func devPlan(_ path: String, attach: SystemCall, fsmount: SystemCall) -> [SystemCall] {
    var plan: [SystemCall] = ContainerDev.devices.flatMap {
      [SystemCall.openTreeDevice(name: $0.name), .deviceReadOnly(name: $0.name)]
    }
    plan += [.fsopen(fstype: "tmpfs"), .fsconfig(.setString(key: "mode", value: "0755")), .fsconfig(.create), fsmount]
    plan += ContainerDev.devices.map { .createDeviceFile(name: $0.name) }
    plan += ContainerDev.links.map { .symlinkat(target: $0.target, name: $0.name) }
    plan += ContainerDev.directories.map { .mkdirat(name: $0) }
    plan.append(attach)
    plan += ContainerDev.devices.map {
      .moveMount(.deviceCopy(name: $0.name), target: ContainerDev.path(path, $0.name))
    }
    return plan
  }

  /// After unshare(CLONE_NEWNS) the new mount namespace is a copy of the old one, and on systemd
  /// hosts "/" is a shared mount: without this, mounts made in the box would propagate back to the
  /// host (mount_namespaces(7), "Shared subtrees"). runc and systemd do the same first.
  public static let makeRootPrivate = SystemCall.setPropagation(.private)
}
