import CShim
import Glibc
import HelperWire

/// The box's cgroup, as the helper holds it: the helper itself stays out of it.
///
/// A cgroup's memory limit is enforced by the OOM killer of that cgroup, which chooses its victim
/// among the cgroup's own processes (mm/memcontrol.c, mm/oom_kill.c). If the helper were in the
/// box's cgroup, a hog could get the helper killed instead of itself (the helper's pages count,
/// and the choice goes by size and oom_score_adj, which only CAP_SYS_RESOURCE may lower), and the
/// box would be gone. So the helper keeps a descriptor of the box's cgroup.procs in each
/// hierarchy, and each process it starts writes "0" into them first thing after fork(2): the
/// child moves itself in, the helper never does. Docker's containerd-shim sits outside its
/// container's cgroup the same way.
///
/// One exception needs the helper inside for a moment: unshare(CLONE_NEWCGROUP) makes the
/// caller's *current* cgroup the root of the new cgroup namespace (cgroup_namespaces(7)). So that
/// the box sees its own cgroup as "/" in /proc/self/cgroup, as it would had it been started there,
/// the helper steps into the box's cgroup, unshares, and steps back to `home`.
final class CgroupOperations {
  /// The host's "/", opened at start while the helper still sees it: cgroup files are opened
  /// beneath it even after the box changed its root or mount namespace.
  private let hostRoot: Int32
  /// The cgroup.procs files of the cgroup the helper was in when the box got its cgroup (none
  /// when boxwalk could not tell which it was).
  private var home: [Int32] = []
  private var boxHasCgroup = false

  init(hostRoot: Int32) { self.hostRoot = hostRoot }

  /// The `open-cgroup-procs` entry (CgroupCalls.swift): open every file, then keep them; nothing
  /// is kept if one fails.
  func enter(box: [[UInt8]], home homeFiles: [[UInt8]]) -> Calls.Outcome {
    guard hostRoot >= 0 else { return .failed(errno: EBADF, note: "the helper has no descriptor of /") }
    guard !boxHasCgroup else { return .failed(errno: EEXIST, note: "the box has a cgroup already") }
    var opened: [Int32] = []
    func closeAll() { for fd in opened { close(fd) } }
    for (index, path) in (box + homeFiles).enumerated() {
      let fd = open(path)
      guard fd >= 0 else {
        let failure = errno
        closeAll()
        // The box's own cgroup.procs is what the step's open(...) entry names: a box that
        // switched to a host uid other than root (map uid 0 100000 ...) cannot open it for
        // writing (root's file, mode 0644; a child user namespace's capabilities do not override
        // the permissions of a file whose owner it does not map: capabilities(7)). The host path
        // is left out: it names this session and this host's cgroup layout. A file of the cgroup
        // the helper came from is not named by the entry, so the note says which.
        if index < box.count { return .failed(errno: failure) }
        return .failed(errno: failure, note: String(decoding: path, as: UTF8.self))
      }
      opened.append(fd)
    }
    let boxFDs = Array(opened.prefix(box.count))
    guard bw_set_box_cgroup(boxFDs, Int32(boxFDs.count)) == 0 else {
      let failure = errno
      closeAll()
      return .failed(errno: failure, note: "too many cgroup files")
    }
    home = Array(opened.dropFirst(box.count))
    boxHasCgroup = true
    // pids.current and pids.max beside whichever cgroup.procs has them (the pids hierarchy on v1).
    for path in box {
      let directory = Array(path[..<(path.lastIndex(of: UInt8(ascii: "/")) ?? path.startIndex)])
      let current = open(directory + Array("/pids.current".utf8), flags: O_RDONLY | O_CLOEXEC)
      let max = open(directory + Array("/pids.max".utf8), flags: O_RDONLY | O_CLOEXEC)
      if current >= 0 && max >= 0 {
        bw_set_box_pids(current, max)
        break
      }
      if current >= 0 { close(current) }
      if max >= 0 { close(max) }
    }
    return .made()
  }

  /// openat2(2) of an absolute host path beneath the host's root: RESOLVE_BENEATH keeps the
  /// lookup under it (a v1 host may link /sys/fs/cgroup/cpu to cpu,cpuacct, which is followed),
  /// RESOLVE_NO_MAGICLINKS refuses /proc-style links. Write-only, close-on-exec: no box program
  /// inherits it.
  private func open(_ path: [UInt8], flags: Int32 = O_WRONLY | O_CLOEXEC) -> Int32 {
    guard !path.contains(0) else {
      errno = EINVAL
      return -1
    }
    let relative = Array(path.drop { $0 == UInt8(ascii: "/") })
    return (relative + [0]).withUnsafeBytes { raw in
      guard let base = raw.bindMemory(to: CChar.self).baseAddress else { return -1 }
      return bw_openat2(
        hostRoot, base, flags, 0, UInt64(BW_RESOLVE_BENEATH | BW_RESOLVE_NO_MAGICLINKS))
    }
  }

  /// Runs `body` (an unshare(2) with CLONE_NEWCGROUP) with the helper in the box's cgroup, then
  /// moves the helper back home. Without a box cgroup (or a known home), `body` runs where the
  /// helper is.
  func insideBoxCgroup(_ body: () -> Calls.Outcome) -> Calls.Outcome {
    guard boxHasCgroup, !home.isEmpty else { return body() }
    var boxFDs = [Int32](repeating: -1, count: Int(BW_CGROUP_FILES_MAX))
    let count = bw_box_cgroup_files(&boxFDs, Int32(boxFDs.count))
    guard bw_enter_cgroup(boxFDs, count) == 0 else {
      let failure = errno
      // Some hierarchies may have taken the helper already: back out of all of them.
      _ = bw_enter_cgroup(home, Int32(home.count))
      return .failed(errno: failure, note: "cannot enter the box's cgroup to unshare there")
    }
    let reply = body()
    // Back out: the namespace's root stays the box's cgroup (it was fixed at unshare). The file was
    // opened in the host's cgroup namespace, where both cgroups are in view, so the kernel allows
    // the move from the new namespace too. Should it fail, the helper is where it was before boxwalk
    // kept it out of the box's cgroup, and a later memory limit could choose it again.
    _ = bw_enter_cgroup(home, Int32(home.count))
    return reply
  }
}
