import Foundation
import Glibc
import HostSnapshotSupport
import Testing

@testable import Daemon

/// `boxwalk daemon` from the outside: a real daemon process on a socket of the test's own, driven
/// with curl --unix-socket. Sim sessions need nothing; the real backend's cases need root, run under
/// the host snapshot, and take /tmp/boxwalk-real.lock like every real-kernel test.
@Suite(.serialized, .hostUnchanged) struct DaemonAPITests {
  /// The document in the repository is the one the daemon serves, and it describes every route the
  /// router has (the router is built from `DaemonAPI.routes` alone) and nothing else.
  @Test func theOpenAPIDocumentIsTheRepositoryFileAndCoversEveryRoute() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let file = try String(contentsOf: repo.appendingPathComponent("docs/api/openapi.json"), encoding: .utf8)
    #expect(file == OpenAPIDocument.text + "\n", "docs/api/openapi.json and OpenAPIDocument.swift differ")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(file.utf8)) as? [String: Any])
    let paths = try #require(doc["paths"] as? [String: [String: Any]])
    var documented: Set<String> = []
    for (path, operations) in paths {
      for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
    }
    let routed = Set(DaemonAPI.routes.map { "\($0.method.rawValue) \($0.path)" })
    #expect(routed.subtracting(documented).isEmpty, "routes missing from the document")
    #expect(documented.subtracting(routed).isEmpty, "documented routes the router lacks")
  }

  @Test func versionPingAndOneLogLinePerRequest() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let version = try daemon.curl("GET", "/v1/version")
    #expect(version.status == 200)
    #expect(DaemonProcess.member("api", of: version.body) == "v1")
    #expect(try daemon.curl("GET", "/v1/ping").body == #"{"ok":true}"#)
    let served = try daemon.curl("GET", "/v1/openapi.json")
    #expect(served.status == 200 && served.body == OpenAPIDocument.text)
    let missing = try daemon.curl("GET", "/v1/nothing-here")
    #expect(missing.status == 404 && DaemonProcess.errorField(missing.body) == "path", "\(missing)")
    let log = daemon.log.split(separator: "\n")
    #expect(log.contains { $0.contains("uid \(geteuid()) pid ") && $0.contains("GET /v1/version -> 200") })
    #expect(log.contains { $0.contains("GET /v1/nothing-here -> 404") })
    // One line per request: waitUntilServing's pings plus the four above.
    #expect(log.filter { $0.contains(" -> ") }.count == log.filter { $0.contains("/v1/ping -> ") }.count + 3)
  }

  /// Bad requests are 400 naming the field; nothing is made.
  @Test(arguments: [
    (#"{}"#, "backend"), (#"{"backend":5}"#, "backend"), (#"{"backend":"vm"}"#, "backend"),
    (#"{"backend":"sim","colour":"red"}"#, "colour"), ("not json", "body"), (#"["sim"]"#, "body"),
  ])
  func badSessionRequestsAre400NamingTheField(body: String, field: String) throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let answer = try daemon.curl("POST", "/v1/sessions", body: body)
    #expect(answer.status == 400, "\(answer)")
    #expect(DaemonProcess.errorField(answer.body) == field, "\(answer)")
    #expect(try daemon.curl("GET", "/v1/sessions").body == #"{"sessions":[]}"#)
  }

  @Test func unknownSessionIs404AndAnOversizedBodyIs413() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    for (method, path) in [
      ("GET", "/v1/sessions/feedfeedfeed/state"), ("DELETE", "/v1/sessions/feedfeedfeed"),
    ] {
      let answer = try daemon.curl(method, path)
      #expect(answer.status == 404 && DaemonProcess.errorField(answer.body) == "id", "\(answer)")
    }
    let command = try daemon.curl("POST", "/v1/sessions/feedfeedfeed/commands", body: #"{"line":"box ls"}"#)
    #expect(command.status == 404, "\(command)")
    let id = try daemon.newSession("sim")
    let huge = #"{"line":""# + String(repeating: "x", count: 70_000) + #""}"#
    let big = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: huge)
    #expect(big.status == 413 && DaemonProcess.errorField(big.body) == "body", "\(big.status)")
    let noLine = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":3}"#)
    #expect(noLine.status == 400 && DaemonProcess.errorField(noLine.body) == "line", "\(noLine)")
    // Nothing ran: the session's first real command finds an empty lab.
    let ls = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#)
    #expect(ls.status == 200, "\(ls)")
    let reply = try #require(try JSONSerialization.jsonObject(with: Data(ls.body.utf8)) as? [String: Any])
    #expect(reply["prompt"] as? String == "boxwalk[web]> ")
    #expect((reply["text"] as? [String])?.contains { $0.contains("syscall") } == true, "\(ls.body)")
    #expect(((reply["step"] as? [String: Any])?["calls"] as? [String])?.isEmpty == false, "\(ls.body)")
    let state = try daemon.curl("GET", "/v1/sessions/\(id)/state")
    #expect(state.status == 200 && state.body.hasPrefix(#"{"backend":"sim","state":{"#), "\(state.body.prefix(80))")
    #expect(state.body.contains(#""web":{"#))
    #expect(try daemon.curl("DELETE", "/v1/sessions/\(id)").status == 200)
    #expect(try daemon.curl("GET", "/v1/sessions/\(id)/state").status == 404)
  }

  /// Sessions belong to the uid that made them, read from SO_PEERCRED: `nobody` (uid 65534, via
  /// setpriv) cannot touch root's session (403), sees none of root's sessions in its list, and
  /// may not start a real or rootless session (either would run as root). The test opens the socket to every
  /// uid (0666 in a 0711 directory), which the daemon itself never does.
  @Test(.enabled(if: geteuid() == 0, "setpriv to another uid needs root"))
  func anotherUIDGets403() throws {
    let dir = DaemonProcess.makeDirectory()
    chmod(dir, 0o711)
    let daemon = try DaemonProcess.start(directory: dir)
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    chmod(daemon.socket, 0o666)
    let nobody: UInt32 = 65534
    let rootSession = try daemon.newSession("sim")
    let state = try daemon.curl("GET", "/v1/sessions/\(rootSession)/state", user: nobody)
    #expect(state.status == 403 && DaemonProcess.errorField(state.body) == "id", "\(state)")
    let run = try daemon.curl(
      "POST", "/v1/sessions/\(rootSession)/commands", body: #"{"line":"box new web"}"#, user: nobody)
    #expect(run.status == 403, "\(run)")
    #expect(try daemon.curl("DELETE", "/v1/sessions/\(rootSession)", user: nobody).status == 403)
    let real = try daemon.curl("POST", "/v1/sessions", body: #"{"backend":"real"}"#, user: nobody)
    #expect(real.status == 403 && DaemonProcess.errorField(real.body) == "backend", "\(real)")
    // Nor a rootless one: it runs as the daemon's user too (root's rootless session once let nobody
    // import a root-only directory as an image and read its files in a box).
    let rootless = try daemon.curl("POST", "/v1/sessions", body: #"{"backend":"rootless"}"#, user: nobody)
    #expect(rootless.status == 403 && DaemonProcess.errorField(rootless.body) == "backend", "\(rootless)")
    // nobody's own session is nobody's; root lists both, nobody only its own.
    let own = try daemon.newSession("sim", user: nobody)
    #expect(try daemon.curl("GET", "/v1/sessions/\(own)/state", user: nobody).status == 200)
    let nobodyList = try daemon.curl("GET", "/v1/sessions", user: nobody).body
    #expect(nobodyList.contains(own) && !nobodyList.contains(rootSession))
    let rootList = try daemon.curl("GET", "/v1/sessions").body
    #expect(rootList.contains(own) && rootList.contains(rootSession))
    #expect(daemon.log.contains("uid 65534 pid "))
    // Nor view it (the live view's page, its pictures, its events); its first page lists only
    // nobody's own session.
    for route in ["view", "pictures", "events"] {
      #expect(try daemon.curl("GET", "/v1/sessions/\(rootSession)/\(route)", user: nobody).status == 403, "\(route)")
    }
    let index = try daemon.curl("GET", "/", user: nobody)
    #expect(index.status == 200 && index.body.contains(own) && !index.body.contains(rootSession), "\(index)")
    // Root's session is untouched: its first box is still to be made.
    let first = try daemon.curl("POST", "/v1/sessions/\(rootSession)/commands", body: #"{"line":"box ls"}"#)
    #expect(first.status == 200 && !first.body.contains("web"), "\(first)")
  }

  /// A second daemon on a live socket refuses and leaves the first serving; a socket file nothing
  /// answers on (a daemon that was SIGKILLed) is replaced.
  @Test func aSecondDaemonIsRefusedAndAStaleSocketIsReplaced() throws {
    let first = try DaemonProcess.start()
    defer { first.removeDirectory() }
    let second = try DaemonProcess.launch(directory: first.directory, logName: "second.log")
    second.process.waitUntilExit()
    #expect(second.process.terminationStatus == 3)
    #expect(
      second.log.contains(
        "error: another boxwalk daemon is serving on \(first.socket) (pid \(first.process.processIdentifier))"),
      "\(second.log)")
    #expect(try first.curl("GET", "/v1/ping").status == 200)
    // SIGKILL leaves the socket file behind; the next daemon replaces it.
    #expect(first.stop(SIGKILL) == SIGKILL)
    #expect(FileManager.default.fileExists(atPath: first.socket))
    let third = try DaemonProcess.start(directory: first.directory)
    #expect(try third.curl("GET", "/v1/ping").status == 200)
    #expect(third.stop() == 0)
  }

  /// SIGTERM tears down every session (on real as root: boxes with helpers and namespaces) and
  /// removes the socket and its lock: the host snapshot before and after is the same.
  @Test(arguments: ["sim", "real"])
  func sigtermTearsDownEverySessionAndLeavesNothing(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      var ids: [String] = []
      for _ in 0..<2 {
        let id = try daemon.newSession(backend)
        ids.append(id)
        for line in ["box new web", "unshare uts", "hostname in-\(id)"] {
          let answer = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"\#(line)"}"#)
          #expect(answer.status == 200 && answer.body.contains(#""ok":true"#), "\(line): \(answer)")
        }
      }
      // Sessions never see each other's boxes: each has its own web with its own hostname.
      for id in ids {
        let state = try daemon.curl("GET", "/v1/sessions/\(id)/state").body
        #expect(state.contains("in-\(id)") && !state.contains("in-\(ids.first { $0 != id } ?? "")"))
      }
      #expect(daemon.stop(SIGTERM) == 0, "\(daemon.log)")
      #expect(daemon.log.contains("stopped; every session was torn down"), "\(daemon.log)")
      #expect(!FileManager.default.fileExists(atPath: daemon.socket))
      #expect(!FileManager.default.fileExists(atPath: daemon.socket + ".lock"))
    }
  }
}
