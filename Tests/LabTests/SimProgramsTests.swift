import Kernel
import Simulator
import Testing

@testable import Lab

/// The programs the simulator runs in a busybox container, and the one line it prints for the
/// rest (issue 23, "Programs in boxes"): what busybox prints on Linux, checked against the real
/// backend by transcripts/regressions/sim-programs.transcript.
@Suite struct SimProgramsTests {
  /// A container with the busybox image as its root, and a background PID 1.
  static func container() throws -> Session {
    let session = try Session(kernel: SimulatedKernel(hostname: "lab"))
    for line in ["box new a", "unshare mnt,pid,ipc,uts,net", "rootfs busybox", "pivot-root", "run -d sleep 1000"] {
      let out = session.execute(line)
      #expect(out.first?.hasPrefix("error") == false, "\(line): \(out)")
    }
    return session
  }

  /// The program's output: the lines before the "`...` ran as" summary.
  static func output(_ session: Session, _ line: String) -> [String] {
    Array(session.execute(line).prefix { !$0.hasPrefix("`") })
  }

  @Test func busyboxAppletsPrintWhatBusyboxPrints() throws {
    let s = try Self.container()
    // Only the top-level directories: /dev/mqueue is inside /dev.
    #expect(Self.output(s, "run ls /") == BusyboxImage.directories.filter { !$0.contains("/") })
    #expect(Self.output(s, "run ls /dev") == ["mqueue"])
    #expect(Self.output(s, "run ls /etc /bin/sh") == ["/bin/sh", "", "/etc:", "group", "hostname", "passwd"])
    #expect(Self.output(s, "run ls /nope") == ["ls: /nope: No such file or directory"])
    #expect(Self.output(s, "run id") == ["uid=0(root) gid=0(root)"])
    #expect(Self.output(s, "run uname -sn") == ["Linux lab"])
    #expect(Self.output(s, "run sh -c 'false || echo no; nosuch'") == ["no", "sh: nosuch: not found"])
    #expect(Self.output(s, "run sh -c") == ["sh: -c requires an argument"])
    #expect(Self.output(s, "run mount") == ["mount: no /proc/mounts"])
    #expect(Self.output(s, "run ip addr").first == "1: lo: <LOOPBACK> mtu 65536 qdisc noop qlen 1000")
  }

  /// An applet or option the simulator does not model prints one line, forks nothing and
  /// changes nothing; a program that is not in the image is ENOENT, as on Linux.
  @Test func theRestIsOneLineAndChangesNothing() throws {
    let s = try Self.container()
    let before = s.tree
    for line in ["run grep root /etc/passwd", "run ls -l /", "run ps -o pid", "run ipcs", "run /bin/busybox"] {
      let out = s.execute(line)
      #expect(out.count == 1 && out[0].hasPrefix("the simulator does not run `"), "\(line): \(out)")
      #expect(out.last?.hasSuffix("; --backend real does") == true)
    }
    #expect(s.tree == before)
    #expect(s.execute("run nosuch").first == #"error: execvp("nosuch", ["nosuch"]): ENOENT"#)
    // The next process still gets the next PID: nothing above took one.
    #expect(Self.output(s, "run sh -c 'echo $$'") == ["2"])
  }

  /// A name the image links but this machine's busybox has no applet for (Debian's busybox-static
  /// has no ipcs) prints busybox's own words and exits 127, on Linux and so in the simulator; the
  /// CLI passes `busybox --list`.
  @Test func anAppletBusyboxLacksIsAppletNotFound() throws {
    let kernel = SimulatedKernel(hostname: "lab")
    kernel.busyboxApplets = Set(BusyboxImage.applets).subtracting(["ipcs"]).union(["busybox"])
    let s = try Session(kernel: kernel)
    for line in ["box new a", "unshare mnt,pid,ipc,uts,net", "rootfs busybox", "pivot-root", "run -d sleep 1000"] {
      _ = s.execute(line)
    }
    let out = s.execute("run ipcs")
    #expect(out.prefix(2) == ["ipcs: applet not found", "`ipcs` ran as PID 2 in pid:1: exit status 127"])
    #expect(Self.output(s, "run sh -c 'ipcs -q'") == ["ipcs: applet not found"])
    #expect(Self.output(s, "run echo hi") == ["hi"])
  }

  /// busybox ps reads /proc; in a box that has no proc mounted there it finds nothing and prints
  /// its header alone (checked on Linux 6.18 with Debian's busybox-static). With a proc of the
  /// box's pid namespace mounted it lists the namespace's processes, ps itself included, and a
  /// shell's last command runs in the shell's process (`{ps} sh -c ...`).
  @Test func psWithoutProcPrintsItsHeaderAlone() throws {
    let s = try Self.container()
    #expect(Self.output(s, "run ps") == ["PID   USER     COMMAND"])
    #expect(Self.output(s, "run sh -c ps") == ["PID   USER     COMMAND"])
    _ = s.execute("mount proc /proc")
    #expect(Self.output(s, "run ps") == ["PID   USER     COMMAND", "    1 root     sleep 1000", "    4 root     ps"])
    #expect(
      Self.output(s, "run sh -c 'true; ps'") == [
        "PID   USER     COMMAND", "    1 root     sleep 1000", "    5 root     {ps} sh -c true; ps",
      ])
  }
}
