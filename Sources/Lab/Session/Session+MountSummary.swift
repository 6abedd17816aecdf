import Kernel

// What a mount step achieved (Session.summary): the mount area's own sentences.
extension Session {
  /// `mount`, `umount`, `propagation`, `pivot-root` and `chroot`, decided by the kernel's facts:
  /// another box's mount namespace that the mount reached by propagation is one of another inode
  /// whose mounts changed. The tree gives only the namespace labels.
  func mountSummary(_ step: MountStep, _ result: StepResult, before: FactsBefore, after t: StateValue) -> [String] {
    switch step {
    case .mount(let box, .dev(let path)):
      let names = ContainerDev.devices.map(\.name).joined(separator: " ")
      return [
        "mounted a container's /dev on \(path) in \(box)'s mount namespace \(namespaceLabel(box, .mnt, in: t)): a tmpfs with the host's \(names) bound in; the host's mounts did not change"
      ]
    case .mount(let box, let request):
      // A shared mount's peers receive the mount too (mount_namespaces(7), "Shared subtrees"):
      // name the other boxes whose mounts changed, so the headline shows the leak the diff shows.
      let reached = boxNames.filter {
        $0 != box && facts.box($0)?.process.namespaces[.mnt] != facts.box(box)?.process.namespaces[.mnt]
          && before.mounts[$0] != facts.box($0)?.process.mounts
      }
      let propagated =
        reached.isEmpty
        ? ""
        : ", and by propagation in "
          + reached.map { "\($0)'s \(namespaceLabel($0, .mnt, in: t))" }.joined(separator: " and ")
      return [
        "mounted \(request.fstype) on \(request.target) in \(box)'s mount namespace \(namespaceLabel(box, .mnt, in: t))\(propagated); the host's mounts did not change"
      ]
    case .umount(let box, let path):
      return ["unmounted \(path) in \(box)'s mount namespace \(namespaceLabel(box, .mnt, in: t))"]
    case .propagation(let box, let mode):
      let now = facts.box(box)?.process.rootPropagation
      return [
        "\(box)'s mounts are now \(now?.rawValue ?? "?")"
          + (now == mode ? "" : " (a slave needs a master to receive from; none here)")
      ]
    case .pivotRoot(let box):
      return [
        "\(box)'s root is now its \(facts.box(box)?.process.root.text ?? "") root filesystem; the host's mounts are gone from its namespace"
      ]
    case .chroot(let box):
      return [
        "\(box)'s root directory is now its root filesystem, but its mount namespace still holds every host mount"
      ]
    }
  }
}
