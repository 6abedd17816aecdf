import ArgumentParser
import Glibc
import LinuxBackend

/// `boxwalk doctor`: what this host supports, and how to fix what is missing (README.md, "Command
/// line").
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "What this host supports for each backend, and how to fix what is missing.")

  func run() throws {
    let probe = HostProbe()
    var u = utsname()
    uname(&u)
    let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    func row(_ ok: Bool, _ what: String, _ fix: String) -> String {
      (ok ? "  ok       " : "  missing  ") + what + (ok ? "" : "\n           fix: " + fix)
    }
    var lines = ["boxwalk doctor: Linux \(release)"]
    lines.append(
      row(
        probe.isRoot, "root (needed by --backend real)",
        "run as root; without root, --backend rootless (or sim) still works"))
    // The sysctls say whether unprivileged users may; the probe (a child that tries) says
    // whether this user may right now, which also covers LSM rules such as AppArmor's.
    let userNamespaceFailure = LinuxKernel.userNamespaceUnavailableReason()
    let rootless = probe.userNamespaces && userNamespaceFailure == nil
    lines.append(
      row(
        rootless,
        "unprivileged user namespaces (" + (rootless ? "rootless backend available" : "needed by the rootless backend")
          + (userNamespaceFailure.map { ": \($0)" } ?? "") + ")",
        "sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1"))
    lines.append(
      row(
        probe.cgroupVersion != nil, "cgroups: \(LinuxKernel.cgroupLayoutDescription())",
        "mount cgroup2 on /sys/fs/cgroup"))
    lines.append(row(probe.overlay, "overlayfs", "modprobe overlay"))
    // boxwalk itself speaks rtnetlink; ip(8) is what the tests and the host snapshot check it with.
    lines.append(
      row(probe.which("ip") != nil, "iproute2 (ip, for tests and host snapshots)", "apt-get install iproute2"))
    lines.append(row(probe.busybox != nil, "busybox (the busybox base image)", "apt-get install busybox-static"))
    lines.append(
      row(
        probe.which("docker-registry") != nil,
        "docker-registry (optional: a registry server for image push/pull; oci:DIR registries need none)",
        "apt-get install docker-registry, then docker-registry serve CONFIG with http.addr 127.0.0.1:PORT"))
    let backend = BackendChoice.automatic()
    lines.append("default backend here: \(backend.rawValue)")
    Terminal(colour: false).write(lines)
  }
}
