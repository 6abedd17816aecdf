import Kernel
import Simulator
import Testing

@testable import Lab

/// A step's shell line works when pasted on the learner's host, and names what its syscall lines
/// name (docs/architecture.md, "Render"): the lines a learner walking the course found wrong.
@Suite struct ShellLineTests {
  func session(_ cgroup: CgroupVersion = .v2, _ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel(cgroupVersion: cgroup))
    for l in lines { _ = s.execute(l) }
    return s
  }

  func shell(_ out: [String]) -> String? {
    out.first { $0.hasPrefix("  shell    ") }.map { String($0.dropFirst("  shell    ".count)) }
  }

  func syscalls(_ out: [String]) -> [String] {
    out.filter { $0.hasPrefix("  syscall  ") }.map { String($0.dropFirst("  syscall  ".count)) }
  }

  /// util-linux ipcmk(1) takes -Q, -M SIZE and -S NSEMS; it has no -q, -m, -s or -n.
  @Test func ipcmkOptionsAreUtilLinuxs() throws {
    let s = try session(.v2, "box new web")
    let key = "   # ipcmk picks its own key; 0x0000002a here"
    #expect(shell(s.execute("ipc mq new 0x2a")) == "nsenter --target <web> --ipc ipcmk -Q" + key)
    #expect(shell(s.execute("ipc shm new 0x2a")) == "nsenter --target <web> --ipc ipcmk -M 4096" + key)
    #expect(shell(s.execute("ipc sem new 0x2a")) == "nsenter --target <web> --ipc ipcmk -S 1" + key)
  }

  /// Before pivot-root a mount acts beneath the prepared root (the syscalls open `<web root>`):
  /// the shell line names its directory, as runc's `mount --rbind rootfs rootfs` does, not the
  /// host's / that nsenter --mount would otherwise reach.
  @Test func mountsBeforePivotRootNameTheRootFilesystem() throws {
    let s = try session(.v2, "box new web", "unshare mnt,pid", "rootfs busybox --dir")
    let bind = s.execute("mount bind / /")
    #expect(syscalls(bind).first?.hasPrefix("openat2(<web root>, \"/\"") == true, "\(bind)")
    let rbind = "nsenter --target <web> --mount mount --rbind <web rootfs> <web rootfs>"
    #expect(shell(bind) == rbind, "\(bind)")
    let proc = s.execute("mount proc /proc")
    #expect(
      shell(proc)
        == "nsenter --target <web> --mount --pid mount -t proc -o ro,nosuid,nodev,noexec proc <web rootfs>/proc",
      "\(proc)")
    #expect(shell(s.execute("umount /proc")) == "nsenter --target <web> --mount umount <web rootfs>/proc")
    // explain repeats the line the step printed.
    _ = s.execute("mount bind / /")
    #expect(s.execute("explain").contains("  shell    " + rbind))
    // After pivot-root the box's / is the root filesystem, which nsenter --mount enters.
    _ = s.execute("pivot-root")
    #expect(
      shell(s.execute("mount tmpfs /tmp")) == "nsenter --target <web> --mount mount -t tmpfs -o nosuid,nodev tmpfs /tmp"
    )
    // A box on the host's root mounts on the host's paths.
    let host = try session(.v2, "box new db", "unshare mnt")
    #expect(
      shell(host.execute("mount tmpfs /opt"))
        == "nsenter --target <db> --mount mount -t tmpfs -o nosuid,nodev tmpfs /opt")
  }

  /// On cgroup v1 the syscall lines write the v1 files the shell line writes; v2 keeps its names.
  @Test func cgroupSyscallLinesNameTheLayoutsFiles() throws {
    let v1 = try session(.v1, "box new web", "cgroup new")
    let memory = v1.execute("cgroup set memory.max 32M")
    #expect(syscalls(memory) == ["write(\"<web cgroup>/memory.limit_in_bytes\", \"33554432\")"], "\(memory)")
    #expect(shell(memory) == "echo 33554432 > /sys/fs/cgroup/memory/boxwalk/SESSION/web/memory.limit_in_bytes")
    let cpu = v1.execute("cgroup set cpu.max \"10000 100000\"")
    #expect(
      syscalls(cpu) == [
        "write(\"<web cgroup>/cpu.cfs_period_us\", \"100000\")", "write(\"<web cgroup>/cpu.cfs_quota_us\", \"10000\")",
      ], "\(cpu)")
    #expect(syscalls(v1.execute("cgroup set cpu.max max")) == ["write(\"<web cgroup>/cpu.cfs_quota_us\", \"-1\")"])
    let v2 = try session(.v2, "box new web", "cgroup new")
    #expect(syscalls(v2.execute("cgroup set memory.max 32M")) == ["write(\"<web cgroup>/memory.max\", \"33554432\")"])
    #expect(
      syscalls(v2.execute("cgroup set cpu.max \"10000 100000\"")) == [
        "write(\"<web cgroup>/cpu.max\", \"10000 100000\")"
      ])
  }

  /// map gid writes setgroups before gid_map; the shell line does both, and names newgidmap(1).
  @Test func mapGidShellDeniesSetgroupsFirst() throws {
    let s = try session(.v2, "box new web", "unshare user")
    let out = s.execute("map gid 0 100000 65536")
    #expect(
      syscalls(out).prefix(2) == [
        "write(\"/proc/<web>/setgroups\", \"deny\")", "write(\"/proc/<web>/gid_map\", \"0 100000 65536\")",
      ], "\(out)")
    #expect(
      shell(out)
        == "echo deny > /proc/<web>/setgroups && echo '0 100000 65536' > /proc/<web>/gid_map    # newgidmap(1) does this for unprivileged users"
    )
    let uid = s.execute("map uid 0 100000 65536")
    #expect(
      shell(uid) == "echo '0 100000 65536' > /proc/<web>/uid_map    # newuidmap(1) does this for unprivileged users")
  }

  /// pivot_root's EINVAL for a shared mount has its own detail, why and fix; the one for a new
  /// root that is no mount point keeps its own.
  @Test func pivotRootOnASharedMountSaysWhy() throws {
    let s = try session(.v2, "box new web", "unshare mnt,pid", "rootfs busybox --dir")
    let plain = s.execute("pivot-root")
    #expect(plain.contains("  detail:  the new root is not a mount point"), "\(plain)")
    #expect(plain.contains { $0.hasPrefix("  why:     pivot_root needs the new root to be a mount point") }, "\(plain)")
    _ = s.execute("mount bind / /")
    _ = s.execute("propagation shared")
    let shared = s.execute("pivot-root")
    #expect(shared.first?.hasSuffix("): EINVAL") == true, "\(shared)")
    #expect(shared.contains("  detail:  " + Step.pivotRootShared), "\(shared)")
    #expect(
      shared.contains {
        $0.hasPrefix("  why:     pivot_root refuses when the current root or the new root's parent is a shared mount")
      }, "\(shared)")
    #expect(!shared.contains { $0.contains("mount bind / / makes") }, "\(shared)")
    #expect(
      shared.contains("  fix:     propagation private (or slave, as runc makes them), then pivot-root"), "\(shared)")
  }
}
