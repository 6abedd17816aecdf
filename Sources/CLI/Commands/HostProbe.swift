import Glibc
import Kernel
import LinuxBackend

/// What this host offers, read from /proc and the file system (for `doctor`, backend choice and
/// transcript `#require`). Roots are parameters so it can be tested against a temporary tree.
struct HostProbe {
  var procRoot = "/proc"
  var searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

  var isRoot: Bool { geteuid() == 0 }

  func read(_ path: String) -> String? { try? SmallFiles.readText(path) }

  /// Unprivileged user namespaces: /proc/sys/user/max_user_namespaces above 0, and on Debian
  /// kernels kernel.unprivileged_userns_clone not 0.
  var userNamespaces: Bool {
    let max = read(procRoot + "/sys/user/max_user_namespaces").flatMap { Int($0.trimmed) } ?? 0
    let clone = read(procRoot + "/sys/kernel/unprivileged_userns_clone").flatMap { Int($0.trimmed) } ?? 1
    return max > 0 && clone != 0
  }

  /// The cgroup interface boxwalk uses here (the LinuxBackend driver's own choice), or nil.
  var cgroupVersion: CgroupVersion? { LinuxKernel.cgroupVersion(procRoot: procRoot) }

  /// The cgroup interface the simulator models: this host's, unless BOXWALK_SIM_CGROUP says v1
  /// or v2. A v1 host (or a hybrid one, as the project's CI machine is) would otherwise never
  /// replay the transcripts' and lessons' cgroup v2 branches, which most learners' machines take
  /// (docs/transcripts.md, "#if"). Any other value was refused at start (`checkEnvironment`).
  var simulatedCgroupVersion: CgroupVersion? {
    (try? Self.simulatedCgroupChoice(Self.environment("BOXWALK_SIM_CGROUP"))) ?? cgroupVersion
  }

  /// The interface BOXWALK_SIM_CGROUP names, `value` being its value: nil when it is unset or
  /// empty (the simulator then models this host's). Anything but v1 or v2 is a usage error, never
  /// a quiet fall back to the host's interface: whoever set it wanted one side of every `#if
  /// cgroup1` replayed, and would be shown the other side's passes as if they were that one's.
  static func simulatedCgroupChoice(_ value: String?) throws(ExitError) -> CgroupVersion? {
    guard let value, !value.isEmpty else { return nil }
    if let version = CgroupVersion(rawValue: value) { return version }
    throw ExitError(
      ExitStatus.usage,
      [
        "error: BOXWALK_SIM_CGROUP must be v1 or v2, not \(JSON.quote(value))",
        "  rule:    it picks the cgroup interface the simulator models; unset, the simulator models this host's",
        "  fix:     BOXWALK_SIM_CGROUP=v1 or BOXWALK_SIM_CGROUP=v2, or unset it",
        "  state:   nothing was changed",
      ])
  }

  /// The environment boxwalk reads before any command runs, checked: a bad value stops every
  /// command at start, with exit status 2, as a bad option does.
  static func checkEnvironment() throws(ExitError) {
    _ = try simulatedCgroupChoice(environment("BOXWALK_SIM_CGROUP"))
  }

  static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

  /// `cgroup1` or `cgroup2`, for transcript `#require` and `#if`: the interface boxwalk uses.
  var cgroupFeature: String? {
    cgroupVersion.map { $0 == .v1 ? "cgroup1" : "cgroup2" }
  }

  /// overlayfs is listed in /proc/filesystems once the module is loaded (or built in).
  var overlay: Bool {
    (read(procRoot + "/filesystems") ?? "").split(separator: "\n").contains { $0.hasSuffix("overlay") }
  }

  func which(_ program: String) -> String? {
    searchPath.map { $0 + "/" + program }.first { access($0, X_OK) == 0 }
  }

  var busybox: String? { which("busybox") }

  /// Features for transcript `#require` on the real backend.
  var features: Set<String> {
    var f: Set<String> = []
    if isRoot { f.insert("root") }
    if let cgroupFeature { f.insert(cgroupFeature) }
    if overlay { f.insert("overlay") }
    if busybox != nil { f.insert("busybox") }
    return f
  }
}

extension String {
  var trimmed: String {
    String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
  }
}
