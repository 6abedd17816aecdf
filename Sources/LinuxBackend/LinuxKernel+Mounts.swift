import CShim
import Glibc
import HelperWire
import Kernel

// The mount steps on the real kernel: mount, umount, propagation, pivot_root and chroot, made by
// the box's helper beneath the box's root, and recorded by mount namespace in `mountLog`.
extension LinuxKernel {
  /// `mount`, `umount`, `propagation`, `pivot-root` and `chroot`.
  func performMountStep(_ s: MountStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .mount(let box, let request):
      // The helper resolves both paths beneath the box's root itself (openat2 RESOLVE_IN_ROOT).
      let root = Array(try boxRoot(box, step: step).utf8)
      var source: [UInt8] = []
      // A name shown escaped (\xff, see FileName) reaches the file it stands for.
      if case .bind(let from, _) = request { source = FileName.bytes(from) }
      let kind = request.kind
      // The overlay of a box's root is made by `overlay`, never by `mount`.
      guard let wireKind = HelperRequest.MountKind(rawValue: kind) else {
        throw KernelError(step: step, call: step.firstCall, errno: .EINVAL, detail: "mount makes no \(kind)")
      }
      do {
        try ask(
          box, .mount(kind: wireKind, root: root, source: source, target: FileName.bytes(request.target)), step: step)
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
    case .umount(let box, let path):
      try ask(box, .umount(root: Array(try boxRoot(box, step: step).utf8), path: FileName.bytes(path)), step: step)
      let inRootfs = boxState[box]?.inRootfs ?? false
      let namespace = try mountNamespace(box, step: step)
      if let i = mountLog.lastIndex(where: {
        $0.namespace == namespace && $0.inRootfs == inRootfs && $0.request.target == path
      }) {
        mountLog.remove(at: i)
      }
    case .propagation(let box, let mode):
      let flag: UInt32 = mode == .private ? UInt32(MS_PRIVATE) : mode == .slave ? UInt32(MS_SLAVE) : UInt32(MS_SHARED)
      try ask(box, .propagation(flag: flag), step: step)
    case .pivotRoot(let box), .chroot(let box):
      guard let state = boxState[box], case .prepared(let image) = state.root, let rootfs = state.rootfsPath else {
        throw KernelError(step: step, call: step.firstCall, errno: .EINVAL, detail: "no root filesystem prepared")
      }
      let isPivot = step.kindName == "pivot_root"
      do throws(KernelError) {
        try ask(box, isPivot ? .pivot(rootfs: Array(rootfs.utf8)) : .chroot(rootfs: Array(rootfs.utf8)), step: step)
      } catch {
        throw isPivot ? pivotRefusal(error, box) : error
      }
      boxState[box]?.root = isPivot ? .pivoted(image: image) : .chrooted(image: image)
      if isPivot {
        // The old root was detached: mounts made in the host's tree are gone with it, for every
        // process of the namespace.
        let namespace = try mountNamespace(box, step: step)
        mountLog.removeAll { $0.namespace == namespace && !$0.inRootfs }
      }
    }
    return .none
  }

  /// A path inside the box's root filesystem, as the helper must name it: before pivot_root or
  /// chroot the helper stands in the host's tree, so a prepared root filesystem is reached
  /// through its host path.
  /// The directory the box's paths start from, as the helper sees it: the box's root filesystem
  /// while it is prepared but not entered, else "/" (the box's own root after pivot-root or
  /// chroot, the host's while the box has none).
  func boxRoot(_ box: String, step: Step) throws(KernelError) -> String {
    guard let state = boxState[box] else { throw noSuchBox(box, step: step) }
    if case .prepared = state.root, let rootfs = state.rootfsPath { return rootfs }
    return "/"
  }
}
