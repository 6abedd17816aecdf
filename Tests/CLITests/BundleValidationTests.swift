import Foundation
import Testing

/// `box export` writes bundles that opencontainers/runtime-tools accepts: its validate package
/// (Debian's golang-github-opencontainers-runtime-tools-dev, which scripts/deps installs for the
/// tests) checks each config.json against the runtime-spec's JSON Schema and its own rules
/// (tools/oci-validate says how it is run). The boxes are made on the simulator, whose bundles
/// are the same bytes as the real kernel's (BundleExportTests); crun and runc run them on the
/// real kernel in BundleRunTests.
@Suite(.serialized) struct BundleValidationTests {
  static let gopath = "/usr/share/gocode"
  static let available =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/go")
    && FileManager.default.fileExists(atPath: gopath + "/src/github.com/opencontainers/runtime-tools/validate")

  /// Builds tools/oci-validate into a scratch directory (a few seconds).
  static func buildValidator(into dir: String) throws -> String {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
    let out = dir + "/oci-validate"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/go")
    p.arguments = ["build", "-o", out, "."]
    p.currentDirectoryURL = URL(fileURLWithPath: repo + "/tools/oci-validate")
    var env = ProcessInfo.processInfo.environment
    env["GOPATH"] = gopath
    env["GO111MODULE"] = "off"
    env["GOCACHE"] = dir + "/gocache"
    p.environment = env
    let run = try CommandLineTests.run(p, input: "")
    #expect(run.status == 0, "go build: \(run.out)")
    return out
  }

  static let boxes: [(name: String, lines: [String])] = [
    (
      "container",
      [
        "box new web", "unshare mnt,uts,pid,ipc,net,cgroup", "hostname web", "cgroup new", "cgroup set pids.max 64",
        "cgroup set memory.max 64M", "cgroup set cpu.max \"50000 100000\"", "rootfs busybox", "pivot-root",
        "mount proc /proc", "mount dev /dev", "mount mqueue /dev/mqueue", "mount tmpfs /tmp",
      ]
    ),
    (
      "user",
      [
        "box new u", "unshare mnt,uts", "rootfs busybox", "mount bind /etc /mnt",
        "unshare user", "map uid 0 100000 65536", "map gid 0 100000 65536",
      ]
    ),
    (
      "joined",
      ["box new a", "unshare net,ipc", "box new b", "unshare mnt,uts", "join net a", "join ipc a", "rootfs busybox"]
    ),
  ]

  @Test(.enabled(if: available, "go and runtime-tools are not installed: scripts/deps installs them for the tests"))
  func everyExportedBundlePassesRuntimeTools() throws {
    let dir = NSTemporaryDirectory() + "boxwalk-oci-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let validator = try Self.buildValidator(into: dir)
    for box in Self.boxes {
      let bundle = dir + "/" + box.name
      let last = box.lines.first { $0.hasPrefix("box new") }.map { String($0.split(separator: " ").last ?? "") }
      let boxName = box.name == "joined" ? "b" : last ?? ""
      let session = try CommandLineTests.boxwalk(
        ["--backend", "sim"], input: (box.lines + ["box export \(boxName) \(bundle)"]).joined(separator: "\n") + "\n")
      #expect(
        FileManager.default.fileExists(atPath: bundle + "/config.json"), "\(box.name): no bundle\n\(session.out)")
      let p = Process()
      p.executableURL = URL(fileURLWithPath: validator)
      p.arguments = [bundle]
      let check = try CommandLineTests.run(p, input: "")
      #expect(check.status == 0 && check.out.contains("valid"), "\(box.name): \(check.out)\n\(session.out)")
    }
  }

  /// A box with a time namespace of its own says runtime-spec 1.1.0, where the `time` type and
  /// `timeOffsets` were added; Debian's runtime-tools knows 1.0.2 only, so it is not run on it.
  @Test func aTimeNamespaceMakesTheBundleSpec110() throws {
    let dir = NSTemporaryDirectory() + "boxwalk-oci-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let lines = [
      "box new t", "unshare mnt,time", "clock offset monotonic 100", "rootfs busybox", "box export t \(dir)",
    ]
    _ = try CommandLineTests.boxwalk(["--backend", "sim"], input: lines.joined(separator: "\n") + "\n")
    let config = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
    #expect(config.contains(#""ociVersion": "1.1.0""#), "\(config)")
    #expect(config.contains(#""type": "time""#) && config.contains("timeOffsets"))
  }

  /// The way back: a bundle box export wrote imports as a box with the same hostname, limits and
  /// mounts; a config.json that is not JSON is refused and changes nothing.
  @Test func anExportedBundleImportsBack() throws {
    let dir = NSTemporaryDirectory() + "boxwalk-oci-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir + "/junk", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "not json".write(toFile: dir + "/junk/config.json", atomically: true, encoding: .utf8)
    let lines =
      Self.boxes[0].lines + [
        "box export web \(dir)/web", "box import-bundle \(dir)/web web2", "show web2.hostname",
        "show web2.cgroup.pids.max", "box import-bundle \(dir)/junk", "box ls",
      ]
    let run = try CommandLineTests.boxwalk(["--backend", "sim"], input: lines.joined(separator: "\n") + "\n")
    #expect(run.out.contains("imported web2 from \(dir)/web"), "\(run.out)")
    #expect(run.out.contains("web2.hostname = \"web\""))
    #expect(run.out.contains("web2.cgroup.pids.max = 64"))
    #expect(run.out.contains("error: \(dir)/junk/config.json is not JSON"))
    #expect(!run.out.contains("box junk"))
  }

  /// The control: the validator does refuse a bundle that breaks the spec.
  @Test(.enabled(if: available, "go and runtime-tools are not installed: scripts/deps installs them for the tests"))
  func theValidatorRefusesABrokenBundle() throws {
    let dir = NSTemporaryDirectory() + "boxwalk-oci-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir + "/bad/rootfs", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let validator = try Self.buildValidator(into: dir)
    let config = #"""
      {"ociVersion": "1.0.2", "process": {"cwd": "relative", "args": ["/bin/sh"], "user": {"uid": 0, "gid": 0}},
       "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "bogus"}]}}
      """#
    try config.write(toFile: dir + "/bad/config.json", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: validator)
    p.arguments = [dir + "/bad"]
    let check = try CommandLineTests.run(p, input: "")
    #expect(check.status == 1)
    #expect(check.out.contains("bogus") || check.out.contains("namespaces"), "\(check.out)")
    #expect(check.out.contains("not an absolute path"), "\(check.out)")
  }
}
