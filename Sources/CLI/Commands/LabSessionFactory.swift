import Glibc
import Kernel
import Lab
import LinuxBackend

/// Makes sessions for the transcript runner on any backend, and says what each offers for
/// `#require` (docs/transcripts.md).
struct LabSessionFactory: TranscriptSessionFactory {
  let probe = HostProbe()

  func features(for backend: Backend) -> Set<String> {
    var f: Set<String> = [backend.rawValue]
    if probe.isRoot { f.insert("root") }
    switch backend {
    case .sim:
      // The simulator models union mounts and the busybox image itself; it needs nothing here.
      // It models this host's cgroup interface (so `cgroup set` translates the same way), or
      // the one BOXWALK_SIM_CGROUP names.
      f.formUnion(["overlay", "busybox"])
      f.insert(probe.simulatedCgroupVersion == .v1 ? "cgroup1" : "cgroup2")
    case .real:
      f.formUnion(probe.features)
    case .rootless:
      // No cgroup feature: cgroup steps are refused without root on the machine (README.md,
      // "Backends").
      if probe.overlay { f.insert("overlay") }
      if probe.busybox != nil { f.insert("busybox") }
    }
    return f
  }

  func unavailableReason(for backend: Backend) -> String? {
    switch backend {
    case .sim: return nil
    case .real: return probe.isRoot ? nil : "the real backend needs root"
    case .rootless:
      return LinuxKernel.userNamespaceUnavailableReason().map { "the rootless backend needs user namespaces: \($0)" }
    }
  }

  func makeSession(backend: Backend) throws -> any TranscriptSession {
    let kernel = try BackendChoice.make(backend, ephemeralImages: true)
    do {
      let session = try Session(kernel: kernel)
      session.checkReadBack = Paths.checkReadBack
      return session
    } catch {
      kernel.teardown()
      throw error
    }
  }
}
