import Kernel

/// The cgroups a process is in, as /proc/PID/cgroup lists them (cgroups(7), "/proc files"):
///
///     4:memory:/user.slice/session-2.scope        cgroup v1: hierarchy id, its controllers, path
///     2:cpu,cpuacct:/user.slice
///     1:name=systemd:/user.slice/session-2.scope  a v1 hierarchy with no controller, named
///     0::/user.slice/session-2.scope              cgroup v2: id 0, no controllers
///
/// Each path is relative to the root of the reader's cgroup namespace. The text comes from the
/// kernel, but it names cgroups that processes (a box's too) may create and name: a path may hold
/// any byte but "/" separators' NUL, even ":" and spaces, so only the first two colons split.
package struct ProcCgroup: Equatable, Sendable {
  package struct Line: Equatable, Sendable {
    package var hierarchyID: Int
    /// Empty for cgroup v2 and for a named v1 hierarchy without controllers.
    package var controllers: [String]
    package var path: String
  }

  package var lines: [Line]

  /// Lines that do not have the three fields, a numeric id and an absolute path are skipped.
  package init(text: String) {
    lines = text.split(separator: "\n").compactMap { raw -> Line? in
      let parts = raw.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count == 3, let id = Int(parts[0]), id >= 0, parts[2].hasPrefix("/") else { return nil }
      let controllers = parts[1].split(separator: ",").map(String.init)
      return Line(hierarchyID: id, controllers: controllers, path: String(parts[2]))
    }
  }

  /// The cgroup v2 path (the `0::` line), if the process is in the unified hierarchy.
  package var unifiedPath: String? {
    lines.first { $0.hierarchyID == 0 && $0.controllers.isEmpty }?.path
  }

  /// The path in the v1 hierarchy that holds `controller`.
  package func path(ofController controller: String) -> String? {
    lines.first { $0.hierarchyID != 0 && $0.controllers.contains(controller) }?.path
  }
}
