/// The two cgroup interfaces of Linux.
public enum CgroupVersion: String, Equatable, Sendable {
  /// One hierarchy per controller (or group of controllers), Documentation/admin-guide/cgroup-v1/.
  case v1
  /// The unified hierarchy, Documentation/admin-guide/cgroup-v2.rst.
  case v2
}
