import Glibc

/// What this host offers, read from /proc and the file system (for `doctor`, backend choice and
/// transcript `#require`). Roots are parameters so it can be tested against a temporary tree.
struct HostProbe {
  var procRoot = "/proc"
  var searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

  enum CgroupLayout: String {
    case v2 = "cgroup v2 (unified)"
    case v1 = "cgroup v1"
    case hybrid = "hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)"
    case none = "no cgroup file system mounted"
  }

  var isRoot: Bool { geteuid() == 0 }

  func read(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var out = ""
    var buf = [CChar](repeating: 0, count: 4096)
    while fgets(&buf, Int32(buf.count), f) != nil {
      out += String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return out
  }

  /// Unprivileged user namespaces: /proc/sys/user/max_user_namespaces above 0, and on Debian
  /// kernels kernel.unprivileged_userns_clone not 0.
  var userNamespaces: Bool {
    let max = read(procRoot + "/sys/user/max_user_namespaces").flatMap { Int($0.trimmed) } ?? 0
    let clone = read(procRoot + "/sys/kernel/unprivileged_userns_clone").flatMap { Int($0.trimmed) } ?? 1
    return max > 0 && clone != 0
  }

  var cgroupLayout: CgroupLayout {
    let mounts = (read(procRoot + "/self/mounts") ?? "").split(separator: "\n").map { $0.split(separator: " ") }
    let v2 = mounts.filter { $0.count > 2 && $0[2] == "cgroup2" }.map { String($0[1]) }
    let v1 = mounts.contains { $0.count > 2 && $0[2] == "cgroup" }
    if v2.contains("/sys/fs/cgroup") { return .v2 }
    if v1 { return v2.isEmpty ? .v1 : .hybrid }
    return v2.isEmpty ? .none : .v2
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
    switch cgroupLayout {
    case .v1: f.insert("cgroup1")
    case .v2: f.insert("cgroup2")
    case .hybrid: f.formUnion(["cgroup1"])
    case .none: break
    }
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
