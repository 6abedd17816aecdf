import Kernel
import OCI
import Simulator
import Testing

@testable import Lab

/// `boxwalk trace`: strace's text parsed (a trace crun 1.8 recorded here, cut down, plus the
/// forms strace prints for split calls and other processes) and set beside boxwalk's steps.
@Suite struct RuntimeTraceTests {
  static let recorded = """
    100 execve("/usr/bin/crun", ["crun", "--root", "/tmp/r21-tr/state", "run", "--bundle", "/tmp/web-bundle", "r21t"], 0x7ffd4cf853d0 /* 35 vars */) = 0
    100 umount2("/tmp/crun.g7AzQx", MNT_DETACH) = 0
    100 keyctl(KEYCTL_JOIN_SESSION_KEYRING, "r21t") = 34773271
    100 clone(child_stack=NULL, flags=CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD) = 101
    100 mkdirat(AT_FDCWD, "/sys/fs/cgroup/pids/r21t", 0755) = 0
    100 openat(5, "pids.max", O_WRONLY)   = 6
    100 write(6, "10", 2)                 = 2
    101 mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0
    101 mount("/tmp/web-bundle/rootfs", "/tmp/web-bundle/rootfs", NULL, MS_BIND|MS_REC, NULL) = 0
    101 mount("proc", "/proc/self/fd/6", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0
    101 mknodat(6, "null", S_IFCHR|0666, makedev(0x1, 0x3)) = -1 EEXIST (File exists)
    101 mount("/dev/null", "/proc/self/fd/9", NULL, MS_BIND, NULL <unfinished ...>
    [pid   100] +++ exited with 0 +++
    101 <... mount resumed>) = 0
    101 pivot_root(".", ".")              = 0
    101 umount2(".", MNT_DETACH)          = 0
    101 umount2(".", MNT_DETACH)          = -1 EINVAL (Invalid argument)
    101 sethostname("lab-box", 7)         = 0
    101 prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE) = 0
    [pid 101] prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0
    101 seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=12, filter=0x55d0}) = 0
    101 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---
    101 execve("/bin/sh", ["/bin/sh"], 0x5613c2e72b00 /* 2 vars */) = 0
    """

  static let config = """
    {"ociVersion": "1.0.2", "process": {"args": ["/bin/sh"]}, "root": {"path": "rootfs"}, "hostname": "lab-box",
     "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
     "linux": {"namespaces": [{"type": "ipc"}, {"type": "mount"}, {"type": "network"}, {"type": "pid"}, {"type": "uts"}],
               "resources": {"pids": {"limit": 10}}}}
    """

  @Test func theParserKeepsTheCallsThatBuildAContainer() {
    let calls = RuntimeTrace.parse(Self.recorded)
    #expect(calls.first?.name == "execve")
    #expect(calls.contains { $0.name == "sethostname" && $0.strings.first == "lab-box" })
    #expect(calls.contains { $0.name == "pivot_root" && $0.succeeded })
    #expect(calls.contains { $0.name == "umount2" && !$0.succeeded })
    // The write goes to the file the openat before it opened.
    #expect(calls.contains { $0.name == "write" && $0.file == "pids.max" && $0.pid == 100 })
    // A call strace split in two is one call again, with its result.
    let masked = calls.first { $0.name == "mount" && $0.strings.first == "/dev/null" }
    #expect(masked?.result == "0")
    #expect(masked?.strings.count == 5)
    #expect(calls.contains { $0.name == "prctl" && $0.pid == 101 && $0.args.hasPrefix("PR_SET_NO_NEW_PRIVS") })
    #expect(!calls.contains { $0.name.hasPrefix("-") || $0.name.hasPrefix("+") })
    let clone = calls.first { $0.name == "clone" }
    #expect(clone?.namespaceKinds == ["ipc", "mnt", "net", "pid", "uts"])
    let proc = calls.first { $0.name == "mount" && $0.strings.first == "proc" }
    #expect(proc?.strings.prefix(3).map { $0 } == ["proc", "/proc/self/fd/6", "proc"])
  }

  @Test func eachStepIsSetBesideTheCallsThatDidIt() throws {
    let config = try JSONValue.parse(Array(Self.config.utf8))
    let lines = TraceComparison.lines(
      runtime: "crun", config: config, box: "web", calls: RuntimeTrace.parse(Self.recorded))
    func row(_ step: String) -> String? { lines.first { $0.hasPrefix("  " + step + " ") } }
    #expect(row("unshare ipc,mnt,net,pid,uts")?.contains("clone(child_stack=NULL") == true, "\(lines)")
    #expect(row("hostname lab-box")?.contains("sethostname(\"lab-box\", 7)") == true)
    #expect(row("cgroup new")?.contains("/sys/fs/cgroup/pids/r21t") == true)
    #expect(row("cgroup set pids.max 10")?.contains("pids.max") == true)
    #expect(row("rootfs (the bundle's rootfs/)")?.contains("MS_BIND|MS_REC") == true)
    #expect(row("mount proc /proc")?.contains("mount(\"proc\"") == true)
    #expect(row("pivot-root")?.contains("pivot_root") == true)
    #expect(row("run /bin/sh")?.contains("execve(\"/bin/sh\"") == true)
    #expect(row("box new web")?.contains("made no such call") == true)
    // In crun's order: the proc mount (#) comes before pivot_root.
    let tail = try #require(lines.firstIndex { $0.hasPrefix("what crun did") })
    let extras = lines[(tail + 1)...]
    for kind in ["seccomp:", "no_new_privs:", "capabilities:", "masked paths:", "session keyring:", "runtime binary:"] {
      #expect(extras.contains { $0.hasPrefix("  " + kind) }, "\(kind) \(extras)")
    }
    // A failed call (mknodat: EEXIST) is no work done.
    #expect(!extras.contains { $0.contains("mknodat") })
  }

  @Test func withoutATraceOnlyBoxwalksSideIsPrinted() throws {
    let config = try JSONValue.parse(Array(Self.config.utf8))
    let lines = TraceComparison.lines(runtime: "runc", config: config, box: "web", calls: nil)
    #expect(lines.first == "boxwalk's steps for this bundle (9):")
    #expect(lines.contains("  hostname lab-box"))
    #expect(lines.last?.hasPrefix("runc's side needs the real backend") == true)
  }
}
