import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// The rootless backend as its users run it: an unprivileged user (here nobody, uid 65534, through
/// setpriv(1)) with unprivileged user namespaces (README.md, "Backends"). Runs only as root, which
/// can become nobody; CI runs as root, so CI covers sim, real and rootless.
@Suite(
  .serialized, .hostUnchanged,
  .enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "needs root and setpriv(1) to become nobody"))
struct RootlessBackendTests {
  static let nobody: uid_t = 65534

  /// A private directory owned by nobody with copies of the two binaries and the transcripts
  /// (the build directory may not be readable by nobody), removed by `remove()`.
  struct Sandbox {
    let path: String

    init() throws {
      var template = Array("/tmp/boxwalk-rootless-test-XXXXXX".utf8CString)
      guard let made = mkdtemp(&template) else { throw POSIXError(.EACCES) }
      path = String(cString: made)
      let fm = FileManager.default
      try fm.createDirectory(atPath: path + "/bin", withIntermediateDirectories: false)
      for name in ["boxwalk", "boxwalk-helper"] {
        try fm.copyItem(atPath: CommandLineTests.binDir + "/" + name, toPath: path + "/bin/" + name)
      }
      try fm.copyItem(atPath: TranscriptReplayTests.root + "/transcripts", toPath: path + "/transcripts")
      for sub in ["", "/bin", "/bin/boxwalk", "/bin/boxwalk-helper", "/transcripts"] {
        chown(path + sub, RootlessBackendTests.nobody, RootlessBackendTests.nobody)
      }
      for file in (try? fm.contentsOfDirectory(atPath: path + "/transcripts")) ?? [] {
        chown(path + "/transcripts/" + file, RootlessBackendTests.nobody, RootlessBackendTests.nobody)
      }
      chmod(path, 0o700)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// `boxwalk ARGS` as nobody, with HOME and XDG_RUNTIME_DIR in the sandbox and nothing else
    /// of root's environment.
    func boxwalk(_ args: [String], input: String = "") throws -> CommandLineTests.Run {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
      p.arguments =
        ["--reuid=65534", "--regid=65534", "--clear-groups", "--", path + "/bin/boxwalk"] + args
      p.environment = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": path,
        "XDG_RUNTIME_DIR": path, "NO_COLOR": "1",
      ]
      p.currentDirectoryURL = URL(fileURLWithPath: path)
      return try CommandLineTests.run(p, input: input)
    }
  }

  func withSandbox(_ body: (Sandbox) throws -> Void) throws {
    let sandbox = try Sandbox()
    defer { sandbox.remove() }
    try body(sandbox)
    // Teardown removed the session directory: only the state root itself is left.
    let left = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.path + "/boxwalk")) ?? []
    #expect(left.filter { $0 != ".lock" && !$0.hasPrefix(".") }.isEmpty, "session state left behind: \(left)")
  }

  @Test func everyTranscriptThatAllowsItPassesRootless() throws {
    try withSandbox { s in
      let r = try s.boxwalk(["test", "transcripts/", "--backend", "rootless"])
      #expect(r.status == 0, Comment(rawValue: r.out))
      let summary = r.lines.last { !$0.isEmpty } ?? ""
      #expect(summary.contains(" passed, 0 failed, "), Comment(rawValue: r.out))
      // 01-uts, 02-pid, 03-ipc and 07-images at least: a rootless run that skips everything is no test.
      #expect((Int(summary.split(separator: " ").first ?? "") ?? 0) >= 4, Comment(rawValue: summary))
    }
  }

  @Test func anUnprivilegedUserGetsRootlessAutomatically() throws {
    try withSandbox { s in
      let r = try s.boxwalk([], input: "box new web\nunshare uts\nhostname lab\nhostname\n")
      #expect(r.status == 0, Comment(rawValue: r.out))
      #expect(r.lines.first?.hasPrefix("backend: rootless") == true, Comment(rawValue: r.out))
      #expect(r.lines.contains("lab"), Comment(rawValue: r.out))
      let doctor = try s.boxwalk(["doctor"])
      #expect(doctor.lines.contains("default backend here: rootless"), Comment(rawValue: doctor.out))
    }
  }

  @Test func loopbackWorksInAnUnsharedNetworkNamespace() throws {
    try withSandbox { s in
      let r = try s.boxwalk(["--backend", "rootless"], input: "box new web\nunshare net\nnet up lo\nping 127.0.0.1\n")
      #expect(r.status == 0, Comment(rawValue: r.out))
      #expect(r.lines.contains("127.0.0.1 is reachable from web"), Comment(rawValue: r.out))
    }
  }

  @Test(arguments: [
    ("cgroup new", "error: cgroups need root on this machine"),
    ("net veth", "error: the lab's host side needs root on this machine"),
    ("net bridge br0", "error: the lab's host side needs root on this machine"),
    ("ping 127.0.0.1 --from host", "error: ping from the host side needs root on this machine"),
    ("connect 127.0.0.1:80 --from host", "error: the lab's host side needs root on this machine"),
    ("net listen 80 --on host", "error: the lab's host side needs root on this machine"),
  ])
  func hostPrivilegedStepsAreRefusedInOneLine(_ command: String, _ headline: String) throws {
    try withSandbox { s in
      let r = try s.boxwalk(["--backend", "rootless"], input: "box new web\nunshare net\n\(command)\nbox ls\n")
      let line = r.lines.first { $0.hasPrefix("error: ") } ?? ""
      #expect(line.hasPrefix(headline), Comment(rawValue: r.out))
      #expect(line.hasSuffix("use --backend real (as root)"), Comment(rawValue: r.out))
      #expect(r.out.contains("state:   nothing was changed"), Comment(rawValue: r.out))
      // The session goes on after the refusal.
      #expect(r.lines.contains("boxwalk[web]> box ls"), Comment(rawValue: r.out))
    }
  }

  /// proc before pivot_root works; after it the kernel refuses, and the error says why and what
  /// to do instead.
  @Test func procMountsBeforePivotRootAndSaysWhyNotAfter() throws {
    try withSandbox { s in
      let r = try s.boxwalk(
        ["--backend", "rootless"],
        input: "box new web\nunshare pid,mnt\nmount proc /proc\nrootfs busybox\npivot-root\nmount proc /proc\n")
      #expect(r.out.contains("mounted proc on /proc in web's mount namespace mnt:1"), Comment(rawValue: r.out))
      #expect(
        r.out.contains("web's root is now its overlay of busybox (pivot_root) root filesystem"),
        Comment(rawValue: r.out))
      #expect(r.out.contains("mount it before pivot-root), or use --backend real"), Comment(rawValue: r.out))
    }
  }

  @Test func theRealBackendAsNobodyIsAnErrorNotAFallback() throws {
    try withSandbox { s in
      let r = try s.boxwalk(["--backend", "real"], input: "box new web\n")
      #expect(r.status == 3, Comment(rawValue: r.out))
      #expect(r.lines.contains("error: the real backend needs root"), Comment(rawValue: r.out))
      #expect(!r.out.contains("backend: "), Comment(rawValue: r.out))
    }
  }

  /// Root may force the rootless backend too (a preview of what an unprivileged learner gets):
  /// the session's user namespace maps root to 0, and cgroups are still refused.
  @Test func rootCanForceRootless() throws {
    let runtime = NSTemporaryDirectory() + "boxwalk-runtime-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: runtime) }
    let r = try CommandLineTests.boxwalk(
      ["--backend", "rootless"], input: "box new web\nunshare uts\ncgroup new\n", env: ["XDG_RUNTIME_DIR": runtime])
    #expect(r.lines.first?.hasPrefix("backend: rootless") == true, Comment(rawValue: r.out))
    #expect(r.out.contains("error: cgroups need root on this machine"), Comment(rawValue: r.out))
  }
}
