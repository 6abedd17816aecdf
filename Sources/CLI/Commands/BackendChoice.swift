import Glibc
import Kernel
import LinuxBackend
import Simulator

/// Picks and starts the kernel (README.md, "Backends"): `real` as root on Linux, otherwise
/// `rootless` when user namespaces work, otherwise `sim`. A backend asked for by name that cannot
/// run is an error with the reason, never a silent fallback.
enum BackendChoice {
  static func automatic() -> Backend {
    if geteuid() == 0 { return .real }
    return LinuxKernel.userNamespaceUnavailableReason() == nil ? .rootless : .sim
  }

  /// - Parameter ephemeralImages: the real backend keeps its image store in the session
  ///   directory, removed with it (`boxwalk test`: every transcript starts from busybox alone).
  static func make(_ backend: Backend, ephemeralImages: Bool = false) throws(ExitError) -> any Kernel {
    switch backend {
    case .sim:
      return simulated()
    case .real:
      guard geteuid() == 0 else {
        throw ExitError(
          ExitStatus.precondition,
          [
            "error: the real backend needs root",
            "  why: it creates namespaces, cgroups and veths with real syscalls",
            "  fix: run as root (sudo boxwalk --backend real), or use --backend sim",
          ])
      }
      do {
        return try LinuxKernel(ephemeralImages: ephemeralImages)
      } catch {
        throw ExitError(
          ExitStatus.precondition,
          ["error: the real backend cannot start: \(error)", "  fix: boxwalk doctor says what this host lacks"])
      }
    case .rootless:
      // Root may ask for it too: the session's user namespace then maps root to 0, and the
      // steps that need the machine (cgroups, host-side veths) are refused all the same.
      if let reason = LinuxKernel.userNamespaceUnavailableReason() {
        throw ExitError(
          ExitStatus.precondition,
          [
            "error: the rootless backend needs unprivileged user namespaces: \(reason)",
            "  fix: sysctl -w user.max_user_namespaces=15000 (boxwalk doctor says more), or use --backend sim",
          ])
      }
      do {
        return try LinuxKernel(ephemeralImages: ephemeralImages, rootless: true)
      } catch {
        throw ExitError(
          ExitStatus.precondition,
          ["error: the rootless backend cannot start: \(error)", "  fix: boxwalk doctor says what this host lacks"])
      }
    }
  }

  /// The simulator, started with this machine's names (uname(2)), capabilities, cgroup version
  /// and busybox, so a session prints the same text on sim and real; everything after that is
  /// modelled.
  static func simulated() -> SimulatedKernel {
    var u = utsname()
    uname(&u)
    func text<T>(_ field: inout T) -> String {
      withUnsafeBytes(of: &field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    let kernel = SimulatedKernel(
      hostname: text(&u.nodename), domainname: text(&u.__domainname),
      cgroupVersion: HostProbe().simulatedCgroupVersion ?? .v2)
    kernel.unameRelease = text(&u.release)
    kernel.unameVersion = text(&u.version)
    kernel.unameMachine = text(&u.machine)
    if let caps = hostCapabilities() { kernel.hostCapabilities = caps }
    if let binary = LinuxKernel.busyboxBinary() { kernel.useBusyboxBinary(binary) }
    kernel.busyboxApplets = LinuxKernel.busyboxApplets()
    lendHostFiles(to: kernel)
    // A registry server on loopback is a program of this machine: the simulator asks whether
    // one listens, so push and pull are refused (ECONNREFUSED) exactly when they are on real.
    kernel.registryListens = { port in Self.listens(onLoopbackPort: port) }
    return kernel
  }

  /// The simulator's ways to this machine's files, which it cannot reach itself (it is pure
  /// Swift, without Glibc): what the real backend reads and writes for a command that names a
  /// host path, read and written the same way, so both backends answer alike.
  static func lendHostFiles(to kernel: SimulatedKernel) {
    kernel.hostFilesystemType = { LinuxKernel.filesystemType(ofHostPath: $0) ?? "unknown" }
    // A box that shares the host's files looks names up in this machine's tree, whose links
    // (/bin -> usr/bin on a merged-/usr system) the real backend's openat2 refuses: ELOOP.
    kernel.hostSymlink = { path in
      var info = stat()
      return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }
    // `image import DIR` reads the directory as the real backend does.
    kernel.hostDirectoryReader = { path in
      do throws(KernelError) {
        return .success(try HostDirectory.read(path))
      } catch {
        return .failure(HostDirectoryError(errno: error.errno, detail: error.call))
      }
    }
    // `box import-bundle DIR` reads DIR/config.json as the real backend does.
    kernel.bundleConfigReader = { directory in
      do throws(SystemCallError) {
        return .success(try SmallFiles.read(directory + "/config.json"))
      } catch {
        return .failure(HostDirectoryError(errno: Errno(rawValue: error.errno), detail: error.call))
      }
    }
    // `box export DIR` writes the bundle as the real backend does, with the simulator's files.
    kernel.bundleWriter = { directory, config, rootfs in
      do throws(KernelError) {
        try HostBundle.write(directory: directory, config: config, rootfs: rootfs)
        return .success(())
      } catch {
        return .failure(HostDirectoryError(errno: error.errno, detail: error.call))
      }
    }
  }

  /// This process's capability sets from /proc/self/status (CapEff, CapPrm, CapBnd: hex masks,
  /// proc(5)), so the simulated host has the capabilities the real backend would report.
  static func hostCapabilities() -> (effective: [String], permitted: [String], bounding: [String])? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var masks: [String: String] = [:]
    var line: UnsafeMutablePointer<CChar>?
    var size = 0
    defer { free(line) }
    while getline(&line, &size, file) > 0, let line {
      let text = String(cString: line)
      for key in ["CapEff", "CapPrm", "CapBnd"] where text.hasPrefix(key + ":") {
        masks[key] = String(text.dropFirst(key.count + 1).filter { !$0.isWhitespace })
      }
    }
    guard let eff = masks["CapEff"], let prm = masks["CapPrm"], let bnd = masks["CapBnd"] else { return nil }
    return (
      Capabilities.names(ofHexMask: eff), Capabilities.names(ofHexMask: prm), Capabilities.names(ofHexMask: bnd)
    )
  }

  /// connect(2) to 127.0.0.1:PORT succeeds (something accepts there).
  static func listens(onLoopbackPort port: Int) -> Bool {
    guard (1...65535).contains(port) else { return false }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }

  static func describe(_ backend: Backend) -> String {
    switch backend {
    case .sim:
      // The layout the simulator models: this host's, unless BOXWALK_SIM_CGROUP chose one.
      let layout =
        (try? HostProbe.simulatedCgroupChoice(HostProbe.environment("BOXWALK_SIM_CGROUP"))).map {
          "the cgroup \($0.rawValue) layout BOXWALK_SIM_CGROUP names"
        } ?? "this host's cgroup \((LinuxKernel.cgroupVersion() ?? .v2).rawValue) layout"
      return "backend: sim (a deterministic simulation of the kernel, with \(layout); nothing on this machine changes)"
    case .real: return "backend: real (real kernel namespaces as root; the host's own settings are never changed)"
    case .rootless: return "backend: rootless (real namespaces inside a user namespace, without root)"
    }
  }
}
