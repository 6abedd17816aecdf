import Kernel

/// One cgroup file system mount, as a line of /proc/PID/mountinfo describes it (proc(5)):
///
///     35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
///     41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
///
/// Fields: mount id, parent id, major:minor, root of the mount inside its file system, mount
/// point, mount options, optional fields ending with "-", file system type, source, super options.
/// For a cgroup v1 mount the super options name the controllers bound to that hierarchy
/// (cgroups(7), "Cgroups version 1 controllers"); a cgroup2 mount has none there: its controllers
/// are listed in cgroup.controllers at its root.
package struct CgroupMount: Equatable, Sendable {
  package enum Kind: Equatable, Sendable {
    /// `cgroup`: a v1 hierarchy, with the controllers bound to it (maybe none: `name=systemd`).
    case v1(controllers: [String], name: String?)
    /// `cgroup2`: the unified hierarchy.
    case v2
  }

  package var mountPoint: String
  /// Where in the hierarchy the mount starts: "/" normally; a sub-path when a container runtime
  /// bind-mounted only its own part of the tree.
  package var root: String
  package var kind: Kind

  package init(mountPoint: String, root: String = "/", kind: Kind) {
    self.mountPoint = mountPoint
    self.root = root
    self.kind = kind
  }

  /// Every controller a v1 kernel can bind to a hierarchy (cgroups(7)). Super options that are
  /// not in this list are mount flags (rw, noprefix, clone_children, xattr, ...), not controllers.
  package static let v1Controllers: Set<String> = [
    "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
    "perf_event", "hugetlb", "pids", "rdma", "misc", "debug",
  ]

  /// The cgroup mounts in a mountinfo text, in mount order. A mount point that appears twice was
  /// mounted over: only the later mount is visible there, so only it is kept.
  package static func parse(mountinfo: String) -> [CgroupMount] {
    var mounts: [CgroupMount] = []
    for line in mountinfo.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
      // Optional fields (shared:N, master:N) come before the "-" separator; there may be none.
      guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 4 else { continue }
      let type = fields[dash + 1]
      let mountPoint = unescape(fields[4])
      let root = unescape(fields[3])
      let kind: Kind
      switch type {
      case "cgroup2":
        kind = .v2
      case "cgroup":
        let options = fields[dash + 3].split(separator: ",").map(String.init)
        let controllers = options.filter { v1Controllers.contains($0) }
        let name = options.first { $0.hasPrefix("name=") }.map { String($0.dropFirst(5)) }
        kind = .v1(controllers: controllers, name: name)
      default:
        continue
      }
      mounts.removeAll { $0.mountPoint == mountPoint }
      mounts.append(CgroupMount(mountPoint: mountPoint, root: root, kind: kind))
    }
    return mounts
  }

  /// mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040, \011,
  /// \012, \134), so that a line always splits on spaces.
  static func unescape(_ field: String) -> String {
    guard field.contains("\\") else { return field }
    var bytes: [UInt8] = []
    let input = Array(field.utf8)
    var i = 0
    while i < input.count {
      if input[i] == UInt8(ascii: "\\"), i + 3 < input.count,
        let value = UInt8(String(decoding: input[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        bytes.append(value)
        i += 4
      } else {
        bytes.append(input[i])
        i += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
