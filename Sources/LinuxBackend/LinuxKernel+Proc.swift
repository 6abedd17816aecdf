import CShim
import Glibc
import Kernel

/// `BOX.pid.proc` (docs/state-paths.md): which pid namespace the proc file system at a box's
/// /proc shows. A proc mount lists the processes of the pid namespace it was made for, whoever
/// reads it; mountinfo does not say which one that is, so it is found from what the proc shows.
extension LinuxKernel {
  /// The pid namespace of the proc at /proc in the box's view: reached through /proc/HELPER/root,
  /// which is the helper's root in the helper's own mount namespace (as the file commands reach
  /// the box's files, BoxFiles), with /proc resolved beneath it. nil when that is not a proc.
  ///
  /// - A proc shows its reader as "self" only when the reader is in its pid namespace or one
  ///   below it, and boxwalk is in the host's: "self" naming boxwalk's own PID means the proc is
  ///   of boxwalk's pid namespace (the host's /proc, the one a box sees until it mounts its own).
  ///   That needs no look at PID 1, whose ns link an unprivileged boxwalk may not read for the
  ///   machine's init (the rootless backend).
  /// - Otherwise its PID 1 is the init of the namespace it shows, and /proc/1/ns/pid names it.
  /// - A namespace with no process yet (or whose PID 1 died) shows neither: then the proc is
  ///   one a `mount proc` made, recorded by its superblock's device (`recordProcMount`).
  func procNamespace(of helper: HelperProcess) -> UInt64? {
    let rootfd = open("\(procfs.root)/\(helper.pid)/root", Int32(BW_O_PATH) | O_DIRECTORY | O_CLOEXEC)
    guard rootfd >= 0 else { return nil }
    defer { close(rootfd) }
    let procfd = bw_openat2(
      rootfd, "proc", Int32(BW_O_PATH) | O_DIRECTORY | O_CLOEXEC, 0, UInt64(BW_RESOLVE_IN_ROOT | BW_RESOLVE_NO_SYMLINKS)
    )
    guard procfd >= 0 else { return nil }
    defer { close(procfd) }
    guard bw_is_proc_fs(procfd) == 1 else { return nil }
    if SmallFiles.readLink("self", in: procfd) == String(getpid()) {
      return try? procfs.namespaceInode(pid: "self", shown: "self", kind: .pid)
    }
    // The namespace file's inode is the namespace's (what its link reads as pid:[N]).
    var initNamespace = stat()
    if fstatat(procfd, "1/ns/pid", &initNamespace, 0) == 0 { return UInt64(initNamespace.st_ino) }
    var st = stat()
    guard fstat(procfd, &st) == 0 else { return nil }
    return procMounts[UInt64(st.st_dev)]
  }

  /// After `mount proc PATH`: the new proc's device, with the pid namespace the helper made it
  /// for (its pid_for_children, which a namespace with no process yet still has).
  func recordProcMount(_ box: String, at target: String) {
    guard let helper = helper(named: box),
      let pidNamespace = try? namespaces(pid: String(helper.pid), shown: "<\(box)>")[.pid]
    else { return }
    // The helper resolved the target beneath the prepared root filesystem, or else "/" (its
    // own root: the box's after pivot-root or chroot, the host's while it has none).
    var base = "/"
    if case .prepared = boxState[box]?.root, let rootfs = boxState[box]?.rootfsPath { base = rootfs }
    let rootfd = open("\(procfs.root)/\(helper.pid)/root", Int32(BW_O_PATH) | O_DIRECTORY | O_CLOEXEC)
    guard rootfd >= 0 else { return }
    defer { close(rootfd) }
    let basefd = bw_openat2(
      rootfd, BoxFiles.relative(base), Int32(BW_O_PATH) | O_DIRECTORY | O_CLOEXEC, 0, UInt64(BW_RESOLVE_IN_ROOT))
    guard basefd >= 0 else { return }
    defer { close(basefd) }
    let fd = bw_openat2(
      basefd, BoxFiles.relative(target), Int32(BW_O_PATH) | O_DIRECTORY | O_CLOEXEC, 0,
      UInt64(BW_RESOLVE_IN_ROOT | BW_RESOLVE_NO_SYMLINKS))
    guard fd >= 0 else { return }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, bw_is_proc_fs(fd) == 1 else { return }
    procMounts[UInt64(st.st_dev)] = pidNamespace
  }
}
