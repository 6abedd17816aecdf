import Kernel

// Why the kernel does a mount step (StepText.why) and the shell line that does the same
// (StepText.shell): the mount area's own text.
extension StepText {
  /// `mount`, `umount`, `propagation`, `pivot-root` and `chroot`.
  static func whyMount(_ step: MountStep) -> [String] {
    switch step {
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
    }
  }

  /// The shell line of a mount step (StepText.shell); `root` is where the box's `/` was.
  static func mountShell(_ step: MountStep, root: RootFacts) -> String {
    // A path of the box as nsenter --mount names it: through the root filesystem's directory
    // while the box has not pivoted into it (prepared, or only chrooted), as runc's
    // `mount --rbind rootfs rootfs` does; as it is otherwise.
    func boxPath(_ box: String, _ path: String) -> String {
      switch root {
      case .prepared, .chrooted: "<\(box) rootfs>" + (path == "/" ? "" : ShellWord.quote(path))
      case .host, .pivoted: ShellWord.quote(path)
      }
    }
    switch step {
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
    }
  }

  /// How to get past an errno for a mount step, when there is one way (StepText.errnoFix).
  static func mountErrnoFix(_ step: MountStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.pivotRoot, .EINVAL) where detail == Step.pivotRootShared:
      return "propagation private (or slave, as runc makes them), then pivot-root"
    default:
      return nil
    }
  }

  /// What an errno means for a mount step, when there is something specific to teach (StepText.errnoHint).
  static func mountErrnoHint(_ step: MountStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.pivotRoot, .EINVAL) where detail == Step.pivotRootShared:
      return
        "pivot_root refuses when the current root or the new root's parent is a shared mount: moving the root would propagate to every peer of that mount (pivot_root(2))"
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
    default:
      return nil
    }
  }
}
