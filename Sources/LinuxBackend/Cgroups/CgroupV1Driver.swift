import Glibc
import Kernel

/// The cgroup v1 driver: one directory tree per hierarchy, each with its own controllers
/// (Documentation/admin-guide/cgroup-v1/cgroups.rst). The box gets `boxwalk/SESSION/BOX` in each
/// hierarchy it uses (memory, pids, cpu, cpuacct, freezer; a hierarchy that several controllers
/// share, like `cpu,cpuacct`, once), and a process is attached by writing its PID into the
/// cgroup.procs of every one of them.
///
/// The learner speaks v2; this driver translates (cgroup-v1/memory.rst, pids.rst, and
/// Documentation/scheduler/sched-bwc.rst for the CFS bandwidth files):
///
///     memory.max BYTES|max  ->  memory.limit_in_bytes = BYTES | -1
///     pids.max N|max        ->  pids.max = N | max              (the same file in both versions)
///     cpu.max "Q P"         ->  cpu.cfs_period_us = P, then cpu.cfs_quota_us = Q | -1
///
/// memory.memsw.limit_in_bytes (memory plus swap) is left alone. There is no v1 "max" for memory:
/// -1 is written, and the file reads back 9223372036854771712 (the largest page-aligned count),
/// which the report shows as max. The period goes first, as runc writes them.
package struct CgroupV1Driver: CgroupDriver {
  package let root: String
  /// controller -> the directory of its hierarchy, relative to `root`: "memory", "pids",
  /// "cpu,cpuacct", ...
  package let hierarchies: [String: String]
  let executor: CgroupTeardown

  package var version: CgroupVersion { .v1 }

  /// The layout of this project's reference machine: each controller mounted on its own.
  package static let separateHierarchies = Dictionary(
    uniqueKeysWithValues: CgroupLayout.v1Controllers.map { ($0, $0) })

  package init(root: String = "/sys/fs/cgroup", hierarchies: [String: String] = separateHierarchies) {
    self.init(
      root: root, hierarchies: hierarchies, files: HostCgroupFileSystem(), signal: killProcess,
      retry: CgroupRetryPolicy())
  }

  init(
    root: String, hierarchies: [String: String], files: any CgroupFileSystem, signal: @escaping ProcessSignaller,
    retry: CgroupRetryPolicy
  ) {
    self.root = root
    self.hierarchies = hierarchies.filter { CgroupLayout.v1Controllers.contains($0.key) }
    executor = CgroupTeardown(root: root, files: files, signal: signal, retry: retry)
  }

  var files: any CgroupFileSystem { executor.files }

  func absolute(_ path: String) -> String { CgroupAction.join(root, path) }

  /// Each hierarchy directory once, in the order of CgroupLayout.v1Controllers.
  var hierarchyDirectories: [String] {
    var seen: Set<String> = []
    return CgroupLayout.v1Controllers.compactMap { hierarchies[$0] }.filter { seen.insert($0).inserted }
  }

  package func directories(of box: BoxCgroup) -> [String] { hierarchyDirectories.map { $0 + "/" + box.path } }

  package func create(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    guard !hierarchies.isEmpty else {
      throw CgroupError(
        call: "mkdir(\"\(box.path)\")", errno: .ENODEV, explanation: "no v1 hierarchy with a controller boxwalk uses")
    }
    var actions: [CgroupAction] = []
    var made: [String] = []
    do throws(CgroupError) {
      for hierarchy in hierarchyDirectories {
        try ensureParents(of: box, in: hierarchy, into: &actions)
        try CgroupDirectories.makeBox(hierarchy + "/" + box.path, files: files, root: root, into: &actions)
        made.append(hierarchy + "/" + box.path)
      }
    } catch {
      // Unwind: a box with a cgroup in some hierarchies and not others would be half limited.
      for dir in made.reversed() { try? files.removeDirectory(absolute(dir)) }
      throw error
    }
    return actions
  }

  /// `boxwalk/` and `boxwalk/SESSION` in one hierarchy; walks again if another session's teardown
  /// removed an empty `boxwalk/` between the two mkdirs.
  private func ensureParents(of box: BoxCgroup, in hierarchy: String, into actions: inout [CgroupAction])
    throws(CgroupError)
  {
    var attempt = 0
    while true {
      attempt += 1
      do throws(CgroupError) {
        try CgroupDirectories.ensure(hierarchy + "/" + BoxCgroup.topDirectory, files: files, root: root, into: &actions)
        try CgroupDirectories.ensure(
          hierarchy + "/" + BoxCgroup.sessionPath(box.session), files: files, root: root, into: &actions)
        return
      } catch  where error.errno == .ENOENT && attempt < 3 {
        continue
      }
    }
  }

  package func attach(pid: Int32, to box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    var actions: [CgroupAction] = []
    for dir in directories(of: box) {
      try perform(CgroupWrite(path: dir + "/cgroup.procs", value: String(pid)), into: &actions)
    }
    return actions
  }

  package func procsFiles(of box: BoxCgroup) -> [String] {
    directories(of: box).map { absolute($0 + "/cgroup.procs") }
  }

  package func procsFiles(of membership: ProcCgroup) -> [String]? {
    var files: [String] = []
    for hierarchy in hierarchyDirectories {
      // The controllers mounted at this directory; the process's line for any one of them.
      let controllers = hierarchies.filter { $0.value == hierarchy }.keys.sorted()
      guard let path = controllers.lazy.compactMap({ membership.path(ofController: $0) }).first,
        let cgroup = CgroupDirectories.inside(path)
      else { return nil }
      let directory = cgroup.isEmpty ? hierarchy : hierarchy + "/" + cgroup
      files.append(absolute(CgroupAction.path(directory, "cgroup.procs")))
    }
    return files
  }

  package func set(_ setting: CgroupSetting, on box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    var actions: [CgroupAction] = []
    for (file, value) in setting.files(.v1) { actions += try write(file, value, for: setting, on: box) }
    return actions
  }

  /// The file is in the hierarchy of the controller its name starts with: memory.limit_in_bytes
  /// in memory's, cpu.cfs_quota_us in cpu's (Documentation/admin-guide/cgroup-v1/).
  package func write(_ file: String, _ value: String, for setting: CgroupSetting, on box: BoxCgroup)
    throws(CgroupError) -> [CgroupAction]
  {
    let dir = try directory(for: String(file.prefix { $0 != "." }), of: box, setting: setting)
    var actions: [CgroupAction] = []
    try perform(CgroupWrite(path: dir + "/" + file, value: value, setting: setting), into: &actions)
    return actions
  }

  private func directory(for controller: String, of box: BoxCgroup, setting: CgroupSetting) throws(CgroupError)
    -> String
  {
    guard let hierarchy = hierarchies[controller] else {
      throw CgroupError(
        call: "cgroup set \(setting)", errno: .ENODEV,
        explanation: "no v1 hierarchy has the \(controller) controller mounted on this host")
    }
    return hierarchy + "/" + box.path
  }

  package func report(_ box: BoxCgroup) throws(CgroupError) -> CgroupReport {
    guard let first = directories(of: box).first else { return CgroupReport(version: .v1) }
    try CgroupDirectories.requireExisting(first, files: files, root: root)
    func text(_ controller: String, _ file: String) -> String? {
      guard let hierarchy = hierarchies[controller] else { return nil }
      return try? files.read(absolute(hierarchy + "/" + box.path + "/" + file))
    }
    var report = CgroupReport(version: .v1)
    report.memory.max = text("memory", "memory.limit_in_bytes").flatMap(CgroupFileFormat.v1MemoryLimit)
    report.memory.current = text("memory", "memory.usage_in_bytes").flatMap(CgroupFileFormat.number)
    report.memory.peak = text("memory", "memory.max_usage_in_bytes").flatMap(CgroupFileFormat.number)
    report.memory.maxEvents = text("memory", "memory.failcnt").flatMap(CgroupFileFormat.number)
    report.memory.oomKills = text("memory", "memory.oom_control").map(CgroupFileFormat.keyed)?["oom_kill"].flatMap {
      UInt64($0)
    }
    report.pids.max = text("pids", "pids.max").flatMap(CgroupFileFormat.limit)
    report.pids.current = text("pids", "pids.current").flatMap(CgroupFileFormat.number)
    report.pids.peak = text("pids", "pids.peak").flatMap(CgroupFileFormat.number)
    report.pids.maxEvents = text("pids", "pids.events").map(CgroupFileFormat.keyed)?["max"].flatMap { UInt64($0) }
    report.cpu.quota = text("cpu", "cpu.cfs_quota_us").flatMap(CgroupFileFormat.v1Quota)
    report.cpu.period = text("cpu", "cpu.cfs_period_us").flatMap(CgroupFileFormat.number)
    // v1 counts CPU time in nanoseconds; the report speaks microseconds, as v2 does.
    report.cpu.usageMicroseconds = text("cpuacct", "cpuacct.usage").flatMap(CgroupFileFormat.number).map { $0 / 1000 }
    let stat = text("cpu", "cpu.stat").map(CgroupFileFormat.keyed) ?? [:]
    report.cpu.periods = stat["nr_periods"].flatMap { UInt64($0) }
    report.cpu.throttledPeriods = stat["nr_throttled"].flatMap { UInt64($0) }
    report.cpu.throttledMicroseconds = stat["throttled_time"].flatMap { UInt64($0) }.map { $0 / 1000 }
    // The files the three limits were just read from: v1's names, not the v2 keys boxwalk shows.
    if report.memory.max != nil { report.files["memory.max"] = "memory.limit_in_bytes" }
    if report.pids.max != nil { report.files["pids.max"] = "pids.max" }
    if report.cpu.quota != nil { report.files["cpu.max"] = "cpu.cfs_quota_us cpu.cfs_period_us" }
    return report
  }

  package func kill(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    try run(cgroup: box.path, kill: true, remove: false, prune: [])
  }

  package func remove(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    let prune =
      hierarchyDirectories.map { $0 + "/" + BoxCgroup.sessionPath(box.session) }
      + hierarchyDirectories.map { $0 + "/" + BoxCgroup.topDirectory }
    return try run(cgroup: box.path, kill: false, remove: true, prune: prune)
  }

  package func teardownSession(_ session: String) throws(CgroupError) -> [CgroupAction] {
    try BoxCgroup.requireValidSession(session)
    return try run(
      cgroup: BoxCgroup.sessionPath(session), kill: true, remove: true,
      prune: hierarchyDirectories.map { $0 + "/" + BoxCgroup.topDirectory })
  }

  package func sessions() -> [String] {
    var names: Set<String> = []
    for hierarchy in hierarchyDirectories {
      names.formUnion((try? files.subdirectories(absolute(hierarchy + "/" + BoxCgroup.topDirectory))) ?? [])
    }
    return names.sorted()
  }

  /// Plan against the trees as they are now in every hierarchy, then carry the plan out. The
  /// freezer hierarchy, when there is one, makes the kill race-free.
  func run(cgroup: String, kill: Bool, remove: Bool, prune: [String]) throws(CgroupError) -> [CgroupAction] {
    let targets = hierarchyDirectories.map { $0 + "/" + cgroup }
    let method: CgroupTeardownPlan.KillMethod =
      hierarchies["freezer"].map { .freezerV1(target: $0 + "/" + cgroup) } ?? .signalOnly
    let plan = CgroupTeardownPlan.make(
      targets: targets, tree: executor.tree(targets), method: method, kill: kill, remove: remove, prune: prune)
    return try executor.run(plan)
  }

  func perform(_ write: CgroupWrite, into actions: inout [CgroupAction]) throws(CgroupError) {
    do {
      try files.write(absolute(write.path), write.value)
    } catch {
      throw CgroupError(error, explanation: CgroupErrorExplanation.write(error.errno, file: write.file, version: .v1))
    }
    actions.append(.write(write))
  }
}
