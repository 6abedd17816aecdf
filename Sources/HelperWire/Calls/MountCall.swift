/// The mount area's plan entries as the helper makes them (HelperCall.swift): mount(2) of every
/// kind with the new mount API, umount2(2), propagation, pivot_root(2) and chroot(2).
///
/// The new mount API passes descriptors from call to call: openat2(2) gives the directory a
/// mount goes on, fsopen(2) a file system context, fsmount(2) or open_tree(2) a mount attached
/// nowhere yet, and move_mount(2) joins them. The helper keeps each under a `Handle` for the
/// entries after it in the same request (boxwalk-helper's CallState); every name a path stands
/// for is resolved beneath the box's root by the helper itself (docs/security.md, "Mounts
/// inside a box").
package enum MountCall: Equatable, Sendable {
  /// openat2(2) of PATH beneath ROOT (the directory the box's paths start from: its root
  /// filesystem before pivot-root, "/" after or without one) with O_PATH|O_DIRECTORY and
  /// RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS; the descriptor is kept as `keep`.
  case openBeneath(root: [UInt8], path: [UInt8], keep: Handle)
  /// fsopen(2): a new file system context, kept as `.context`.
  case fsopen(fstype: String)
  /// fsconfig(FSCONFIG_SET_FD, "pidns") with the helper's pid_for_children namespace.
  case fsconfigPidNamespace
  /// fsconfig(FSCONFIG_SET_STRING, KEY, VALUE).
  case fsconfigString(key: String, value: String)
  /// fsconfig(FSCONFIG_CMD_CREATE): the superblock is made.
  case fsconfigCreate
  /// fsmount(2) with these MOUNT_ATTR_* bits: the new mount, kept as `.newMount`.
  case fsmount(attributes: UInt32)
  /// open_tree(2) with OPEN_TREE_CLONE|AT_RECURSIVE of `.source`: a bind mount, kept as
  /// `.newMount`.
  case openTreeClone
  /// open_tree(2) with OPEN_TREE_CLONE of the helper's handle on the host's device node number
  /// N (Framing.containerDevices), kept as `.deviceCopy(N)`.
  case openTreeDevice(Int)
  /// mount_setattr(2) making `.deviceCopy(N)` read-only, nosuid and noexec.
  case deviceReadOnly(Int)
  /// openat(2) creating device node N's empty file in `.newMount`, kept as `.deviceFile(N)`.
  case createDeviceFile(Int)
  /// symlinkat(2) in `.newMount`.
  case symlinkat(target: [UInt8], name: [UInt8])
  /// mkdirat(2) in `.newMount`, mode 0755.
  case mkdirat(name: [UInt8])
  /// move_mount(2) of the mount kept as `from` onto the directory or file kept as `onto`.
  case moveMount(from: Handle, onto: Handle)
  /// fchdir(2) to the directory kept as the handle; the working directory is restored when the
  /// request ends.
  case fchdir(Handle)
  /// umount2(2) of PATH, relative to the working directory, with these flags.
  case umount2(path: [UInt8], flags: Int32)
  /// umount2(2) with UMOUNT_NOFOLLOW of the box's root mount ROOT, named in its parent.
  case umountRoot(root: [UInt8])
  /// mkdir(2) of NAME inside ROOTFS (the box's root filesystem, which becomes the working
  /// directory), mode MODE.
  case mkdir(rootfs: [UInt8], name: [UInt8], mode: UInt32)
  /// pivot_root(".", PUTOLD), from inside the new root.
  case pivotRoot(putOld: [UInt8])
  case chdir([UInt8])
  case rmdir([UInt8])
  /// chroot(2) into ROOTFS, named "." from inside it.
  case chroot(rootfs: [UInt8])
  /// mount(NULL, "/", NULL, MS_REC|FLAG, NULL): FLAG is MS_PRIVATE, MS_SLAVE or MS_SHARED.
  case setPropagation(flag: UInt32)
  /// The overlay's fsopen(2) entry: first each directory the later entries name (the lower
  /// layers top first, then the upper and work directories, then TARGET, where the overlay goes)
  /// is reached as the helper's credentials allow, by name or through an anchor (boxwalk-helper's
  /// Anchors.swift); then fsopen("overlay"), kept as `.context`. A directory that cannot be
  /// reached fails the entry that names it. The upper and work paths come with every backslash
  /// doubled, as overlayfs unescapes them from a string.
  case fsopenOverlay(directories: [[UInt8]], target: [UInt8])
  /// fsconfig(2) of KEY ("lowerdir+", "upperdir", "workdir") with directory N of
  /// `fsopenOverlay`: its path (FSCONFIG_SET_STRING), or its descriptor (FSCONFIG_SET_FD) when a
  /// mount hides the path. After "workdir", in a user namespace other than the initial one, the
  /// "userxattr" flag too.
  case overlayDirectory(key: String, index: Int)
  /// move_mount(2) of `.newMount` onto `fsopenOverlay`'s TARGET.
  case moveOverlayRoot

  /// What a descriptor one entry opens is kept as, for the entries after it.
  package enum Handle: Hashable, Sendable {
    /// The directory a mount goes on (openat2(2)).
    case target
    /// A bind mount's source directory (openat2(2)).
    case source
    /// The parent of what `umount` unmounts (openat2(2)).
    case parent
    /// fsopen(2)'s file system context.
    case context
    /// fsmount(2)'s or open_tree(2)'s mount, attached nowhere yet.
    case newMount
    /// The copy of the host's device node N.
    case deviceCopy(Int)
    /// The empty file in the new tmpfs that device node N's copy goes on.
    case deviceFile(Int)

    /// The handle as the wire spells it.
    package var name: String {
      switch self {
      case .target: "target"
      case .source: "source"
      case .parent: "parent"
      case .context: "context"
      case .newMount: "mount"
      case .deviceCopy(let n): "copy\(n)"
      case .deviceFile(let n): "file\(n)"
      }
    }

    package init?(name: String) {
      let plain: [Handle] = [.target, .source, .parent, .context, .newMount]
      if let found = plain.first(where: { $0.name == name }) {
        self = found
      } else if name.hasPrefix("copy"), let n = Int(name.dropFirst(4)), n >= 0, String(n) == name.dropFirst(4) {
        self = .deviceCopy(n)
      } else if name.hasPrefix("file"), let n = Int(name.dropFirst(4)), n >= 0, String(n) == name.dropFirst(4) {
        self = .deviceFile(n)
      } else {
        return nil
      }
    }
  }

  /// The entry's fields: its name, then its arguments.
  package var fields: [[UInt8]] {
    let t = Framing.text
    return switch self {
    case .openBeneath(let root, let path, let keep): [t("openat2"), root, path, t(keep.name)]
    case .fsopen(let fstype): [t("fsopen"), t(fstype)]
    case .fsconfigPidNamespace: [t("fsconfig-pidns")]
    case .fsconfigString(let key, let value): [t("fsconfig-string"), t(key), t(value)]
    case .fsconfigCreate: [t("fsconfig-create")]
    case .fsmount(let attributes): [t("fsmount"), Framing.number(attributes)]
    case .openTreeClone: [t("open_tree")]
    case .openTreeDevice(let n): [t("open_tree-device"), Framing.number(n)]
    case .deviceReadOnly(let n): [t("mount_setattr-device"), Framing.number(n)]
    case .createDeviceFile(let n): [t("openat-device-file"), Framing.number(n)]
    case .symlinkat(let target, let name): [t("symlinkat"), target, name]
    case .mkdirat(let name): [t("mkdirat"), name]
    case .moveMount(let from, let onto): [t("move_mount"), t(from.name), t(onto.name)]
    case .fchdir(let handle): [t("fchdir"), t(handle.name)]
    case .umount2(let path, let flags): [t("umount2"), path, Framing.number(flags)]
    case .umountRoot(let root): [t("umount2-root"), root]
    case .mkdir(let rootfs, let name, let mode): [t("mkdir"), rootfs, name, Framing.number(mode)]
    case .pivotRoot(let putOld): [t("pivot_root"), putOld]
    case .chdir(let path): [t("chdir"), path]
    case .rmdir(let path): [t("rmdir"), path]
    case .chroot(let rootfs): [t("chroot"), rootfs]
    case .setPropagation(let flag): [t("propagation"), Framing.number(flag)]
    case .fsopenOverlay(let directories, let target):
      [t("fsopen-overlay"), target] + directories
    case .overlayDirectory(let key, let n): [t("fsconfig-overlay"), t(key), Framing.number(n)]
    case .moveOverlayRoot: [t("move_mount-overlay")]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    func handle(_ n: Int) -> Handle? { Handle(name: Framing.string(args[n])) }
    func index(_ n: Int) -> Int? { Framing.integer(args[n], as: Int.self).flatMap { $0 >= 0 ? $0 : nil } }
    let made: MountCall? =
      switch (name, args.count) {
      case ("openat2", 3): handle(2).map { .openBeneath(root: args[0], path: args[1], keep: $0) }
      case ("fsopen", 1): .fsopen(fstype: Framing.string(args[0]))
      case ("fsconfig-pidns", 0): .fsconfigPidNamespace
      case ("fsconfig-string", 2): .fsconfigString(key: Framing.string(args[0]), value: Framing.string(args[1]))
      case ("fsconfig-create", 0): .fsconfigCreate
      case ("fsmount", 1): Framing.integer(args[0], as: UInt32.self).map { .fsmount(attributes: $0) }
      case ("open_tree", 0): .openTreeClone
      case ("open_tree-device", 1): index(0).map { .openTreeDevice($0) }
      case ("mount_setattr-device", 1): index(0).map { .deviceReadOnly($0) }
      case ("openat-device-file", 1): index(0).map { .createDeviceFile($0) }
      case ("symlinkat", 2): .symlinkat(target: args[0], name: args[1])
      case ("mkdirat", 1): .mkdirat(name: args[0])
      case ("move_mount", 2):
        handle(0).flatMap { from in handle(1).map { .moveMount(from: from, onto: $0) } }
      case ("fchdir", 1): handle(0).map { .fchdir($0) }
      case ("umount2", 2): Framing.integer(args[1], as: Int32.self).map { .umount2(path: args[0], flags: $0) }
      case ("umount2-root", 1): .umountRoot(root: args[0])
      case ("mkdir", 3):
        Framing.integer(args[2], as: UInt32.self).map { .mkdir(rootfs: args[0], name: args[1], mode: $0) }
      case ("pivot_root", 1): .pivotRoot(putOld: args[0])
      case ("chdir", 1): .chdir(args[0])
      case ("rmdir", 1): .rmdir(args[0])
      case ("chroot", 1): .chroot(rootfs: args[0])
      case ("propagation", 1): Framing.integer(args[0], as: UInt32.self).map { .setPropagation(flag: $0) }
      case ("fsopen-overlay", 4...):
        args.allSatisfy({ !$0.isEmpty }) ? .fsopenOverlay(directories: Array(args.dropFirst()), target: args[0]) : nil
      case ("fsconfig-overlay", 2): index(1).map { .overlayDirectory(key: Framing.string(args[0]), index: $0) }
      case ("move_mount-overlay", 0): .moveOverlayRoot
      default: nil
      }
    guard let made else { return nil }
    self = made
  }
}
