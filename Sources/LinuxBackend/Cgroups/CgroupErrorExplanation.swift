import Kernel
import Glibc

/// The kernel rule behind a failed cgroup file operation, in words for the learner. The errno
/// alone is cryptic here: EBUSY from cgroup.procs means "no internal processes", not "busy".
enum CgroupErrorExplanation {
  /// A failed write to `file` (an interface file's name) on cgroup `version`.
  static func write(_ error: Int32, file: String, version: CgroupVersion) -> String {
    switch (error, file, version) {
    case (ENOENT, _, _):
      return "the cgroup or its \(file) file does not exist"
    case (EBUSY, "cgroup.procs", .v2):
      return "on cgroup v2 only a cgroup with no controllers enabled in its cgroup.subtree_control may hold "
        + "processes (the no-internal-processes rule, cgroup-v2.rst); move processes into a child cgroup first"
    case (EBUSY, "cgroup.subtree_control", _):
      return "this cgroup holds processes, and on cgroup v2 a cgroup that holds processes cannot hand "
        + "controllers to children (the no-internal-processes rule, cgroup-v2.rst); only the root is exempt"
    case (EINVAL, "cgroup.subtree_control", _), (ENODEV, "cgroup.subtree_control", _):
      return "a controller is not available here: the parent's cgroup.subtree_control must enable it first"
    case (ESRCH, "cgroup.procs", _), (ESRCH, "tasks", _):
      return "there is no process with that PID"
    case (EOPNOTSUPP, "cgroup.procs", _):
      return "the cgroup is threaded or in an invalid domain state (cgroup-v2.rst, \"Threads\")"
    case (EACCES, _, _), (EPERM, _, _):
      return "moving a process or writing a limit needs write access to the file, and for cgroup.procs also to "
        + "the cgroup.procs of the common ancestor (root, or a delegated subtree)"
    case (EINVAL, "memory.limit_in_bytes", _):
      return "the kernel refused the value (on v1 the memory limit may not exceed memory.memsw.limit_in_bytes)"
    case (EINVAL, "cpu.max", _), (EINVAL, "cpu.cfs_quota_us", _), (EINVAL, "cpu.cfs_period_us", _):
      return "the kernel refused the quota or period (a child's CPU share may not exceed its parent's)"
    case (EINVAL, _, _):
      return "the kernel refused the value written to \(file)"
    case (EBUSY, _, _):
      return "the kernel is busy with this cgroup (\(file)); try again"
    default:
      return "writing \(file) failed"
    }
  }
}
