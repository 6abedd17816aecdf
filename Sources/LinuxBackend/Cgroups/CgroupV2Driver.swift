import Glibc
import Kernel

/// The cgroup v2 driver: one unified hierarchy, files named as Documentation/admin-guide/
/// cgroup-v2.rst names them.
///
/// Two v2 rules shape `create` (cgroups(7), "Cgroups version 2"; cgroup-v2.rst, "Top-down
/// Constraint" and "No Internal Process Constraint"):
/// - Top-down: a cgroup gets a controller's files (memory.max, pids.max, cpu.max) only if its
///   parent lists the controller in cgroup.subtree_control, and the parent may list only what it
///   got from its own parent (its cgroup.controllers). So `create` walks down from the root and
///   writes "+memory +pids +cpu" into the cgroup.subtree_control of the root, `boxwalk/` and
///   `boxwalk/SESSION`, each before making the child below it.
/// - No internal processes: a cgroup that hands controllers to children (a non-empty
///   cgroup.subtree_control) may not hold processes itself; the root is exempt. That is why boxes
///   are leaves under a session directory that never holds a process, and why the box's own
///   cgroup.subtree_control stays empty: the box's processes live in it. A learner who wants
///   sub-cgroups with limits inside a box must first move those processes into a child cgroup.
package struct CgroupV2Driver: CgroupDriver {
  package let root: String
  /// Where cgroup2 is mounted, relative to `root`: "" when it is mounted at the root itself (pure
  /// v2), "unified" on a hybrid host.
  package let hierarchy: String
  let executor: CgroupTeardown

  package var version: CgroupVersion { .v2 }

  package init(root: String = "/sys/fs/cgroup", hierarchy: String = "") {
    self.init(
      root: root, hierarchy: hierarchy, files: HostCgroupFileSystem(), signal: killProcess, retry: CgroupRetryPolicy())
  }

  init(
    root: String, hierarchy: String, files: any CgroupFileSystem, signal: @escaping ProcessSignaller,
    retry: CgroupRetryPolicy
  ) {
    self.root = root
    self.hierarchy = hierarchy
    executor = CgroupTeardown(root: root, files: files, signal: signal, retry: retry)
  }

  var files: any CgroupFileSystem { executor.files }

  /// A cgroup path in the hierarchy, relative to `root`.
  func relative(_ cgroup: String) -> String {
    if hierarchy.isEmpty { return cgroup }
    return cgroup.isEmpty ? hierarchy : hierarchy + "/" + cgroup
  }

  func absolute(_ path: String) -> String { CgroupAction.join(root, path) }

  package func directories(of box: BoxCgroup) -> [String] { [relative(box.path)] }

  package func create(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    var actions: [CgroupAction] = []
    let ancestors = ["", BoxCgroup.topDirectory, BoxCgroup.sessionPath(box.session)]
    var attempt = 0
    while true {
      attempt += 1
      do throws(CgroupError) {
        for (i, dir) in ancestors.enumerated() {
          if i > 0 { try CgroupDirectories.ensure(relative(dir), files: files, root: root, into: &actions) }
          try enableControllers(below: relative(dir), into: &actions)
        }
        break
      } catch  where error.errno == .ENOENT && attempt < 3 {
        // Another session's teardown removed an empty boxwalk/ between two of our mkdirs: walk again.
        continue
      }
    }
    try CgroupDirectories.makeBox(relative(box.path), files: files, root: root, into: &actions)
    return actions
  }

  /// Hand memory, pids and cpu down to the children of `dir`, those of them `dir` has (its
  /// cgroup.controllers). On a hybrid host cgroup2 may have none of them: nothing to write then.
  func enableControllers(below dir: String, into actions: inout [CgroupAction]) throws(CgroupError) {
    let available: [String]
    do {
      available = try files.read(absolute(CgroupAction.path(dir, "cgroup.controllers"))).split(
        whereSeparator: \.isWhitespace
      ).map(
        String.init)
    } catch {
      throw CgroupError(error, explanation: "cannot read which controllers this cgroup has")
    }
    let wanted = CgroupLayout.limitControllers.filter { available.contains($0) }
    guard !wanted.isEmpty else { return }
    let write = CgroupWrite(
      path: CgroupAction.path(dir, "cgroup.subtree_control"), value: wanted.map { "+" + $0 }.joined(separator: " "))
    try perform(write, into: &actions)
  }

  package func attach(pid: Int32, to box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    var actions: [CgroupAction] = []
    try perform(CgroupWrite(path: relative(box.path) + "/cgroup.procs", value: String(pid)), into: &actions)
    return actions
  }

  package func procsFiles(of box: BoxCgroup) -> [String] { [absolute(relative(box.path) + "/cgroup.procs")] }

  package func procsFiles(of membership: ProcCgroup) -> [String]? {
    guard let path = membership.unifiedPath, let cgroup = CgroupDirectories.inside(path) else { return nil }
    return [absolute(CgroupAction.path(relative(cgroup), "cgroup.procs"))]
  }

  package func set(_ setting: CgroupSetting, on box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    try write(setting.key.rawValue, setting.v2Text, for: setting, on: box)
  }

  /// v2 has one file per setting, named as the learner names it.
  package func write(_ file: String, _ value: String, for setting: CgroupSetting, on box: BoxCgroup)
    throws(CgroupError) -> [CgroupAction]
  {
    let dir = relative(box.path)
    try CgroupDirectories.requireExisting(dir, files: files, root: root)
    let path = dir + "/" + file
    guard files.isDirectory(absolute(path)) == false else {
      let controller = String(setting.key.rawValue.prefix { $0 != "." })
      let offered =
        (try? files.read(absolute(CgroupAction.path(CgroupDirectories.parent(of: dir), "cgroup.controllers"))))
        .map { $0.trimmingWhitespace } ?? ""
      throw CgroupError(
        call: "open(\(SmallFiles.quoted(absolute(path))), O_WRONLY)", errno: .ENOENT,
        explanation: "the \(controller) controller is not enabled for this cgroup; its parent offers "
          + (offered.isEmpty ? "none" : offered)
          + " (a controller bound to a v1 hierarchy cannot be on cgroup2 at the same time)")
    }
    var actions: [CgroupAction] = []
    try perform(CgroupWrite(path: path, value: value, setting: setting), into: &actions)
    return actions
  }

  package func report(_ box: BoxCgroup) throws(CgroupError) -> CgroupReport {
    let dir = relative(box.path)
    try CgroupDirectories.requireExisting(dir, files: files, root: root)
    func text(_ file: String) -> String? { try? files.read(absolute(dir + "/" + file)) }
    var report = CgroupReport(version: .v2)
    report.memory.max = text("memory.max").flatMap(CgroupFileFormat.limit)
    report.memory.current = text("memory.current").flatMap(CgroupFileFormat.number)
    report.memory.peak = text("memory.peak").flatMap(CgroupFileFormat.number)
    let memoryEvents = text("memory.events").map(CgroupFileFormat.keyed)
    report.memory.maxEvents = memoryEvents?["max"].flatMap { UInt64($0) }
    report.memory.oomKills = memoryEvents?["oom_kill"].flatMap { UInt64($0) }
    report.pids.max = text("pids.max").flatMap(CgroupFileFormat.limit)
    report.pids.current = text("pids.current").flatMap(CgroupFileFormat.number)
    report.pids.peak = text("pids.peak").flatMap(CgroupFileFormat.number)
    report.pids.maxEvents = text("pids.events").map(CgroupFileFormat.keyed)?["max"].flatMap { UInt64($0) }
    if let cpuMax = text("cpu.max").flatMap(CgroupFileFormat.cpuMax) {
      report.cpu.quota = cpuMax.quota
      report.cpu.period = cpuMax.period
    }
    // cpu.stat exists in every v2 cgroup (usage_usec comes from the core); the nr_* and
    // throttled_usec lines appear only with the cpu controller enabled.
    let stat = text("cpu.stat").map(CgroupFileFormat.keyed) ?? [:]
    report.cpu.usageMicroseconds = stat["usage_usec"].flatMap { UInt64($0) }
    report.cpu.periods = stat["nr_periods"].flatMap { UInt64($0) }
    report.cpu.throttledPeriods = stat["nr_throttled"].flatMap { UInt64($0) }
    report.cpu.throttledMicroseconds = stat["throttled_usec"].flatMap { UInt64($0) }
    // The files the three limits were just read from: on v2 each has the name boxwalk shows.
    if report.memory.max != nil { report.files["memory.max"] = "memory.max" }
    if report.pids.max != nil { report.files["pids.max"] = "pids.max" }
    if report.cpu.quota != nil { report.files["cpu.max"] = "cpu.max" }
    return report
  }

  package func kill(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    try run(target: relative(box.path), kill: true, remove: false, prune: [])
  }

  package func remove(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    let prune = [relative(BoxCgroup.sessionPath(box.session)), relative(BoxCgroup.topDirectory)]
    return try run(target: relative(box.path), kill: false, remove: true, prune: prune)
  }

  package func teardownSession(_ session: String) throws(CgroupError) -> [CgroupAction] {
    try BoxCgroup.requireValidSession(session)
    return try run(
      target: relative(BoxCgroup.sessionPath(session)), kill: true, remove: true,
      prune: [relative(BoxCgroup.topDirectory)])
  }

  package func sessions() -> [String] {
    ((try? files.subdirectories(absolute(relative(BoxCgroup.topDirectory)))) ?? []).sorted()
  }

  /// Plan against the tree as it is now, then carry the plan out.
  func run(target: String, kill: Bool, remove: Bool, prune: [String]) throws(CgroupError) -> [CgroupAction] {
    let plan = CgroupTeardownPlan.make(
      targets: [target], tree: executor.tree([target]), method: killMethod(target), kill: kill, remove: remove,
      prune: prune)
    return try executor.run(plan)
  }

  /// cgroup.kill where the kernel has it (5.13), else cgroup.freeze (5.2), else signals alone.
  func killMethod(_ target: String) -> CgroupTeardownPlan.KillMethod {
    if files.isDirectory(absolute(target + "/cgroup.kill")) == false { return .cgroupKill }
    if files.isDirectory(absolute(target + "/cgroup.freeze")) == false { return .freezeV2 }
    return .signalOnly
  }

  func perform(_ write: CgroupWrite, into actions: inout [CgroupAction]) throws(CgroupError) {
    do {
      try files.write(absolute(write.path), write.value)
    } catch {
      throw CgroupError(error, explanation: CgroupErrorExplanation.write(error.errno, file: write.file, version: .v2))
    }
    actions.append(.write(write))
  }
}
