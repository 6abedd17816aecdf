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
  /// (docs/transcripts.md, "#if").
  var simulatedCgroupVersion: CgroupVersion? {
    guard let chosen = getenv("BOXWALK_SIM_CGROUP") else { return cgroupVersion }
    return CgroupVersion(rawValue: String(cString: chosen)) ?? cgroupVersion
  }

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
