import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// The live view (docs/daemon.md): GET / and GET /v1/sessions/{id}/view over the daemon's Unix
/// socket, the `view` event a step sends its followers, and the browser guard.
@Suite(.serialized, .hostUnchanged) struct LiveViewTests {
  /// One request with extra header fields; the status, the response's header block and its body.
  static func request(
    _ daemon: DaemonProcess, _ method: String, _ path: String, headers: [String] = [], body: String? = nil
  ) throws -> (status: Int, head: String, body: String) {
    let headPath = daemon.directory + "/head.txt"
    let (status, text) = try daemon.curl(method, path, body: body, headers: headers, head: headPath)
    return (status, (try? String(contentsOfFile: headPath, encoding: .utf8)) ?? "", text)
  }

  @Test func thePageIsServedAndEveryStepReachesItsFollowersDrawn() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let empty = try Self.request(daemon, "GET", "/")
    #expect(empty.status == 200 && empty.body.contains("id=\"no-sessions\""), "\(empty)")
    let id = try daemon.newSession("sim")
    // The first page links to the session's view.
    let index = try Self.request(daemon, "GET", "/")
    #expect(index.status == 200, "\(index)")
    #expect(index.head.lowercased().contains("content-type: text/html; charset=utf-8"))
    #expect(index.body.contains("<a href=\"/v1/sessions/\(id)/view\">\(id)</a>"), "\(index.body)")

    // The view: the export page's markup, the lab now as inline SVG, one script that follows the
    // session's events and is the only one the page's policy lets run.
    let view = try Self.request(daemon, "GET", "/v1/sessions/\(id)/view")
    #expect(view.status == 200, "\(view)")
    #expect(view.body.contains("<svg class=\"picture picture-ns\""))
    #expect(view.body.contains("new EventSource(\"/v1/sessions/\(id)/events\")"))
    let fetches = ["src=\"http", "href=\"http", "<link ", "<script src", "url("].filter { view.body.contains($0) }
    #expect(fetches.isEmpty, "the page would fetch \(fetches)")
    let policy = try #require(
      view.head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-security-policy:") })
    let nonce = try #require(policy.firstRange(of: "'nonce-").map { policy[$0.upperBound...].prefix(32) })
    #expect(view.body.components(separatedBy: "<script nonce=\"\(nonce)\">").count == 2, "\(policy)")
    #expect(policy.contains("connect-src 'self'") && policy.contains("default-src 'none'"))

    // A follower (what the page's EventSource is) gets, after each step, the step drawn.
    let path = daemon.directory + "/follower.txt"
    let follower = try DaemonEventsTests.follow(daemon, id, into: path)
    defer { if follower.isRunning { follower.terminate() } }
    #expect(try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new web"}"#).status == 200)
    #expect(try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"nosuch"}"#).status == 200)
    var views: [String] = []
    for _ in 0..<200 {
      let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      views = DaemonEventsTests.data(of: "view", in: text)
      if views.count == 2 { break }
      usleep(25_000)
    }
    try #require(views.count == 2, "\(views)")
    let first = try #require(try JSONSerialization.jsonObject(with: Data(views[0].utf8)) as? [String: String])
    let step = try #require(first["step"])
    #expect(step.hasPrefix("<section class=\"step\">"), "\(step)")
    #expect(step.contains("<span class=\"input\">box new web</span>"))
    // The picture of what the step changed, the new box marked as changed.
    #expect(step.contains("<g class=\"box changed\" data-name=\"web\">"), "\(step)")
    #expect(first["state"]?.contains("data-name=\"web\"") == true)
    #expect(first["prompt"] == "boxwalk[web]> ")
    // A refused line: its error, and no picture.
    let second = try #require(try JSONSerialization.jsonObject(with: Data(views[1].utf8)) as? [String: String])
    #expect(second["step"]?.contains("error:") == true && second["step"]?.contains("<figure") == false)

    // After a reconnection the page reads the lab now.
    let now = try Self.request(daemon, "GET", "/v1/sessions/\(id)/pictures")
    #expect(now.status == 200 && now.body.contains(#"data-name=\"web\""#), "\(now)")
    #expect(try Self.request(daemon, "GET", "/v1/sessions/nosuch/view").status == 404)
  }

  /// Pages of other sites, and names rebound to the loopback, cannot use the daemon; a browser on
  /// the daemon's own page may only read.
  @Test func otherSitesAndReboundNamesAreRefused() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let id = try daemon.newSession("sim")
    let run = #"{"line":"box new web"}"#
    func field(_ r: (status: Int, head: String, body: String)) -> String? { DaemonProcess.errorField(r.body) }

    // A form or a fetch of another site's page.
    let csrf = try Self.request(
      daemon, "POST", "/v1/sessions/\(id)/commands", headers: ["Origin: http://evil.example"], body: run)
    #expect(csrf.status == 403 && field(csrf) == "Origin", "\(csrf)")
    let made = try Self.request(daemon, "POST", "/v1/sessions", headers: ["Origin: null"], body: #"{"backend":"sim"}"#)
    #expect(made.status == 403 && field(made) == "Origin", "\(made)")
    let read = try Self.request(
      daemon, "GET", "/v1/sessions/\(id)/state", headers: ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: cors"])
    #expect(read.status == 403 && field(read) == "Sec-Fetch-Site", "\(read)")
    // DNS rebinding: the attacker's name, now pointing at 127.0.0.1.
    for host in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[::2]", "localhost:http"] {
      let r = try Self.request(daemon, "GET", "/v1/sessions", headers: ["Host: \(host)"])
      #expect(r.status == 403 && field(r) == "Host", "\(host): \(r)")
    }
    // The daemon's own page, under a loopback name: it reads, it never drives.
    let origin = "http://127.0.0.1:8080"
    let own = try Self.request(
      daemon, "POST", "/v1/sessions/\(id)/commands", headers: ["Host: 127.0.0.1:8080", "Origin: \(origin)"], body: run)
    #expect(own.status == 403 && field(own) == "Origin", "\(own)")
    let page = try Self.request(
      daemon, "GET", "/v1/sessions/\(id)/pictures",
      headers: ["Host: 127.0.0.1:8080", "Origin: \(origin)", "Sec-Fetch-Site: same-origin"])
    #expect(page.status == 200, "\(page)")
    // Following a link from another site to the view is a navigation: served.
    let link = try Self.request(
      daemon, "GET", "/v1/sessions/\(id)/view",
      headers: [
        "Host: localhost:8080", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document",
      ])
    #expect(link.status == 200, "\(link)")
    for host in ["localhost", "[::1]:8080", "127.1.2.3", "view.localhost:80"] {
      #expect(try Self.request(daemon, "GET", "/v1/ping", headers: ["Host: \(host)"]).status == 200, "\(host)")
    }
    // Nothing above ran a line: the session's first box is still to be made.
    let first = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box ls"}"#)
    #expect(first.status == 200 && !first.body.contains("web"), "\(first)")
  }
}
