import Glibc

/// Runs crun or runc on an OCI bundle under strace(1) (`boxwalk trace`, docs/runtimes.md): a
/// private state directory and a container ID of its own, the container deleted after. crun 1.8
/// refuses this host's hybrid cgroup layout while it sees cgroup2, so it runs in a private mount
/// namespace (unshare(1) --mount) where /sys/fs/cgroup/unified is unmounted, as bench/run does:
/// nothing is mounted or unmounted in the host's mount namespace. Root only, as the runtimes are.
public enum RuntimeRunner {
  /// The runtime's exit status and strace's text (`-f`, one line per call, pid first).
  public static func trace(runtime: String, bundle: String, calls: [String]) -> (status: Int32, trace: String)? {
    var template = Array("/tmp/boxwalk-trace-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
      return nil
    }
    let work = String(cString: made)
    defer { FileTree.remove(work) }
    let id = "boxwalk-trace-\(getpid())"
    let state = work + "/state"
    let traceFile = work + "/trace"
    let run = [runtime, "--root", state, "run", "--bundle", bundle, id]
    let strace = ["strace", "-f", "-qq", "-s", "200", "-o", traceFile, "-e", "trace=" + calls.joined(separator: ",")]
    let status = spawn(wrapped(runtime, "exec \"$@\" </dev/null >/dev/null 2>&1") + strace + run)
    _ = spawn(wrapped(runtime, "exec \"$@\" >/dev/null 2>&1") + [runtime, "--root", state, "delete", "-f", id])
    let fd = open(traceFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return (status, "") }
    defer { close(fd) }
    let bytes = (try? FileDescriptors.readAll(fd, shown: traceFile, limit: 16 << 20)) ?? []
    return (status, String(decoding: bytes, as: UTF8.self))
  }

  /// `sh -c SCRIPT sh ARGV...`, inside a private mount namespace without cgroup2 for crun.
  static func wrapped(_ runtime: String, _ script: String) -> [String] {
    runtime == "crun"
      ? ["unshare", "--mount", "sh", "-c", "umount /sys/fs/cgroup/unified 2>/dev/null; " + script, "sh"]
      : ["sh", "-c", script, "sh"]
  }

  /// posix_spawnp(3) and wait: the exit status (128+N for a signal).
  static func spawn(_ argv: [String]) -> Int32 {
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    guard posix_spawnp(&pid, argv[0], nil, nil, &cArgs, environ) == 0 else { return 127 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
  }
}
