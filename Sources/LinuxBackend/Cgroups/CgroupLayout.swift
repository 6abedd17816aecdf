import Kernel

/// Which cgroup hierarchies this host has, and where each controller lives: what `boxwalk doctor`
/// reports and what decides between the v1 and the v2 driver.
///
/// Three layouts exist in the wild (cgroups(7); systemd's "CGROUP_DELEGATION" and "The Unified
/// Hierarchy" pages):
/// - unified (pure v2): one cgroup2 mount at /sys/fs/cgroup; cgroup.controllers at its root lists
///   every controller. Most current distributions.
/// - legacy (pure v1): one mount per hierarchy under /sys/fs/cgroup, each with one or more
///   controllers bound to it (memory, pids, cpu,cpuacct, freezer, ...).
/// - hybrid: the v1 hierarchies, plus a cgroup2 mount (often /sys/fs/cgroup/unified) that holds
///   no controller, or almost none: a controller is bound to one hierarchy at a time, and the v1
///   mounts took them first. systemd used it to track services while keeping v1 limits.
///
/// Detection is a pure function of the mountinfo text and of cgroup2's cgroup.controllers, so it is
/// tested with fixtures; `probe` reads them from the running host.
package struct CgroupLayout: Equatable, Sendable, CustomStringConvertible {
  package enum Kind: String, Equatable, Sendable {
    case unified = "cgroup v2"
    case legacy = "cgroup v1"
    case hybrid = "hybrid"
    case none = "none"
  }

  /// The driver the layout calls for.
  package enum Choice: Equatable, Sendable {
    case v2
    case v1
    /// Nothing usable: the reason, for doctor and for the error of `cgroup new`.
    case none(String)
  }

  /// The controllers the `cgroup set` keys need (memory.max, pids.max, cpu.max).
  package static let limitControllers = ["memory", "pids", "cpu"]
  /// What the v1 driver also uses: cpuacct for CPU usage, freezer to kill without races.
  package static let v1Controllers = ["memory", "pids", "cpu", "cpuacct", "freezer"]

  /// The v1 hierarchies in mount order, including those with no controller (`name=systemd`).
  package var v1Mounts: [CgroupMount]
  /// The visible cgroup2 mount, if any.
  package var unified: CgroupMount?
  /// cgroup.controllers at the root of `unified`: the controllers cgroup2 can hand out.
  package var unifiedControllers: [String]

  package init(mounts: [CgroupMount], unifiedControllers: [String]) {
    v1Mounts = mounts.filter { if case .v1 = $0.kind { true } else { false } }
    // Prefer cgroup2 mounted at the conventional place; otherwise the first one.
    let v2 = mounts.filter { $0.kind == .v2 }
    unified = v2.first { $0.mountPoint == "/sys/fs/cgroup" } ?? v2.first
    self.unifiedControllers = unified == nil ? [] : unifiedControllers
  }

  /// Parse a mountinfo text; `unifiedControllers` is the text of cgroup.controllers at the
  /// cgroup2 mount ("cpuset cpu io memory pids"), or nil when there is none.
  package init(mountinfo: String, unifiedControllers: String?) {
    self.init(
      mounts: CgroupMount.parse(mountinfo: mountinfo),
      unifiedControllers: (unifiedControllers ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
  }

  /// Read /proc/self/mountinfo and cgroup2's cgroup.controllers from the host. Missing files
  /// give an empty layout (kind `.none`), not an error: doctor reports it.
  package static func probe(procRoot: String = "/proc") -> CgroupLayout {
    let mountinfo = (try? SmallFiles.readText(procRoot + "/self/mountinfo")) ?? ""
    let mounts = CgroupMount.parse(mountinfo: mountinfo)
    let partial = CgroupLayout(mounts: mounts, unifiedControllers: [])
    guard let unified = partial.unified else { return partial }
    let controllers = try? SmallFiles.readText(unified.mountPoint + "/cgroup.controllers")
    return CgroupLayout(mountinfo: mountinfo, unifiedControllers: controllers)
  }

  /// controller -> mount point of its v1 hierarchy. A hierarchy mounted twice (a bind mount) is
  /// the same hierarchy: the first mount point wins.
  package var v1ControllerMounts: [String: String] {
    var result: [String: String] = [:]
    for mount in v1Mounts {
      guard case .v1(let controllers, _) = mount.kind else { continue }
      for controller in controllers where result[controller] == nil { result[controller] = mount.mountPoint }
    }
    return result
  }

  package var kind: Kind {
    let v1 = !v1ControllerMounts.isEmpty
    switch (v1, unified != nil) {
    case (true, true): return .hybrid
    case (true, false): return .legacy
    case (false, true): return .unified
    case (false, false): return .none
    }
  }

  /// The driver to use: cgroup2 when it holds at least as many of memory, pids and cpu as the v1
  /// hierarchies do (a controller is in one place at a time), otherwise v1. On a hybrid host like
  /// the one BENCHMARKS.md was measured on, cgroup2 holds none of them, so v1 it is.
  package var choice: Choice {
    let onV2 = Self.limitControllers.filter { unifiedControllers.contains($0) }.count
    let onV1 = Self.limitControllers.filter { v1ControllerMounts[$0] != nil }.count
    if unified != nil && onV2 >= onV1 { return .v2 }
    if onV1 > 0 { return .v1 }
    return .none("no cgroup file system with the memory, pids or cpu controller is mounted")
  }

  /// Controllers boxwalk needs that the chosen hierarchy lacks.
  package var missingControllers: [String] {
    switch choice {
    case .v2: return Self.limitControllers.filter { !unifiedControllers.contains($0) }
    case .v1: return Self.v1Controllers.filter { v1ControllerMounts[$0] == nil }
    case .none: return Self.limitControllers
    }
  }

  /// One line for `boxwalk doctor`, e.g.
  /// `hybrid: v1 controllers cpu cpuacct memory pids freezer; cgroup2 at /sys/fs/cgroup/unified
  /// with none; boxwalk uses the v1 controllers`.
  package var description: String {
    var parts: [String] = []
    let hierarchies = v1Mounts.compactMap { mount -> String? in
      guard case .v1(let controllers, _) = mount.kind, !controllers.isEmpty else { return nil }
      return controllers.joined(separator: ",")
    }
    if !hierarchies.isEmpty { parts.append("v1 controllers " + hierarchies.joined(separator: " ")) }
    if let unified {
      let held = unifiedControllers.isEmpty ? "none" : unifiedControllers.joined(separator: " ")
      parts.append("cgroup2 at \(unified.mountPoint) with \(held)")
    }
    switch choice {
    case .v2: parts.append("boxwalk uses cgroup2")
    case .v1: parts.append("boxwalk uses the v1 controllers")
    case .none(let reason): parts.append(reason)
    }
    if case .none = choice {
    } else if !missingControllers.isEmpty {
      parts.append("missing " + missingControllers.joined(separator: " "))
    }
    return kind.rawValue + ": " + parts.joined(separator: "; ")
  }
}
