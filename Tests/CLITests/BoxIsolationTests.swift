import Foundation
import HostSnapshotSupport
import Testing

/// Nothing of the host reaches a box process (docs/security.md; CVE-2024-21626 and
/// CVE-2019-5736 patterns): it holds only fds 0, 1 and 2, starts in "/", runs with no_new_privs,
/// and in a box with its own pid namespace and proc nothing of boxwalk is visible.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct BoxIsolationTests {
  func run(_ lines: [String]) throws -> [String] {
    let r = try CommandLineTests.boxwalk(["--backend", "real"], input: lines.joined(separator: "\n") + "\n")
    return r.lines
  }

  /// The least a box needs before it runs a program: its own root, pid and IPC namespaces, and a
  /// proc of its pid namespace (mounted before pivot-root, where the host's is still in view).
  static let container = [
    "box new web", "unshare mnt,pid,ipc", "rootfs busybox", "mount proc /proc", "pivot-root", "run -d sleep 1000",
  ]

  /// CVE-2024-21626: runc leaked a host directory fd into the container (WORKDIR /proc/self/fd/7).
  @Test func aBoxProcessHoldsOnlyItsThreeStandardFds() throws {
    let out = try run(Self.container + ["run sh -c 'ls /proc/self/fd | tr \"\\n\" \" \"'"])
    // ls opens one more fd itself (3, the directory it lists): nothing else is open.
    #expect(out.contains("0 1 2 3 "), "\(out)")
  }

  @Test func aBoxProcessStartsInTheRootDirectoryWithNoNewPrivileges() throws {
    let out = try run(Self.container + ["run pwd", "run sh -c 'grep NoNewPrivs /proc/self/status | tr -d \"\\t\"'"])
    #expect(out.contains("/"), "\(out)")
    #expect(out.contains("NoNewPrivs:1"), "\(out)")
  }

  /// CVE-2019-5736: the container reached the runtime's own binary through /proc/PID/exe. A box
  /// with its own pid namespace and proc sees its own processes only, never boxwalk or its helper.
  @Test func boxwalkIsNotReachableThroughTheBoxsProc() throws {
    let out = try run(Self.container + ["run sh -c 'for p in /proc/[0-9]*; do readlink $p/exe; done'"])
    let programs = out.filter { $0.hasPrefix("/") }
    #expect(!programs.isEmpty, "\(out)")
    #expect(!programs.contains { $0.contains("boxwalk") }, "\(programs)")
  }

  /// A box program keeps Docker's default capabilities and no others, whatever the helper has:
  /// no CAP_SYS_ADMIN to mount or rename the host, no CAP_NET_ADMIN, no CAP_SYS_MODULE.
  /// 0xa80425fb is CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
  /// NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
  @Test func aBoxProgramHasDockersDefaultCapabilitiesOnly() throws {
    let out = try run(
      Self.container + ["run sh -c 'grep -E \"^Cap(Bnd|Eff|Prm|Inh|Amb)\" /proc/self/status | tr -d \"\\t\"'"])
    #expect(out.contains("CapBnd:00000000a80425fb"), "\(out)")
    #expect(out.contains("CapEff:00000000a80425fb"), "\(out)")
    #expect(out.contains("CapPrm:00000000a80425fb"), "\(out)")
    #expect(out.contains("CapInh:0000000000000000"), "\(out)")
    #expect(out.contains("CapAmb:0000000000000000"), "\(out)")
    // And so a root program cannot mount, even in its own mount namespace.
    let mount = try run(Self.container + ["run mount -t tmpfs none /tmp"])
    #expect(mount.contains("mount: permission denied (are you root?)"), "\(mount)")
    #expect(mount.contains("`mount -t tmpfs none /tmp` ran as PID 2 in pid:1: exit status 1"), "\(mount)")
  }
}
