import Foundation
import Glibc
import HostSnapshotSupport
import Testing

@testable import Daemon

/// `boxwalk daemon --listen 127.0.0.1:PORT`: a loopback TCP port beside the socket, where every
/// request needs the token the daemon printed at start, and which does not exist without it.
@Suite(.serialized, .hostUnchanged) struct DaemonTCPTests {
  /// A daemon started with `--listen 127.0.0.1:0`, and the port and token it printed.
  static func startListening() throws -> (daemon: DaemonProcess, port: Int, token: String) {
    let daemon = try DaemonProcess.start(arguments: ["--listen", "127.0.0.1:0"])
    // The Unix socket may answer a moment before the TCP port is up and the token printed.
    for _ in 0..<200 where !daemon.log.contains("  note:") { usleep(50_000) }
    let log = daemon.log
    guard
      let address = log.firstMatch(of: /listening on tcp:\/\/127\.0\.0\.1:(\d+) too/).flatMap({ Int($0.1) }),
      let token = log.firstMatch(of: /token:\s+([0-9a-f]{64})\n/).map({ String($0.1) })
    else {
      _ = daemon.stop()
      throw DaemonProcess.Failure(description: "no port or token in the log: \(log)")
    }
    return (daemon, address, token)
  }

  /// One request to the TCP port through curl, with `Authorization: Bearer TOKEN` if given.
  static func curl(_ port: Int, _ method: String, _ path: String, token: String?, body: String? = nil) throws -> (
    status: Int, body: String
  ) {
    var args = ["-X", method, "http://127.0.0.1:\(port)" + path]
    if let token { args += ["-H", "Authorization: Bearer \(token)"] }
    return try DaemonProcess.curl(args, body: body)
  }

  /// The TCP sockets `pid` listens on: its descriptors' socket inodes, found in the LISTEN
  /// (state 0A) rows of /proc/net/tcp and tcp6 (proc(5)).
  static func listeningTCPSockets(of pid: Int32) -> [String] {
    let fdDir = "/proc/\(pid)/fd"
    let inodes = Set(
      ((try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? []).compactMap { fd -> String? in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDir + "/" + fd),
          target.hasPrefix("socket:[")
        else { return nil }
        return String(target.dropFirst("socket:[".count).dropLast())
      })
    var found: [String] = []
    for table in ["/proc/\(pid)/net/tcp", "/proc/\(pid)/net/tcp6"] {
      let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
      for row in text.split(separator: "\n").dropFirst() {
        let fields = row.split(separator: " ")
        guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])) else { continue }
        found.append(String(fields[1]))
      }
    }
    return found
  }

  @Test func noTCPPortIsOpenWithoutListen() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    #expect(Self.listeningTCPSockets(of: daemon.process.processIdentifier) == [])
    #expect(!daemon.log.contains("tcp://"), "\(daemon.log)")
    // The same look finds the port when there is one (so the empty list above means something).
    let (listening, port, _) = try Self.startListening()
    defer { listening.removeDirectory() }
    defer { _ = listening.stop() }
    let sockets = Self.listeningTCPSockets(of: listening.process.processIdentifier)
    #expect(sockets == ["0100007F:" + String(format: "%04X", port)], "\(sockets)")
  }

  @Test func aMissingOrWrongTokenIs401AndTheRightOneWorks() throws {
    let (daemon, port, token) = try Self.startListening()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let wrong = String(token.reversed())
    for (given, message) in [(nil, "needs the daemon's token"), (wrong, "not the one"), ("", "not the one")] {
      for (method, path, body) in [
        ("GET", "/v1/ping", nil), ("POST", "/v1/sessions", #"{"backend":"sim"}"#), ("GET", "/v1/no-such-route", nil),
      ] {
        let answer = try Self.curl(port, method, path, token: given, body: body)
        #expect(answer.status == 401, "\(method) \(path) with \(given ?? "no token"): \(answer)")
        #expect(DaemonProcess.errorField(answer.body) == "Authorization", "\(answer)")
        #expect(answer.body.contains(message), "\(answer)")
      }
    }
    // Nothing was made by the refused requests.
    #expect(try daemon.curl("GET", "/v1/sessions").body == #"{"sessions":[]}"#)
    #expect(try Self.curl(port, "GET", "/v1/ping", token: token).body == #"{"ok":true}"#)
    let made = try Self.curl(port, "POST", "/v1/sessions", token: token, body: #"{"backend":"sim"}"#)
    #expect(made.status == 201, "\(made)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(made.body.utf8)) as? [String: Any])
    let id = try #require(object["id"] as? String)
    // A TCP session belongs to the daemon's own uid: the Unix socket's same uid sees it and may use it.
    #expect(object["owner"] as? Int == Int(geteuid()))
    let step = try Self.curl(
      port, "POST", "/v1/sessions/\(id)/commands", token: token, body: #"{"line":"box new web"}"#)
    #expect(step.status == 200 && step.body.contains(#""prompt":"boxwalk[web]> ""#), "\(step)")
    #expect(try daemon.curl("GET", "/v1/sessions").body.contains(id))
    #expect(try daemon.curl("DELETE", "/v1/sessions/\(id)").status == 200)
    #expect(daemon.log.contains("GET /v1/ping -> 401 (no valid token)"), "\(daemon.log)")
    #expect(daemon.log.contains("token (uid \(geteuid())) POST /v1/sessions -> 201"), "\(daemon.log)")
  }

  /// `boxwalk --host tcp://127.0.0.1:PORT` with BOXWALK_TOKEN is a client like the Unix socket's;
  /// without the token it refuses before sending anything.
  @Test func theClientReachesTheTCPPortWithTheToken() throws {
    let (daemon, port, token) = try Self.startListening()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let file = "transcripts/01-uts.transcript"
    let host = "tcp://127.0.0.1:\(port)"
    let home = daemon.directory + "/client-home"
    let local = try DaemonTranscriptTests.boxwalk(["test", file], env: ["BOXWALK_HOME": home])
    let remote = try DaemonTranscriptTests.boxwalk(
      ["--host", host, "test", file], env: ["BOXWALK_HOME": home, "BOXWALK_TOKEN": token])
    #expect(remote.status == 0 && remote.out == local.out, "\(remote.out)")
    #expect(daemon.log.contains("token (uid \(geteuid())) POST /v1/sessions -> 201"), "\(daemon.log)")
    let noToken = try DaemonTranscriptTests.boxwalk(["--host", host, "test", file], env: ["BOXWALK_HOME": home])
    #expect(noToken.status == 2, "\(noToken.out)")
    #expect(noToken.out.hasPrefix("error: --host \(host) needs the daemon's token in BOXWALK_TOKEN"), "\(noToken.out)")
    let badToken = try DaemonTranscriptTests.boxwalk(
      ["--host", host, "test", file], env: ["BOXWALK_HOME": home, "BOXWALK_TOKEN": "nope"])
    #expect(badToken.status == 3 && badToken.out.contains("daemon answered 401"), "\(badToken.out)")
    let remoteHost = try DaemonTranscriptTests.boxwalk(
      ["--host", "tcp://10.1.2.3:2375", "test", file], env: ["BOXWALK_TOKEN": token])
    #expect(remoteHost.status == 2 && remoteHost.out.contains("loopback"), "\(remoteHost.out)")
  }

  /// Anything but a loopback address is refused before anything starts: no socket, no port.
  @Test(arguments: ["0.0.0.0:2375", "192.168.1.10:2375", "[::]:2375", "localhost:2375", "127.0.0.1", "127.0.0.1:99999"])
  func aNonLoopbackAddressIsRefused(address: String) throws {
    let dir = DaemonProcess.makeDirectory()
    let daemon = try DaemonProcess.launch(directory: dir, arguments: ["--listen", address])
    defer { daemon.removeDirectory() }
    daemon.process.waitUntilExit()
    #expect(daemon.process.terminationStatus == 2, "\(daemon.log)")
    #expect(daemon.log.hasPrefix("error: --listen takes "), "\(daemon.log)")
    #expect(daemon.log.contains("nothing was started"), "\(daemon.log)")
    #expect(!FileManager.default.fileExists(atPath: daemon.socket))
  }

  @Test func loopbackAddressesAndTokens() throws {
    #expect(TCPListener.isLoopback("127.0.0.1") && TCPListener.isLoopback("127.3.4.5") && TCPListener.isLoopback("::1"))
    #expect(!TCPListener.isLoopback("0.0.0.0") && !TCPListener.isLoopback("::") && !TCPListener.isLoopback("localhost"))
    #expect(!TCPListener.isLoopback("::ffff:127.0.0.1") && !TCPListener.isLoopback("128.0.0.1"))
    let listener = try TCPListener.parse("[::1]:0")
    #expect(listener.host == "::1" && listener.port == 0 && listener.token.count == 64)
    #expect(try TCPListener.parse("127.0.0.1:2375").token != listener.token)
    #expect(listener.accepts("Bearer " + listener.token))
    #expect(!listener.accepts(listener.token) && !listener.accepts("Bearer ") && !listener.accepts(nil))
    #expect(!listener.accepts("Bearer " + listener.token + "0"))
  }
}
