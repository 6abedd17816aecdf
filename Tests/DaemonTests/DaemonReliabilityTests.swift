import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// What a crash or a careless client must not break: a step is never lost half way nor run
/// twice, and a killed daemon leaves nothing `boxwalk cleanup` (or the next daemon) cannot remove.
@Suite(.serialized, .hostUnchanged) struct DaemonReliabilityTests {
  /// Sends one HTTP request on a fresh connection and closes it at once, without reading a byte
  /// of the answer: a client that hangs up while its step runs.
  static func sendAndHangUp(_ socketPath: String, _ method: String, _ path: String, body: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DaemonProcess.Failure(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard rc == 0 else { throw DaemonProcess.Failure(description: "connect: \(errno)") }
    let request =
      "\(method) \(path) HTTP/1.1\r\nHost: boxwalk\r\nContent-Type: application/json\r\n"
      + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    let bytes = Array(request.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw DaemonProcess.Failure(description: "write") }
  }

  /// The names of the boxes in the session's state tree.
  static func boxes(_ daemon: DaemonProcess, _ id: String) throws -> [String] {
    let (status, body) = try daemon.curl("GET", "/v1/sessions/\(id)/state")
    guard status == 200,
      let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
      let state = object["state"] as? [String: Any]
    else { throw DaemonProcess.Failure(description: "state: \(status) \(body)") }
    return state.keys.filter { $0 != "host" && $0 != "outside" }.sorted()
  }

  @Test(arguments: ["sim", "real"])
  func aClientThatHangsUpMidStepLeavesTheSessionConsistent(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      defer { _ = daemon.stop() }
      let id = try daemon.newSession(backend)
      try Self.sendAndHangUp(daemon.socket, "POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#)
      try Self.sendAndHangUp(daemon.socket, "POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#)
      // The next client's line queues behind whatever of them runs, on the session's thread.
      let (status, body) = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#)
      #expect(status == 200)
      // A line whose client hung up runs once or (if the server had not dispatched it yet) not at
      // all, never twice and never half: whichever, there is exactly one box web now, and the
      // session answers as a consistent one (`box new web` either made it or was refused).
      #expect(body.contains(#""ok":true"#) || body.contains("a box named web already exists"), "\(body)")
      #expect(try Self.boxes(daemon, id) == ["web"])
      let (_, again) = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#)
      #expect(again.contains(#""ok":false"#), "\(again)")
      #expect(try daemon.curl("GET", "/v1/ping").status == 200)
    }
  }

  /// SIGKILL gives the daemon no chance to tear anything down. The kernel still kills every
  /// helper (PR_SET_PDEATHSIG fires when the session's thread dies with the process), and what
  /// lives on the host without a process (mounts, veth pairs, cgroups) is in the sessions'
  /// ledgers: `boxwalk cleanup` removes it, or the next daemon does when it starts.
  @Test(arguments: ["cleanup", "next-daemon"])
  func sigkillThenCleanupLeavesNothing(remover: String) async throws {
    guard geteuid() == 0 else { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      let id = try daemon.newSession("real")
      for line in ["box new web", "unshare uts net mnt", "hostname lab-box", "net veth", "cgroup new", "box new db"] {
        _ = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"\#(line)"}"#)
      }
      #expect(try Self.boxes(daemon, id) == ["db", "web"])
      #expect(daemon.stop(SIGKILL) == SIGKILL)
      // The killed daemon's socket is stale; its lock went with it.
      #expect(FileManager.default.fileExists(atPath: daemon.socket))
      switch remover {
      case "cleanup":
        let run = try DaemonTranscriptTests.boxwalk(["cleanup"])
        #expect(run.status == 0, "\(run.out)")
      default:
        let next = try DaemonProcess.start(directory: daemon.directory, logName: "next.log")
        #expect(next.log.contains("cleaned up after a crashed session"), "\(next.log)")
        #expect(next.stop() == 0, "\(next.log)")
      }
    }
  }
}
