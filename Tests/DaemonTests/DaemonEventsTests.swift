import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// GET /v1/sessions/{id}/events: a second client follows a session's steps as they happen.
@Suite(.serialized, .hostUnchanged) struct DaemonEventsTests {
  /// `curl -N` on the session's event stream, writing what it receives to a file.
  static func follow(_ daemon: DaemonProcess, _ id: String, into path: String) throws -> Process {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "-N", "--unix-socket", daemon.socket, "http://boxwalk/v1/sessions/\(id)/events"]
    p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    p.standardError = FileHandle.nullDevice
    try p.run()
    // The stream opens with a comment line: from then on, every step reaches this follower.
    for _ in 0..<200 {
      if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix(": following session \(id)") {
        return p
      }
      usleep(25_000)
    }
    p.terminate()
    throw DaemonProcess.Failure(description: "the follower got no opening line")
  }

  /// Waits up to `seconds` for `p` to exit; false if it did not.
  static func exits(_ p: Process, within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    return !p.isRunning
  }

  /// The `data:` of each event of `kind` in a stream's text.
  static func data(of kind: String, in text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { block in
      let lines = block.split(separator: "\n").map(String.init)
      guard lines.contains("event: " + kind) else { return nil }
      return lines.first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
  }

  @Test func aSecondClientFollowsEveryStepAsItHappens() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let id = try daemon.newSession("sim")
    let path = daemon.directory + "/follower.txt"
    let follower = try Self.follow(daemon, id, into: path)
    defer { if follower.isRunning { follower.terminate() } }
    // The driver: three lines, one of them refused.
    var answers: [String] = []
    for line in ["box new web", "hostname lab-box", "unshare uts"] {
      let (status, body) = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"\#(line)"}"#)
      #expect(status == 200)
      answers.append(body)
    }
    // A line of another session is not this session's step.
    let other = try daemon.newSession("sim")
    _ = try daemon.curl("POST", "/v1/sessions/\(other)/commands", body: #"{"line":"box new db"}"#)
    #expect(try daemon.curl("DELETE", "/v1/sessions/\(id)").status == 200)
    // Deleting the session ends the stream, with a last `closed` event.
    #expect(Self.exits(follower, within: 10), "the stream did not end when the session was deleted")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    // Each step, as the driver's own answer had it, in the order they ran.
    #expect(Self.data(of: "step", in: text) == answers, "\(text)")
    #expect(Self.data(of: "closed", in: text) == ["{}"], "\(text)")
    #expect(!text.contains("box new db"))
    // Following an unknown session is a 404 like every other route.
    #expect(try daemon.curl("GET", "/v1/sessions/nosuch/events").status == 404)
  }

  /// SIGTERM waits for requests in flight; a follower's stream is one that never ends by itself,
  /// so the shutdown must end it rather than hang.
  @Test func sigtermEndsTheStreamsAndTheDaemon() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    let id = try daemon.newSession("sim")
    let follower = try Self.follow(daemon, id, into: daemon.directory + "/follower.txt")
    defer { if follower.isRunning { follower.terminate() } }
    kill(daemon.process.processIdentifier, SIGTERM)
    #expect(Self.exits(daemon.process, within: 15), "the daemon did not stop with a follower connected")
    if daemon.process.isRunning { _ = daemon.stop(SIGKILL) }
    #expect(daemon.process.terminationStatus == 0, "\(daemon.log)")
    #expect(Self.exits(follower, within: 5))
  }
}
