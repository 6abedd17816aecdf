import Foundation
import Glibc
import Testing

enum RegistryBinary {
  static let path: String? = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
}

/// `image push` and `image pull` against a real registry server on loopback: Debian's
/// docker-registry (the CNCF distribution registry), started for each test on a free port with a
/// throwaway config and storage directory, and stopped by its PID afterwards. scripts/deps and
/// .ci/run install it; without it the tests are skipped with that reason. They are part of the
/// serialized CommandLineTests, so no other REPL session runs beside theirs.
extension CommandLineTests {
  /// A registry server and its files, for one test.
  final class Server {
    let directory: String
    let port: Int
    let process = Process()

    init() throws {
      directory = NSTemporaryDirectory() + "boxwalk-registry-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
      port = try Self.freePort()
      let config = """
        version: 0.1
        log:
          level: error
        storage:
          filesystem:
            rootdirectory: \(directory)/data
        http:
          addr: 127.0.0.1:\(port)
        """
      try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
      process.executableURL = URL(fileURLWithPath: RegistryBinary.path ?? "/usr/bin/docker-registry")
      process.arguments = ["serve", directory + "/config.yml"]
      process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
      process.standardError = FileHandle(forWritingAtPath: "/dev/null")
      try process.run()
      // Ready when it accepts a connection (at most 10 s).
      for _ in 0..<100 where !Self.accepts(port) { usleep(100_000) }
    }

    /// Stop it by its PID, wait for it, remove its files.
    func stop() {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
      try? FileManager.default.removeItem(atPath: directory)
    }

    /// A port nobody listens on now: bind port 0 on loopback and read what the kernel chose.
    static func freePort() throws -> Int {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      defer { close(fd) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
      }
      guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
      return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      defer { close(fd) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port)).bigEndian
      address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
      }
    }
  }

  /// A session with its own image store (BOXWALK_HOME), removed afterwards.
  static func registrySession(_ backend: String, _ commands: [String]) throws -> [String] {
    let home = NSTemporaryDirectory() + "boxwalk-home-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: home) }
    let run = try CommandLineTests.boxwalk(
      ["--backend", backend], input: commands.joined(separator: "\n") + "\n", env: ["BOXWALK_HOME": home])
    // The first line names the backend; a line about cleaning up other sessions may come first.
    return Array(run.lines.drop { !$0.hasPrefix("backend:") }.dropFirst())
  }

  @Test(
    .enabled(if: geteuid() == 0, "the real backend needs root"),
    .enabled(if: RegistryBinary.path != nil, "docker-registry is not installed (apt-get install docker-registry)"))
  func pushAndPullSpeakTheDistributionAPIAndPrintWhatTheSimulatorPrints() throws {
    let server = try Server()
    defer { server.stop() }
    #expect(Server.accepts(server.port), "docker-registry did not start on port \(server.port)")
    let ref = "127.0.0.1:\(server.port)/site:v1"
    let build = [
      "box new build", "unshare mnt", "overlay busybox", "write /srv/index.html 'served from a registry'",
      "commit site:v1",
      "image tag site:v1 \(ref)", "image push \(ref)", "image push \(ref)", "image pull \(ref)",
    ]
    let real = try Self.registrySession("real", build)
    #expect(real == (try Self.registrySession("sim", build)))
    #expect(real.contains("layer site:v1: pushed"))
    #expect(real.contains("layer site:v1: already in the registry"))

    // Another host, as far as images go: an empty store pulls the layer it lacks, checks it,
    // and mounts it.
    let other = try Self.registrySession(
      "real",
      [
        "image pull \(ref)", "box new web", "unshare mnt", "overlay \(ref)", "cat /srv/index.html",
        "which /srv/index.html",
      ])
    #expect(other.contains("manifest: site:v1, 2 layers"))
    #expect(other.contains("layer site:v1: pulled"))
    #expect(other.contains("served from a registry"))
    #expect(other.contains("/srv/index.html: file from layer site:v1 (read-only)"))

    let missing = try Self.registrySession("real", ["image pull 127.0.0.1:\(server.port)/site:v9"])
    #expect(missing.contains { $0.contains("has no site:v9") })
  }

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func nothingListeningToARegistryIsAClearError() throws {
    let port = try Server.freePort()
    let out = try Self.registrySession("real", ["image pull 127.0.0.1:\(port)/site:v1"])
    #expect(out.contains { $0.hasSuffix("ECONNREFUSED") })
  }
}
