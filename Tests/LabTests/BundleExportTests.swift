import Kernel
import OCI
import Simulator
import Synchronization
import Testing

@testable import Lab

/// `box export`: the config.json is a pure function of the facts (BundleConfig), checked here on
/// the simulator's facts; the files go through the writer the CLI gives (a fixture here).
@Suite struct BundleExportTests {
  func session(_ lines: [String]) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines {
      let out = s.execute(l)
      #expect(!(out.first ?? "").hasPrefix("error"), "\(l): \(out)")
    }
    return s
  }

  static let built = [
    "box new web", "unshare uts,pid,mnt,ipc,net", "hostname lab-box", "cgroup new", "cgroup set pids.max 10",
    "cgroup set memory.max 32M", "rootfs busybox", "pivot-root", "mount proc /proc", "mount tmpfs /tmp",
  ]

  func config(_ s: Session, _ box: String) throws -> JSONValue {
    let made = try BundleConfig.make(box: box, facts: s.facts)
    #expect(made.json.last == UInt8(ascii: "\n"))
    return try JSONValue.parse(made.json)
  }

  @Test func aBuiltBoxBecomesItsConfig() throws {
    let s = try session(Self.built)
    let doc = try config(s, "web")
    #expect(doc["ociVersion"]?.string == "1.0.2")
    #expect(doc["hostname"]?.string == "lab-box")
    #expect(doc["root"]?["path"]?.string == "rootfs")
    #expect(doc["process"]?["args"]?.array?.compactMap(\.string) == ["/bin/sh"])
    let types = doc["linux"]?["namespaces"]?.array?.compactMap { $0["type"]?.string }
    #expect(types == ["ipc", "mount", "network", "pid", "uts"])
    #expect(doc["linux"]?["namespaces"]?.array?.allSatisfy { $0["path"] == nil } == true)
    #expect(doc["linux"]?["resources"]?["pids"]?["limit"]?.int == 10)
    #expect(doc["linux"]?["resources"]?["memory"]?["limit"]?.int == 32 << 20)
    let mounts = doc["mounts"]?.array?.compactMap { m in m["destination"]?.string.map { ($0, m["type"]?.string ?? "") }
    }
    #expect(mounts?.map(\.0) == ["/proc", "/tmp"])
    #expect(mounts?.map(\.1) == ["proc", "tmpfs"])
    #expect(doc["linux"]?["uidMappings"] == nil)
  }

  @Test func aContainersDevIsLeftToTheRuntimeToFill() throws {
    let s = try session(Self.built + ["mount dev /dev", "mount mqueue /dev/mqueue"])
    let doc = try config(s, "web")
    let mounts = doc["mounts"]?.array ?? []
    #expect(mounts.compactMap { $0["destination"]?.string } == ["/dev", "/dev/mqueue", "/proc", "/tmp"])
    // The runtime makes device nodes there: a nodev tmpfs would refuse to open them (EACCES).
    let dev = mounts.first { $0["destination"]?.string == "/dev" }
    #expect(dev?["options"]?.array?.contains { $0.string == "nodev" } == false)
    let tmp = mounts.first { $0["destination"]?.string == "/tmp" }
    #expect(tmp?["options"]?.array?.contains { $0.string == "nodev" } == true)
  }

  @Test func theSameFactsGiveTheSameBytes() throws {
    let a = try BundleConfig.make(box: "web", facts: try session(Self.built).facts)
    let b = try BundleConfig.make(box: "web", facts: try session(Self.built).facts)
    #expect(a == b)
  }

  @Test func aJoinedNamespaceIsAPathToTheBoxThatMadeIt() throws {
    let s = try session([
      "box new web", "unshare uts,mnt", "box new db", "unshare mnt", "join uts web", "rootfs busybox",
    ])
    let doc = try config(s, "db")
    let uts = doc["linux"]?["namespaces"]?.array?.first { $0["type"]?.string == "uts" }
    let webPID = try #require(s.facts.box("web")?.process.hostPID)
    #expect(uts?["path"]?.string == "/proc/\(webPID)/ns/uts")
    #expect(doc["hostname"] != nil)
    let summary = try BundleConfig.make(box: "db", facts: s.facts).summary
    #expect(summary.contains { $0.contains("joined uts of web") })
  }

  @Test func aUserNamespaceCarriesItsMaps() throws {
    let s = try session([
      "box new web", "unshare user,mnt", "map uid 0 0 1", "map gid 0 0 1", "overlay busybox",
    ])
    let doc = try config(s, "web")
    let uid = doc["linux"]?["uidMappings"]?.array?.first
    #expect(uid?["containerID"]?.int == 0)
    #expect(uid?["hostID"]?.int == 0)
    #expect(uid?["size"]?.int == 1)
    #expect(doc["linux"]?["gidMappings"]?.array?.count == 1)
  }

  @Test(arguments: [
    (["box new web"], "rootfs IMAGE first"),
    (["box new web", "unshare mnt", "rootfs busybox", "unshare user"], "map uid"),
  ])
  func whatCannotBeExportedIsRefusedWithAFix(_ lines: [String], _ fix: String) throws {
    let s = try session(lines)
    #expect(throws: BundleConfig.Refusal.self) { try BundleConfig.make(box: "web", facts: s.facts) }
    let out = s.execute("box export web /tmp/never-written")
    #expect(out.first?.hasPrefix("error: cannot export web") == true, "\(out)")
    #expect(out.contains { $0.contains(fix) }, "\(out)")
  }

  @Test(arguments: ["relative/dir", "/tmp/../etc", "/"])
  func theDirectoryIsACleanAbsolutePath(_ dir: String) throws {
    let s = try session(Self.built)
    let out = s.execute("box export web \(dir)")
    #expect(out.first?.hasPrefix("error: box export needs a clean absolute directory") == true, "\(out)")
  }

  @Test func theSimulatorHandsItsFilesToTheWriter() throws {
    let kernel = SimulatedKernel()
    let written = Mutex<[(String, [UInt8], LayerContents)]>([])
    kernel.bundleWriter = { dir, config, rootfs in
      written.withLock { $0.append((dir, config, rootfs)) }
      return .success(())
    }
    let s = try Session(kernel: kernel)
    for l in Self.built + ["write /etc/motd hello"] { _ = s.execute(l) }
    let out = s.execute("box export web /tmp/web-bundle/")
    #expect(out.first?.hasPrefix("exported web as an OCI runtime bundle in /tmp/web-bundle:") == true, "\(out)")
    #expect(out.contains { $0.hasPrefix("  shell    mkdir -m 0700 /tmp/web-bundle && cp -a") })
    #expect(out.contains { $0 == "  config   hostname    \"lab-box\"" }, "\(out)")
    let got = try #require(written.withLock { $0.first })
    #expect(got.0 == "/tmp/web-bundle")
    #expect(got.1 == (try BundleConfig.make(box: "web", facts: s.facts)).json)
    #expect(got.2["/etc/motd"]?.kind == .file(Array("hello\n".utf8)))
    #expect(got.2["/bin/busybox"] != nil)
    #expect(got.2.entries.values.allSatisfy { $0.kind != .whiteout })
  }

  @Test func withoutAWriterTheSimulatorSaysSo() throws {
    let s = try session(Self.built)
    let out = s.execute("box export web /tmp/web-bundle")
    #expect(out.first?.hasPrefix("error: ") == true)
    #expect(out.contains { $0.contains("ENOSYS") }, "\(out)")
  }
}
