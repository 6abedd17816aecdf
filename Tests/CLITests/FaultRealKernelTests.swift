import Glibc
import HostSnapshotSupport
import Kernel
import Lab
import LinuxBackend
import Simulator
import Testing

/// Failing steps roll back, on the real kernel as on the simulator: no fault hook here, so each
/// case is a command the kernel itself refuses. The checks are the simulator's
/// (FaultInjectionTests): the error names the call and the errno, nothing changed (the state tree
/// and the kernel's own facts, inode for inode), the session goes on; and the simulator predicts
/// the refusal word for word (the same errno for the same mistake is what makes one transcript pass
/// on both).
@Suite(.enabled(if: geteuid() == 0, "the real backend needs root"), .hostUnchanged)
struct FaultRealKernelTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let setup: [String]
    let command: String
    let errno: Errno
    var testDescription: String { name }
  }

  /// Mistakes the kernel refuses. New capabilities plug in here with theirs: a mount on a path
  /// that does not exist (ENOENT), pivot_root into a non-mount-point (EINVAL), a memory limit
  /// below usage (EBUSY), a veth name that exists (EEXIST).
  static let cases: [Case] = [
    // pid_namespaces(7): unshare(CLONE_NEWPID) again before a process entered the first one.
    Case(name: "second unshare pid", setup: ["box new web", "unshare pid"], command: "unshare pid", errno: .EINVAL),
    // proc(5): opening another process's /proc/PID/ns/* needs PTRACE_MODE_READ; the helpers are
    // non-dumpable, and a box in a user namespace of its own has no CAP_SYS_PTRACE on the host.
    Case(
      name: "join from a child user namespace",
      setup: ["box new web", "unshare uts", "box new db", "unshare user"], command: "join uts web", errno: .EACCES),
    // user_namespaces(7): the UTS namespace still belongs to the host's user namespace, where the
    // box has no CAP_SYS_ADMIN any more.
    Case(
      name: "hostname after unshare user", setup: ["box new web", "unshare uts", "unshare user"],
      command: "hostname lab", errno: .EPERM),
    // setns(2): "the caller is already in that user namespace" is EINVAL.
    Case(
      name: "join its own user namespace", setup: ["box new web", "unshare user"], command: "join user web",
      errno: .EINVAL),
    // A pid namespace with no process in it has no /proc/PID/ns/pid_for_children to open.
    Case(
      name: "join a pid namespace nobody entered", setup: ["box new web", "unshare pid", "box new db"],
      command: "join pid web", errno: .ENOENT),
  ]

  /// The machine's names, so the simulated host prints what the real one does (BackendChoice does
  /// the same for `--backend sim`).
  static func simulator() -> SimulatedKernel {
    func read(_ path: String) -> String {
      ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return SimulatedKernel(
      hostname: read("/proc/sys/kernel/hostname"), domainname: read("/proc/sys/kernel/domainname"))
  }

  @Test(arguments: cases)
  func theKernelRefusesChangesNothingAndTheSimulatorAgrees(_ c: Case) throws {
    let real = try Session(kernel: LinuxKernel(helperPath: CommandLineTests.binDir + "/boxwalk-helper"))
    defer { real.close() }
    let sim = try Session(kernel: Self.simulator())
    defer { sim.close() }
    for line in c.setup {
      let (r, s) = (real.execute(line), sim.execute(line))
      #expect(r.first?.hasPrefix("error:") == false, "setup \(line): \(r)")
      #expect(r == s, "setup \(line)")
    }
    let tree = real.tree
    let facts = try real.kernel.facts()

    let out = real.execute(c.command)
    let call = try #require(out.first?.dropFirst("error: ".count).split(separator: ":").first, "\(out)")
    #expect(out.first == "error: \(call): \(c.errno.name)", "\(out)")
    #expect(out.last?.hasSuffix("nothing was changed") == true, "\(out)")
    // Rolled back: the same namespaces (by inode), the same names, the same current box.
    #expect(real.tree == tree)
    #expect(try real.kernel.facts() == facts)
    // The simulator predicts the refusal exactly.
    #expect(sim.execute(c.command) == out)

    // The session goes on, on both kernels alike.
    for line in ["box new after", "unshare ipc", "box ls", "ns"] {
      let (r, s) = (real.execute(line), sim.execute(line))
      #expect(r.first?.hasPrefix("error:") == false, "\(line): \(r)")
      #expect(r == s, "\(line)")
    }
  }
}
