import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend

extension Trait where Self == ConditionTrait {
  /// Tests that make cgroups on the real /sys/fs/cgroup (a named trait: skipped, and said so,
  /// elsewhere).
  static var requiresRootForCgroups: Self {
    .enabled(if: geteuid() == 0, "needs root: creates cgroups under /sys/fs/cgroup/*/boxwalk")
  }
}

/// Plays the kernel's part of a cgroup file system in a temporary directory, over the real
/// system-call implementation: mkdir fills a new cgroup with the interface files of its
/// hierarchy's controllers, rmdir removes them (and says EBUSY while processes or children are
/// there), and writes to cgroup.procs, cgroup.subtree_control, cgroup.kill, freezer.state and
/// memory.limit_in_bytes have their kernel effects. Processes are just PIDs written in files.
final class SimulatedCgroupFileSystem: CgroupFileSystem, @unchecked Sendable {
  enum Layout {
    /// cgroup2 at `root/hierarchy`; the root offers `controllers`; `kill`: has cgroup.kill.
    case v2(hierarchy: String, controllers: [String], kill: Bool)
    /// v1 hierarchies: directory under root -> controllers bound to it.
    case v1([String: [String]])
  }

  let root: String
  let layout: Layout
  private let host = HostCgroupFileSystem()
  private let lock = NSLock()
  /// rmdir of these paths (absolute) fails with EBUSY this many more times.
  private var busy: [String: Int] = [:]
  /// Every PID signalled through `signaller`, in order.
  private(set) var signalled: [Int32] = []

  init(root: String, layout: Layout) throws {
    self.root = root
    self.layout = layout
    switch layout {
    case .v2(let hierarchy, let controllers, _):
      let top = CgroupAction.join(root, hierarchy)
      try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
      try put(top, "cgroup.controllers", controllers.joined(separator: " "))
      try put(top, "cgroup.subtree_control", "")
      try put(top, "cgroup.procs", "1\n")
    case .v1(let hierarchies):
      for (dir, _) in hierarchies {
        let top = root + "/" + dir
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
        try put(top, "cgroup.procs", "1\n")
      }
    }
  }

  private func put(_ dir: String, _ file: String, _ text: String) throws {
    try text.write(toFile: dir + "/" + file, atomically: false, encoding: .utf8)
  }

  func text(_ relative: String) -> String? { try? String(contentsOfFile: root + "/" + relative, encoding: .utf8) }

  /// A sender of SIGKILL that kills nothing real: it records the PID and takes it out of every
  /// cgroup.procs, as the process's exit would.
  var signaller: ProcessSignaller {
    { [self] pid in
      lock.withLock { signalled.append(pid) }
      exited(pid)
      return 0
    }
  }

  func failRemoval(_ relative: String, times: Int) { lock.withLock { busy[root + "/" + relative] = times } }

  /// Put a (pretend) process into a cgroup, as if it had been forked there.
  func place(_ pid: Int32, in relative: String) throws {
    try move(pid, to: root + "/" + relative)
  }

  // MARK: - CgroupFileSystem

  func makeDirectory(_ path: String) throws(SystemCallError) {
    try host.makeDirectory(path)
    for (file, text) in interfaceFiles(for: path) {
      do {
        try put(path, file, text)
      } catch {
        throw SystemCallError(call: "simulated kernel: create \(file)", errno: EIO)
      }
    }
  }

  func removeDirectory(_ path: String) throws(SystemCallError) {
    let call = "rmdir(\(SmallFiles.quoted(path)))"
    let injected = lock.withLock { () -> Bool in
      guard let n = busy[path], n > 0 else { return false }
      busy[path] = n - 1
      return true
    }
    if injected { throw SystemCallError(call: call, errno: EBUSY) }
    guard host.isDirectory(path) == true else { throw SystemCallError(call: call, errno: ENOENT) }
    if !((try? host.subdirectories(path)) ?? []).isEmpty { throw SystemCallError(call: call, errno: EBUSY) }
    if !pids(in: path).isEmpty { throw SystemCallError(call: call, errno: EBUSY) }
    for name in (try? SmallFiles.list(path)) ?? [] { unlink(path + "/" + name) }
    try host.removeDirectory(path)
  }

  func read(_ path: String) throws(SystemCallError) -> String { try host.read(path) }

  func write(_ path: String, _ value: String) throws(SystemCallError) {
    let dir = (path as NSString).deletingLastPathComponent
    let file = (path as NSString).lastPathComponent
    // No such file: the real call fails as the kernel would (ENOENT, or EISDIR for a directory).
    guard host.isDirectory(path) == false else { return try host.write(path, value) }
    switch file {
    case "cgroup.procs":
      guard let pid = Int32(value) else { throw SystemCallError(call: "write(\(path))", errno: EINVAL) }
      do { try move(pid, to: dir) } catch { throw SystemCallError(call: "write(\(path))", errno: EIO) }
    case "cgroup.subtree_control":
      var enabled = ((try? host.read(path)) ?? "").split(separator: " ").map(String.init)
      let offered = ((try? host.read(dir + "/cgroup.controllers")) ?? "").split(whereSeparator: \.isWhitespace)
      for token in value.split(separator: " ") {
        let name = String(token.dropFirst())
        guard offered.contains(Substring(name)) else { throw SystemCallError(call: "write(\(path))", errno: ENOENT) }
        if token.hasPrefix("+") && !enabled.contains(name) { enabled.append(name) }
        if token.hasPrefix("-") { enabled.removeAll { $0 == name } }
      }
      try host.write(path, enabled.joined(separator: " "))
    case "cgroup.kill":
      for pid in pidsBelow(dir) { exited(pid) }
    case "cgroup.freeze":
      try host.write(path, value)
      refreshEvents(hierarchyTop(of: dir))
    case "memory.limit_in_bytes" where value == "-1":
      try host.write(path, String(CgroupFileFormat.v1UnlimitedMemory))
    default:
      try host.write(path, value)
    }
  }

  func subdirectories(_ path: String) throws(SystemCallError) -> [String] { try host.subdirectories(path) }
  func isDirectory(_ path: String) -> Bool? { host.isDirectory(path) }

  // MARK: - The kernel's side

  /// The interface files the kernel would put in a new cgroup at `path`.
  private func interfaceFiles(for path: String) -> [(String, String)] {
    var files: [(String, String)] = [("cgroup.procs", "")]
    switch layout {
    case .v2(_, _, let kill):
      let parent = (path as NSString).deletingLastPathComponent
      let controllers = ((try? host.read(parent + "/cgroup.subtree_control")) ?? "").split(separator: " ").map(
        String.init)
      files += [
        ("cgroup.controllers", controllers.joined(separator: " ")), ("cgroup.subtree_control", ""),
        ("cgroup.events", "populated 0\nfrozen 0\n"), ("cgroup.freeze", "0\n"),
      ]
      if kill { files.append(("cgroup.kill", "")) }
      var stat = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"
      if controllers.contains("memory") {
        files += [
          ("memory.max", "max\n"), ("memory.current", "0\n"), ("memory.peak", "0\n"),
          ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"),
        ]
      }
      if controllers.contains("pids") {
        files += [("pids.max", "max\n"), ("pids.current", "0\n"), ("pids.peak", "0\n"), ("pids.events", "max 0\n")]
      }
      if controllers.contains("cpu") {
        files.append(("cpu.max", "max 100000\n"))
        stat += "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
      }
      files.append(("cpu.stat", stat))
    case .v1(let hierarchies):
      files += [("tasks", ""), ("notify_on_release", "0\n"), ("cgroup.clone_children", "0\n")]
      let relative = String(path.dropFirst(root.count + 1))
      let hierarchy = String(relative.prefix { $0 != "/" })
      for controller in hierarchies[hierarchy] ?? [] {
        switch controller {
        case "memory":
          files += [
            ("memory.limit_in_bytes", "\(CgroupFileFormat.v1UnlimitedMemory)\n"), ("memory.usage_in_bytes", "0\n"),
            ("memory.max_usage_in_bytes", "0\n"), ("memory.failcnt", "0\n"),
            ("memory.memsw.limit_in_bytes", "\(CgroupFileFormat.v1UnlimitedMemory)\n"),
            ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
          ]
        case "pids":
          files += [("pids.max", "max\n"), ("pids.current", "0\n"), ("pids.peak", "0\n"), ("pids.events", "max 0\n")]
        case "cpu":
          files += [
            ("cpu.cfs_quota_us", "-1\n"), ("cpu.cfs_period_us", "100000\n"),
            ("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"),
          ]
        case "cpuacct": files += [("cpuacct.usage", "0\n")]
        case "freezer": files += [("freezer.state", "THAWED\n")]
        default: break
        }
      }
    }
    return files
  }

  /// The top of the hierarchy that holds `path`.
  private func hierarchyTop(of path: String) -> String {
    switch layout {
    case .v2(let hierarchy, _, _): return CgroupAction.join(root, hierarchy)
    case .v1:
      let relative = String(path.dropFirst(root.count + 1))
      return root + "/" + String(relative.prefix { $0 != "/" })
    }
  }

  private func pids(in dir: String) -> [Int32] {
    ((try? host.read(dir + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { Int32($0) }
  }

  private func pidsBelow(_ dir: String) -> [Int32] {
    var result = pids(in: dir)
    for child in (try? host.subdirectories(dir)) ?? [] { result += pidsBelow(dir + "/" + child) }
    return result
  }

  private func allDirectories(under dir: String) -> [String] {
    [dir] + ((try? host.subdirectories(dir)) ?? []).flatMap { allDirectories(under: dir + "/" + $0) }
  }

  /// A process moves to `dir`: out of every other cgroup of the same hierarchy, into this one.
  private func move(_ pid: Int32, to dir: String) throws {
    let top = hierarchyTop(of: dir)
    for other in allDirectories(under: top) where pids(in: other).contains(pid) {
      try put(other, "cgroup.procs", pids(in: other).filter { $0 != pid }.map { "\($0)\n" }.joined())
    }
    try put(dir, "cgroup.procs", (pids(in: dir) + [pid]).map { "\($0)\n" }.joined())
    refreshEvents(top)
  }

  /// A process exits: it leaves every cgroup.procs.
  private func exited(_ pid: Int32) {
    let tops: [String]
    switch layout {
    case .v2(let hierarchy, _, _): tops = [CgroupAction.join(root, hierarchy)]
    case .v1(let hierarchies): tops = hierarchies.keys.map { root + "/" + $0 }
    }
    for top in tops {
      for dir in allDirectories(under: top) where pids(in: dir).contains(pid) {
        try? put(dir, "cgroup.procs", pids(in: dir).filter { $0 != pid }.map { "\($0)\n" }.joined())
      }
      refreshEvents(top)
    }
  }

  /// v2: `populated` in cgroup.events is 1 while the cgroup or a descendant holds a process.
  private func refreshEvents(_ top: String) {
    guard case .v2 = layout else { return }
    for dir in allDirectories(under: top) where host.isDirectory(dir + "/cgroup.events") == false {
      let populated = pidsBelow(dir).isEmpty ? 0 : 1
      let frozen = ((try? host.read(dir + "/cgroup.freeze")) ?? "0").trimmingWhitespace == "1" ? 1 : 0
      try? put(dir, "cgroup.events", "populated \(populated)\nfrozen \(frozen)\n")
    }
  }
}

/// mountinfo of this project's reference machine (a 2-vCPU VM, kernel 6.18): cgroup v1
/// controllers each on its own, name=systemd, and cgroup2 at /sys/fs/cgroup/unified.
let hybridMountinfo = """
  22 27 0:21 / /proc rw,relatime - proc proc rw
  23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
  24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334432k,nr_inodes=3083608,mode=755
  27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
  31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
  32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
  33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
  34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
  35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
  36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
  37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
  38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
  39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
  40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

  """

/// A pure v2 host as systemd sets it up (made up after Debian 12 and Fedora).
let unifiedMountinfo = """
  21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
  26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
  29 21 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
  30 21 0:27 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw

  """

/// Older pure v1 (CentOS 7 style): cpu and cpuacct share a hierarchy, no cgroup2 at all.
let legacyMountinfo = """
  25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
  26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
  29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
  30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
  31 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
  32 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,freezer
  33 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuset,clone_children

  """
