import Kernel

extension CgroupLayout {
  /// The driver for this layout (see `choice`), with its files under `root`. Every mount the
  /// driver uses must be `root` itself or below it: paths in the actions it returns are relative
  /// to `root`, so that the REPL can print them under /sys/fs/cgroup.
  package func makeDriver(root: String = "/sys/fs/cgroup") throws(CgroupError) -> any CgroupDriver {
    try makeDriver(root: root, files: HostCgroupFileSystem(), signal: killProcess, retry: CgroupRetryPolicy())
  }

  func makeDriver(
    root: String, files: any CgroupFileSystem, signal: @escaping ProcessSignaller, retry: CgroupRetryPolicy
  ) throws(CgroupError) -> any CgroupDriver {
    switch choice {
    case .none(let reason):
      throw CgroupError(call: "open(\"/proc/self/mountinfo\")", errno: .ENODEV, explanation: reason)
    case .v2:
      guard let unified, let hierarchy = Self.relative(unified.mountPoint, to: root) else {
        throw CgroupError(
          call: "open(\"/proc/self/mountinfo\")", errno: .ENODEV,
          explanation: "cgroup2 is mounted at \(unified?.mountPoint ?? "?"), not under \(root)")
      }
      return CgroupV2Driver(root: root, hierarchy: hierarchy, files: files, signal: signal, retry: retry)
    case .v1:
      let hierarchies = v1ControllerMounts.compactMapValues { Self.relative($0, to: root) }
      return CgroupV1Driver(root: root, hierarchies: hierarchies, files: files, signal: signal, retry: retry)
    }
  }

  /// `/sys/fs/cgroup/memory` relative to `/sys/fs/cgroup` is `memory`; the root itself is "";
  /// anything elsewhere is nil.
  static func relative(_ mountPoint: String, to root: String) -> String? {
    let base = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    if mountPoint == base { return "" }
    let prefix = base == "/" ? "/" : base + "/"
    return mountPoint.hasPrefix(prefix) ? String(mountPoint.dropFirst(prefix.count)) : nil
  }
}
