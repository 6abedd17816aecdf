import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// `boxwalk test --host unix:///PATH` runs each transcript in the daemon's sessions and prints
/// byte for byte what the same run prints in-process.
@Suite(.serialized, .hostUnchanged) struct DaemonTranscriptTests {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// `boxwalk ARGS` from the repository's root: its status and everything it printed.
  static func boxwalk(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: DaemonProcess.binDir + "/boxwalk")
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: repo)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment.removeValue(forKey: "BOXWALK_HOST")
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test(arguments: ["sim", "real"])
  func theUTSTranscriptPrintsTheSameThroughTheDaemon(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      defer { _ = daemon.stop() }
      let file = "transcripts/01-uts.transcript"
      let home = ["BOXWALK_HOME": daemon.directory + "/client-home"]
      let local = try Self.boxwalk(["test", file, "--backend", backend], env: home)
      #expect(local.status == 0, "\(local.out)")
      #expect(local.out.hasSuffix("1 passed, 0 failed, 0 skipped\n"), "\(local.out)")
      let host = "unix://" + daemon.socket
      // The three spellings: the test option, the leading global option, the environment.
      let viaOption = try Self.boxwalk(["test", "--host", host, file, "--backend", backend], env: home)
      let viaGlobal = try Self.boxwalk(["--host", host, "test", file, "--backend", backend], env: home)
      let viaEnv = try Self.boxwalk(
        ["test", file, "--backend", backend], env: home.merging(["BOXWALK_HOST": host]) { a, _ in a })
      for run in [viaOption, viaGlobal, viaEnv] {
        #expect(run.status == local.status)
        #expect(run.out == local.out, "through the daemon:\n\(run.out)\nin-process:\n\(local.out)")
      }
      // Each run's session went through the daemon and was closed at the end.
      #expect(daemon.log.components(separatedBy: "POST /v1/sessions -> 201").count - 1 == 3, "\(daemon.log)")
      #expect(try daemon.curl("GET", "/v1/sessions").body == #"{"sessions":[]}"#)
    }
  }

  /// The commands that are not daemon clients refuse a host instead of ignoring it; the REPL is a
  /// client, and says so when no daemon answers.
  @Test func commandsThatAreNotClientsRefuseAHost() throws {
    let run = try Self.boxwalk(["--host", "unix:///nonexistent.sock", "lint", "lessons/01-uts.md"])
    #expect(run.status == 2)
    #expect(run.out.hasPrefix("error: lint does not run as a daemon client"), "\(run.out)")
    let repl = try Self.boxwalk(["--host", "unix:///nonexistent.sock", "--backend", "sim"])
    #expect(repl.status == 3)
    #expect(repl.out.hasPrefix("error: daemon at unix:///nonexistent.sock: "), "\(repl.out)")
    // The errno by name, as 17-client-daemon teaches it, not NIO's name for its connect function.
    #expect(repl.out.contains("connect(2): ENOENT: no such file or directory"), "\(repl.out)")
    #expect(!repl.out.contains("descriptor:addr"), "\(repl.out)")
    let bad = try Self.boxwalk(["test", "--host", "http://127.0.0.1:1", "transcripts/01-uts.transcript"])
    #expect(bad.status == 2 && bad.out.hasPrefix("error: --host takes unix:///PATH"), "\(bad.out)")
  }
}
