/// The mount steps: mount, umount, propagation, pivot_root and chroot, all in the box's mount
/// namespace. Everything the Kernel layer knows of them is here (see Step).
public enum MountStep: Equatable, Hashable, Sendable {
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

  /// The box the step acts on.
  var box: String {
    switch self {
    case .mount(let b, _), .umount(let b, _), .propagation(let b, _), .pivotRoot(let b), .chroot(let b): b
    }
  }

  var owner: Owner { .box(box) }

  var kindName: String {
    switch self {
    case .mount: "mount"
    case .umount: "umount"
    case .propagation: "propagation"
    case .pivotRoot: "pivot_root"
    case .chroot: "chroot"
    }
  }

  /// Mounts propagate between mount namespaces (mount_namespaces(7)): read everything back.
  func readBack(in facts: KernelFacts) -> ReadBack { .all }

  var plan: [SystemCall] {
    switch self {
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
        return [target] + MountStep.devPlan(path, attach: attach, fsmount: .fsmount(attributes: request.attributes))
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
      let oldRoot = "/" + Step.oldRootName
      return [
        .mkdir(path: "<\(box) rootfs>" + oldRoot, mode: 0o700), .pivotRoot(box: box), .chdirRoot,
        .umount2(path: oldRoot, .detach), .rmdir(path: oldRoot),
      ]
    case .chroot(let box):
      return [.chroot(box: box), .chdirRoot]
    }
  }

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
}
