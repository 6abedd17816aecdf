import CShim
import Glibc
import HelperWire
import Kernel

// The mount steps on the real kernel: mount, umount, propagation, pivot_root and chroot, made by
// the box's helper entry by entry beneath the box's root (MountCall, boxwalk-helper's
// MountCalls.swift), and recorded by mount namespace in `mountLog`.
extension LinuxKernel {
  /// `mount`, `umount`, `propagation`, `pivot-root` and `chroot`.
  func performMountStep(_ s: MountStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .mount(let box, let request):
      try mount(box, request, step)
    case .umount(let box, let path):
      try umount(box, path, step)
    case .propagation(let box, let mode):
      let flag: UInt32 = mode == .private ? UInt32(MS_PRIVATE) : mode == .slave ? UInt32(MS_SLAVE) : UInt32(MS_SHARED)
      let helper = try helper(of: box, step: step)
      try make(step) { entry throws(KernelError) in
        guard case .setPropagation = entry else { throw unplanned(entry, step) }
        return .helper(.mount(.setPropagation(flag: flag)), helper)
      }
    case .pivotRoot(let box), .chroot(let box):
      try enterRoot(box, pivot: step.kindName == "pivot_root", step)
    }
    return .none
  }

  /// `mount KIND ...`: the helper opens the target (and a bind's source) beneath the box's root
  /// (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS), makes the mount detached and attaches it to
  /// that descriptor (docs/security.md, "Mounts inside a box").
  private func mount(_ box: String, _ request: MountRequest, _ step: Step) throws(KernelError) {
    // The overlay of a box's root is made by `overlay`, a device node's copy only by `mount dev`.
    switch request {
    case .device, .overlay:
      throw KernelError(step: step, call: step.firstCall, errno: .EINVAL, detail: "mount makes no \(request.kind)")
    default: break
    }
    let root = Array(try boxRoot(box, step: step).utf8)
    let helper = try helper(of: box, step: step)
    // The first openat2(2) is of the target, a second (bind) of the source: `mount bind / /`
    // names the same path twice.
    var opened = 0
    do {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .openBeneath(_, let path, _):
          opened += 1
          // A name shown escaped (\xff, see FileName) reaches the file it stands for.
          let call = MountCall.openBeneath(
            root: root, path: FileName.bytes(path), keep: opened == 1 ? .target : .source)
          return .helper(.mount(call), helper)
        default:
          guard let call = Self.mountCall(entry) else { throw unplanned(entry, step) }
          return .helper(.mount(call), helper)
        }
      }
    } catch {
      throw rootlessPolicy.mountError(error, fstype: request.fstype)
    }
    let inRootfs = boxState[box]?.inRootfs ?? false
    let namespace = try mountNamespace(box, step: step)
    // `mount dev` leaves a tmpfs and one bind mount per device node in it.
    let made: [MountRequest]
    if case .dev(let path) = request { made = ContainerDev.mounts(path) } else { made = [request] }
    mountLog += made.map { MountRecord(namespace: namespace, inRootfs: inRootfs, request: $0) }
    if case .proc(let target) = request { recordProcMount(box, at: target) }
  }

  /// The helper's call for an entry of a mount's plan that names no path of the box.
  static func mountCall(_ entry: SystemCall) -> MountCall? {
    func device(_ name: String) -> Int? { ContainerDev.devices.firstIndex { $0.name == name } }
    switch entry {
    case .fsopen(let fstype): return .fsopen(fstype: fstype)
    case .fsconfig(.setFD(key: "pidns", _)): return .fsconfigPidNamespace
    case .fsconfig(.setString(let key, let value)): return .fsconfigString(key: key, value: value)
    case .fsconfig(.create): return .fsconfigCreate
    case .fsmount(let attributes): return mountAttributes(attributes).map { .fsmount(attributes: $0) }
    case .openTreeClone: return .openTreeClone
    case .openTreeDevice(let name): return device(name).map { .openTreeDevice($0) }
    case .deviceReadOnly(let name): return device(name).map { .deviceReadOnly($0) }
    case .createDeviceFile(let name): return device(name).map { .createDeviceFile($0) }
    case .symlinkat(let target, let name): return .symlinkat(target: Array(target.utf8), name: Array(name.utf8))
    case .mkdirat(let name): return .mkdirat(name: Array(name.utf8))
    case .moveMount(.newMount, _): return .moveMount(from: .newMount, onto: .target)
    case .moveMount(.deviceCopy(let name), _):
      return device(name).map { .moveMount(from: .deviceCopy($0), onto: .deviceFile($0)) }
    default: return nil
    }
  }

  /// fsmount(2)'s attribute bits for the names a plan entry shows ("0" for none).
  static func mountAttributes(_ names: String) -> UInt32? {
    let bits: [String: Int32] = [
      "MOUNT_ATTR_RDONLY": BW_MOUNT_ATTR_RDONLY, "MOUNT_ATTR_NOSUID": BW_MOUNT_ATTR_NOSUID,
      "MOUNT_ATTR_NODEV": BW_MOUNT_ATTR_NODEV, "MOUNT_ATTR_NOEXEC": BW_MOUNT_ATTR_NOEXEC,
    ]
    var attributes: UInt32 = 0
    for name in names.split(separator: "|") where name != "0" {
      guard let bit = bits[String(name)] else { return nil }
      attributes |= UInt32(bit)
    }
    return attributes
  }

  /// `umount PATH`: umount2(2) takes a path, so the parent directory is opened beneath the box's
  /// root, made the working directory for a moment, and the last name is unmounted relative to
  /// it with UMOUNT_NOFOLLOW: no name is looked up through the host's root, and no link is
  /// followed.
  private func umount(_ box: String, _ path: String, _ step: Step) throws(KernelError) {
    let rootPath = try boxRoot(box, step: step)
    let root = Array(rootPath.utf8)
    let helper = try helper(of: box, step: step)
    let bytes = FileName.bytes(path)
    let slash = bytes.lastIndex(of: UInt8(ascii: "/")) ?? 0
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .openBeneath:
        let parent = slash == 0 ? [UInt8(ascii: "/")] : Array(bytes[..<slash])
        return .helper(.mount(.openBeneath(root: root, path: parent, keep: .parent)), helper)
      case .fchdirParent: return .helper(.mount(.fchdir(.parent)), helper)
      case .umount2 where path == "/": return .helper(.mount(.umountRoot(root: root)), helper)
      case .umount2:
        return .helper(.mount(.umount2(path: Array(bytes[(slash + 1)...]), flags: BW_UMOUNT_NOFOLLOW)), helper)
      default: throw unplanned(entry, step)
      }
    }
    let inRootfs = boxState[box]?.inRootfs ?? false
    let namespace = try mountNamespace(box, step: step)
    if let i = mountLog.lastIndex(where: {
      $0.namespace == namespace && $0.inRootfs == inRootfs && $0.request.target == path
    }) {
      mountLog.remove(at: i)
    }
  }

  /// `pivot-root` (runc's pivotRoot, with an explicit put_old so each entry shows) or `chroot`.
  private func enterRoot(_ box: String, pivot: Bool, _ step: Step) throws(KernelError) {
    guard let state = boxState[box], case .prepared(let image) = state.root, let rootfs = state.rootfsPath else {
      throw KernelError(step: step, call: step.firstCall, errno: .EINVAL, detail: "no root filesystem prepared")
    }
    let helper = try helper(of: box, step: step)
    let oldRoot = Array(Step.oldRootName.utf8)
    do throws(KernelError) {
      try make(step) { entry throws(KernelError) in
        let call: MountCall
        switch entry {
        case .mkdir(_, let mode): call = .mkdir(rootfs: Array(rootfs.utf8), name: oldRoot, mode: UInt32(mode))
        case .pivotRoot: call = .pivotRoot(putOld: oldRoot)
        case .chdirRoot: call = .chdir(Array("/".utf8))
        // Detach, do not unmount: the old root is busy (the helper stood in it a moment ago).
        case .umount2(let path, .detach):
          call = .umount2(path: Array(path.utf8), flags: Int32(MNT_DETACH) | BW_UMOUNT_NOFOLLOW)
        case .rmdir(let path): call = .rmdir(Array(path.utf8))
        case .chroot: call = .chroot(rootfs: Array(rootfs.utf8))
        default: throw unplanned(entry, step)
        }
        return .helper(.mount(call), helper)
      }
    } catch {
      throw pivot && error.failed == .pivotRoot(box: box) ? pivotRefusal(error, box) : error
    }
    boxState[box]?.root = pivot ? .pivoted(image: image) : .chrooted(image: image)
    if pivot {
      // The old root was detached: mounts made in the host's tree are gone with it, for every
      // process of the namespace.
      let namespace = try mountNamespace(box, step: step)
      mountLog.removeAll { $0.namespace == namespace && !$0.inRootfs }
    }
  }

  /// The directory the box's paths start from, as the helper sees it: the box's root filesystem
  /// while it is prepared but not entered, else "/" (the box's own root after pivot-root or
  /// chroot, the host's while the box has none).
  func boxRoot(_ box: String, step: Step) throws(KernelError) -> String {
    guard let state = boxState[box] else { throw noSuchBox(box, step: step) }
    if case .prepared = state.root, let rootfs = state.rootfsPath { return rootfs }
    return "/"
  }
}
