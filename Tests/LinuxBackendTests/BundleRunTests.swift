import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import OCI
import Testing

@testable import Lab
@testable import LinuxBackend

/// `box export` on the real kernel, proved by the runtimes themselves (docs/runtimes.md): crun
/// and runc start a container from the exported bundle, and what the container reports from its
/// own /proc, uname(2) and cgroupfs is the box's state. crun runs in a private mount namespace without
/// /sys/fs/cgroup/unified (this host's hybrid layout, which crun 1.8 refuses), as bench/run does.
@Suite(.requiresRoot, .hostUnchanged) struct BundleRunTests {
  static let kinds: [NamespaceKind] = [.ipc, .mnt, .net, .pid, .uts]

  /// The container's report: its hostname, then `KIND INODE-LINK` per namespace kind, then the
  /// pids limit of its own cgroup as cgroupfs shows it (mounted in its cgroup namespace, whose
  /// root is the cgroup the runtime made: the v1 pids hierarchy, or cgroup2 on a v2 host).
  static let probe =
    "/bin/busybox hostname; for k in ipc mnt net pid uts; do echo $k $(/bin/busybox readlink /proc/self/ns/$k); done; "
    + "/bin/busybox mkdir -p /cgroup-probe && { /bin/busybox mount -t cgroup -o pids none /cgroup-probe 2>/dev/null "
    + "|| /bin/busybox mount -t cgroup2 none /cgroup-probe; } && echo pids.max $(/bin/busybox cat /cgroup-probe/pids.max)"

  static func runtime(_ name: String) -> String? {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] where access(dir + "/" + name, X_OK) == 0
    {
      return dir + "/" + name
    }
    return nil
  }

  /// The box both suites export: five namespaces, a hostname, busybox entered, a proc; `extra`
  /// after the hostname.
  static func buildBox(_ kernel: LinuxKernel, extra: [String] = []) throws -> Session {
    let session = try Session(kernel: kernel)
    for line in ["box new web", "unshare uts,pid,mnt,ipc,net", "hostname lab-box"] + extra + [
      "rootfs busybox", "pivot-root", "mount proc /proc",
    ] {
      let out = session.execute(line)
      try #require(!(out.first ?? "").hasPrefix("error"), "\(line): \(out)")
    }
    return session
  }

  @Test(arguments: ["crun", "runc"])
  func aRuntimeRunsTheExportedBoxAsBuilt(_ runtime: String) throws {
    guard let binary = Self.runtime(runtime) else { return }  // not installed: nothing to prove
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", imageHome: root.path + "/images")
    defer { kernel.teardown() }
    // A cgroup with a pids limit, and a cgroup namespace, so the container can show its limit.
    let session = try Self.buildBox(kernel, extra: ["cgroup new", "cgroup set pids.max 64", "unshare cgroup"])
    let bundle = root.path + "/bundle"
    let out = session.execute("box export web \(bundle)")
    try #require(out.first?.hasPrefix("exported web") == true, "\(out)")
    var info = stat()
    #expect(lstat(bundle, &info) == 0 && info.st_mode & 0o7777 == 0o700)
    #expect(lstat(bundle + "/rootfs/bin/busybox", &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    // The mount point of the box's proc is there, empty: nothing mounted was copied.
    #expect(lstat(bundle + "/rootfs/proc", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
    #expect(root.entries("/bundle/rootfs/proc").isEmpty)

    // The process the box would run is a shell; the test asks for a report instead.
    let configPath = bundle + "/config.json"
    let config = try String(contentsOfFile: configPath, encoding: .utf8)
    try #require(config.contains("\"args\": [\"/bin/sh\"]"))
    let report = config.replacingOccurrences(
      of: "\"args\": [\"/bin/sh\"]", with: "\"args\": [\"/bin/busybox\", \"sh\", \"-c\", \(JSON.quote(Self.probe))]")
    try report.write(toFile: configPath, atomically: false, encoding: .utf8)

    let state = root.path + "/\(runtime)-state"
    let id = "boxwalk-test-\(runtime)-\(getpid())"
    let run = "\(binary) --root \(state) run --bundle \(bundle) \(id)"
    let command =
      runtime == "crun"
      ? ["unshare", "--mount", "sh", "-c", "umount /sys/fs/cgroup/unified 2>/dev/null; exec \(run)"]
      : ["sh", "-c", "exec \(run)"]
    let result = try TestChild.run(command)
    defer {
      let delete = "\(binary) --root \(state) delete -f \(id) >/dev/null 2>&1"
      _ = try? TestChild.run(runtime == "crun" ? ["unshare", "--mount", "sh", "-c", delete] : ["sh", "-c", delete])
    }
    #expect(result.status == 0, "\(runtime) run: \(result.output)")
    let lines = result.output.split(separator: "\n").map(String.init)
    let facts = try kernel.facts()
    let box = try #require(facts.box("web")?.process)
    #expect(lines.first == box.hostname, "\(lines)")
    for kind in Self.kinds {
      let host = try #require(namespaceLink("/proc/self/ns/\(kind.rawValue)"))
      let inside = lines.first { $0.hasPrefix(kind.rawValue + " ") }.map {
        String($0.dropFirst(kind.rawValue.count + 1))
      }
      let boxHasOwn = box.namespaces[kind] != facts.host.namespaces[kind]
      #expect(inside != nil, "\(kind): \(lines)")
      #expect((inside != host) == boxHasOwn, "\(kind): container \(inside ?? "-"), host \(host)")
    }
    // The limit the box set, in the cgroup the runtime made from linux.resources.
    #expect(box.cgroup?.pids.max == .value(64))
    #expect(lines.contains("pids.max 64"), "\(lines)")
  }
}

/// `boxwalk trace` on the real kernel: the runtime runs the exported bundle under strace, and
/// the box's steps each find the call that did their work.
@Suite(.requiresRoot, .hostUnchanged) struct BundleTraceTests {
  @Test(arguments: ["crun", "runc"])
  func theRuntimesCallsLineUpWithTheSteps(_ runtime: String) throws {
    guard BundleRunTests.runtime(runtime) != nil, BundleRunTests.runtime("strace") != nil else { return }
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", imageHome: root.path + "/images")
    defer { kernel.teardown() }
    let session = try BundleRunTests.buildBox(kernel)
    let bundle = root.path + "/web-bundle"
    let out = session.execute("box export web \(bundle)")
    try #require(out.first?.hasPrefix("exported web") == true, "\(out)")
    let config = try JSONValue.parse(Array(try String(contentsOfFile: bundle + "/config.json", encoding: .utf8).utf8))
    let traced = try #require(RuntimeRunner.trace(runtime: runtime, bundle: bundle, calls: RuntimeTrace.traced))
    #expect(traced.status == 0, "\(traced.trace.suffix(2000))")
    let lines = TraceComparison.lines(
      runtime: runtime, config: config, box: "web", calls: RuntimeTrace.parse(traced.trace))
    for step in ["unshare ipc,mnt,net,pid,uts", "hostname lab-box", "mount proc /proc", "pivot-root", "run /bin/sh"] {
      let row = lines.first { $0.hasPrefix("  " + step + " ") }
      #expect(row?.contains("#") == true, "\(step): \(lines)")
    }
    #expect(lines.contains { $0.hasPrefix("  capabilities:") }, "\(lines)")
  }
}
