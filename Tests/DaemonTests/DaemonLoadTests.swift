import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// Many clients at once, each with sessions of its own: every run passes, and the daemon gives
/// back what it took. Sized for CI by BOXWALK_LOAD_CLIENTS (default 50) and BOXWALK_LOAD_SECONDS
/// (default 20): each client runs `boxwalk test --host` on the uts transcript in a loop until the
/// time is up, each run a session made and deleted. On the real kernel too, fewer clients for less
/// time (BOXWALK_LOAD_REAL_CLIENTS, default 10; BOXWALK_LOAD_REAL_SECONDS, default 10), with the
/// host snapshot taken before and after: every helper, namespace and ledger of every run is gone.
@Suite(.serialized, .hostUnchanged) struct DaemonLoadTests {
  /// The daemon's resident set size, from /proc/PID/status (proc(5)), in KiB.
  static func rss(_ pid: Int32) -> Int {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
  }

  static func setting(_ name: String, _ fallback: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) }.map { max(1, $0) } ?? fallback
  }

  /// One `boxwalk test --host` run of the uts transcript on sim: its status and output.
  static func run(socket: String, home: String, backend: String = "sim") throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: DaemonProcess.binDir + "/boxwalk")
    p.arguments = ["test", "--host", "unix://" + socket, "transcripts/01-uts.transcript", "--backend", backend]
    p.currentDirectoryURL = URL(fileURLWithPath: DaemonTranscriptTests.repo)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment["BOXWALK_HOME"] = home
    environment.removeValue(forKey: "BOXWALK_HOST")
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

  @Test func manyClientsRunTheUTSTranscriptInALoop() async throws {
    try await load(
      backend: "sim", clients: Self.setting("BOXWALK_LOAD_CLIENTS", 50),
      seconds: Self.setting("BOXWALK_LOAD_SECONDS", 20))
  }

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"), .hostUnchanged)
  func manyClientsOnTheRealKernelLeaveTheHostAsItWas() async throws {
    try await load(
      backend: "real", clients: Self.setting("BOXWALK_LOAD_REAL_CLIENTS", 10),
      seconds: Self.setting("BOXWALK_LOAD_REAL_SECONDS", 10))
  }

  func load(backend: String, clients: Int, seconds: Int) async throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let pid = daemon.process.processIdentifier
    // One run first, so the start level includes what any first session loads for good.
    let socket = daemon.socket
    let home = daemon.directory + "/client-home"
    let (warmStatus, warmOut) = try Self.run(socket: socket, home: home, backend: backend)
    #expect(warmStatus == 0, "\(warmOut)")
    let start = Self.rss(pid)
    let deadline = Date().addingTimeInterval(Double(seconds))
    let results = try await withThrowingTaskGroup(of: (runs: Int, failures: [String]).self) { group in
      for _ in 0..<clients {
        group.addTask {
          var runs = 0
          var failures: [String] = []
          repeat {
            let (status, out) = try Self.run(socket: socket, home: home, backend: backend)
            runs += 1
            if status != 0 || !out.hasSuffix("1 passed, 0 failed, 0 skipped\n") { failures.append(out) }
          } while Date() < deadline
          return (runs, failures)
        }
      }
      var all: [(runs: Int, failures: [String])] = []
      for try await result in group { all.append(result) }
      return all
    }
    let runs = results.reduce(0) { $0 + $1.runs }
    let failures = results.flatMap(\.failures)
    #expect(runs >= clients)
    #expect(failures.isEmpty, "\(failures.count) of \(runs) runs failed; the first:\n\(failures.first ?? "")")
    // Every session was deleted at the end of its run.
    #expect(try daemon.curl("GET", "/v1/sessions").body == #"{"sessions":[]}"#)
    // What the sessions took is given back: the allocator may keep some pages, not a session's
    // worth per run.
    let end = Self.rss(pid)
    #expect(
      end <= max(start + start / 4, start + 16 * 1024), "RSS \(start) KiB at the start, \(end) KiB after \(runs) runs")
    print("load (\(backend)): \(clients) clients, \(runs) runs in \(seconds) s; daemon RSS \(start) KiB -> \(end) KiB")
  }
}
