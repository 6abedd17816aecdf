import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// A client told to die (SIGTERM, SIGHUP, Ctrl-C where it ends the program) deletes the session
/// it made in the daemon; one killed outright (SIGKILL) cannot, and leaves a consistent session
/// whose step ran once (docs/daemon.md, "A client that is told to die").
@Suite(.serialized, .hostUnchanged) struct DaemonClientSignalTests {
  /// A client process with its standard input kept open (a pipe), so it waits for more lines.
  final class Client {
    let process = Process()
    let input = Pipe()
    let logPath: String

    init(_ args: [String], daemon: DaemonProcess, name: String) throws {
      logPath = daemon.directory + "/" + name + ".out"
      _ = FileManager.default.createFile(atPath: logPath, contents: nil)
      process.executableURL = URL(fileURLWithPath: DaemonProcess.binDir + "/boxwalk")
      process.arguments = args
      process.currentDirectoryURL = URL(fileURLWithPath: DaemonTranscriptTests.repo)
      var environment = ProcessInfo.processInfo.environment
      environment["NO_COLOR"] = "1"
      environment["BOXWALK_HOME"] = daemon.directory + "/home-" + name
      // Lesson progress too: never the user's own.
      environment["XDG_STATE_HOME"] = daemon.directory + "/state-" + name
      environment["BOXWALK_HOST"] = "unix://" + daemon.socket
      process.environment = environment
      let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
      process.standardOutput = log
      process.standardError = log
      process.standardInput = input
      try process.run()
    }

    func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit: the status (128 + N for a handled signal) or, for a
    /// process the signal killed, the signal.
    func stop(_ signal: Int32) -> Int32 {
      kill(process.processIdentifier, signal)
      process.waitUntilExit()
      return process.terminationStatus
    }
  }

  /// Polls until `condition` holds (up to 20 s).
  static func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
    for _ in 0..<400 {
      if try condition() { return }
      usleep(50_000)
    }
    throw DaemonProcess.Failure(description: "timed out waiting for \(what)")
  }

  static func sessionIDs(_ daemon: DaemonProcess) throws -> [String] {
    let body = try daemon.curl("GET", "/v1/sessions").body
    let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    return ((object?["sessions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
  }

  /// A piped client REPL (no terminal: Ctrl-C ends it, as in-process) deletes its session on
  /// each of the three signals and exits 128 + the signal.
  @Test(arguments: [SIGTERM, SIGHUP, SIGINT])
  func aSignalledClientREPLDeletesItsSession(signal: Int32) throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let client = try Client(["--backend", "sim"], daemon: daemon, name: "repl")
    client.send("box new web")
    try Self.waitFor("the client's first step") { client.output.contains("created box web") }
    let ids = try Self.sessionIDs(daemon)
    #expect(ids.count == 1)
    let start = Date()
    #expect(client.stop(signal) == 128 + signal, "\(client.output)")
    // At once, not after the 10 s the client gives a daemon that does not answer.
    #expect(Date().timeIntervalSince(start) < 5)
    #expect(try Self.sessionIDs(daemon) == [], "the session outlived its client: \(daemon.log)")
    #expect(daemon.log.contains("DELETE /v1/sessions/\(ids.first ?? "?") -> 200"), "\(daemon.log)")
  }

  /// `boxwalk test --host`, stopped half way through a long transcript by Ctrl-C (it reads no
  /// lines, so SIGINT ends it even at a terminal) or SIGTERM, deletes the session it was running.
  @Test(arguments: [SIGINT, SIGTERM])
  func aSignalledTestRunDeletesItsSession(signal: Int32) throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let file = daemon.directory + "/long.transcript"
    let steps = String(repeating: "  boxwalk> hostname\n  {{host:NAME}}\n", count: 20_000)
    try ("# a long run, to be stopped half way\n" + steps).write(toFile: file, atomically: true, encoding: .utf8)
    let client = try Client(["test", file, "--backend", "sim"], daemon: daemon, name: "test")
    try Self.waitFor("the run's steps") {
      daemon.log.components(separatedBy: "/commands -> 200").count > 20
    }
    #expect(try Self.sessionIDs(daemon).count == 1)
    #expect(client.stop(signal) == 128 + signal, "\(client.output)")
    #expect(try Self.sessionIDs(daemon) == [], "the session outlived its client: \(daemon.log)")
  }

  /// A client killed in the middle of a step: SIGKILL leaves it no way to clean up, so the
  /// session stays, consistent; the step runs to its end in the daemon, once (a follower sees one
  /// event for it), and the session takes the next line. SIGTERM in the middle of a step deletes
  /// the session, after the step ended (the daemon's teardown queues behind it). On real, where
  /// `run sleep 2` keeps a step running for two seconds.
  @Test(arguments: [SIGKILL, SIGTERM])
  func aClientKilledMidStepLeavesTheSessionConsistent(signal: Int32) async throws {
    guard geteuid() == 0 else { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      defer { _ = daemon.stop() }
      let client = try Client(["--backend", "real"], daemon: daemon, name: "repl")
      // A box runs programs only as a container (its own root, pid and IPC namespaces).
      for line in ["box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root"] { client.send(line) }
      try Self.waitFor("the container's four steps") {
        daemon.log.components(separatedBy: "/commands -> 200").count - 1 == 4
      }
      #expect(!client.output.contains("error"), "\(client.output)")
      let id = try #require(try Self.sessionIDs(daemon).first)
      let events = daemon.directory + "/events"
      let follower = try DaemonEventsTests.follow(daemon, id, into: events)
      defer { follower.terminate() }
      client.send("run sleep 2")
      // The step is under way once the daemon's helper runs the program.
      usleep(700_000)
      let stream = { (try? String(contentsOfFile: events, encoding: .utf8)) ?? "" }
      let runs = { DaemonEventsTests.data(of: "step", in: stream()).filter { $0.contains(#""input":"run sleep 2""#) } }
      #expect(runs().isEmpty, "the step ended too soon to test: \(stream())")
      let status = client.stop(signal)
      if signal == SIGKILL {
        #expect(status == SIGKILL)
        // The session is still there and answers; its step ends by itself, once.
        try Self.waitFor("the step's event") { runs().count == 1 }
        #expect(try Self.sessionIDs(daemon) == [id])
        let next = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box ls"}"#)
        #expect(next.status == 200 && next.body.contains("web"), "\(next)")
        #expect(try DaemonReliabilityTests.boxes(daemon, id) == ["web"])
        #expect(try daemon.curl("DELETE", "/v1/sessions/\(id)").status == 200)
      } else {
        #expect(status == 128 + SIGTERM, "\(client.output)")
        // The client's DELETE waited for the step: it ran once, then the session was closed.
        #expect(try Self.sessionIDs(daemon) == [])
        try Self.waitFor("the closed event") { stream().contains("event: closed") }
      }
      #expect(runs().count == 1, "\(stream())")
    }
  }
}
