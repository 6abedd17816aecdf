/// A host capability a transcript can depend on, named in `#require FEATURE...` and `#if FEATURE`
/// (docs/transcripts.md).
///
/// A lesson about cgroup v1 cannot pass on a cgroup v2-only machine, and that is not a bug in the
/// lesson. Naming the need lets the runner report the file as SKIP with the reason, instead of a
/// confusing FAIL or, worse, a PASS that checked nothing.
public enum TranscriptFeature: String, CaseIterable, Sendable {
  /// The process runs as uid 0 (needed for host-side veths, cgroups without delegation).
  case root
  /// The backend is the real kernel driven as root.
  case real
  /// The backend is the deterministic simulation.
  case sim
  /// The backend is the real kernel inside an unprivileged user namespace.
  case rootless
  /// A cgroup v1 hierarchy is mounted (a controller per directory under /sys/fs/cgroup).
  case cgroup1
  /// The unified cgroup v2 hierarchy is mounted (cgroup.controllers at its root).
  case cgroup2
  /// overlayfs can be mounted (layers and images need it).
  case overlay
  /// busybox-static is installed, so the `busybox` base image can be built.
  case busybox
  /// The run goes through a boxwalk daemon (`boxwalk test --host`, BOXWALK_HOST): the session
  /// lives in the daemon and this process is its client, so `wire` and `explain`'s account of
  /// who did what are there to see (docs/daemon.md).
  case client

  /// Every feature name, for error messages and suggestions.
  static var names: [String] { allCases.map(\.rawValue) }
}
