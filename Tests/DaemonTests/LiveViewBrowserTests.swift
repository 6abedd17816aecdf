import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// The live view in a real browser (docs/daemon.md): headless Chromium opens a session's view
/// through socat, which bridges a loopback port to the daemon's socket as the documentation
/// shows (a browser cannot speak to a Unix socket). Steps are then run through the API, and the
/// page, never reloaded, must show each one: the step's section, and the new box and cable in the
/// pictures of the lab now. No console message may appear, and a screenshot is written for the
/// reviewer, to a directory the test prints. Needs Debian's chromium and socat (scripts/deps and
/// .ci/run install both); without them the test is skipped and says why.
@Suite(.serialized, .hostUnchanged) struct LiveViewBrowserTests {
  static let socat: String? = FileManager.default.isExecutableFile(atPath: "/usr/bin/socat") ? "/usr/bin/socat" : nil

  /// A free loopback port, from bind(2) to port 0 (the kernel picks; the socket is closed again).
  static func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, size) == 0 && getsockname(fd, $0, &size) == 0
      }
    }
    guard bound else { throw DevToolsPage.Failure("bind: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
  }

  static func start(_ executable: String, _ arguments: [String], stderr: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    _ = FileManager.default.createFile(atPath: stderr, contents: nil)
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
    try p.run()
    return p
  }

  /// One GET with curl over TCP; the body, or nil when nothing answered.
  static func get(_ url: String) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-sf", "--max-time", "5", url]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
  }

  /// Kills a helper the test started. SIGKILL: the test process may be ignoring SIGTERM, and a
  /// child inherits that through exec (signal(7)), so a SIGTERM might never end it.
  static func stop(_ p: Process) {
    guard p.isRunning else { return }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
  }

  @Test(
    .enabled(if: Chromium.path != nil, "chromium is not on PATH: scripts/deps installs Debian's chromium package"),
    .enabled(if: socat != nil, "socat is not installed: scripts/deps installs it"))
  func theViewShowsEachStepWithoutAReload() throws {
    let chromium = try #require(Chromium.path)
    let shots =
      (ProcessInfo.processInfo.environment["BOXWALK_SCREENSHOTS"] ?? NSTemporaryDirectory()
        + "boxwalk-export-screenshots")
      + "-live"
    try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
    print("LiveViewBrowserTests: a screenshot of the live view in \(shots)")

    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let id = try daemon.newSession("sim")
    // The bridge, as docs/daemon.md shows it.
    let port = try Self.freePort()
    let bridge = try Self.start(
      try #require(Self.socat),
      ["TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:" + daemon.socket],
      stderr: daemon.directory + "/socat.log")
    defer { Self.stop(bridge) }
    var up = false
    for _ in 0..<100 where !up {
      up = Self.get("http://127.0.0.1:\(port)/v1/ping") != nil
      if !up { usleep(50_000) }
    }
    try #require(up, "the bridge did not answer")
    // The first page links to the session's view.
    let index = try #require(Self.get("http://127.0.0.1:\(port)/"))
    #expect(index.contains("href=\"/v1/sessions/\(id)/view\""))

    let errPath = daemon.directory + "/chromium.log"
    let browser = try Self.start(
      chromium,
      Chromium.flags(profile: daemon.directory + "/profile") + [
        "--remote-debugging-port=0", "--window-size=1200,1500", "--hide-scrollbars",
        "http://127.0.0.1:\(port)/v1/sessions/\(id)/view",
      ], stderr: errPath)
    defer { Self.stop(browser) }
    // Chromium says where its DevTools listen; the page's own socket is listed there.
    var devtools: String?
    for _ in 0..<600 where devtools == nil {
      let log = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
      if let r = log.range(of: "DevTools listening on ws://127.0.0.1:") {
        devtools = String(log[r.upperBound...].prefix { $0 != "/" })
      } else {
        usleep(50_000)
      }
    }
    let devtoolsPort = try #require(devtools, "chromium did not start its DevTools: \(errPath)")
    var pageURL: String?
    for _ in 0..<600 where pageURL == nil {
      if let list = Self.get("http://127.0.0.1:\(devtoolsPort)/json/list"),
        let targets = try? JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]]
      {
        pageURL =
          targets.first { ($0["url"] as? String)?.hasSuffix("/view") == true }?["webSocketDebuggerUrl"] as? String
      }
      if pageURL == nil { usleep(50_000) }
    }
    let page = try DevToolsPage(url: try #require(pageURL, "no page target"))

    // The page follows the session; a mark left in it now must still be there after the steps,
    // which a reload would wipe.
    #expect(try page.wait(until: "document.getElementById('live-status').dataset.state === 'live'"))
    _ = try page.evaluate("window.boxwalkNotReloaded = true")
    #expect(try page.evaluate("document.querySelectorAll('#live-steps section.step').length") as? Int == 0)

    for line in ["box new web", "unshare net", "net veth"] {
      let (status, body) = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"\#(line)"}"#)
      #expect(status == 200, "\(body)")
    }
    #expect(
      try page.wait(until: "document.getElementById('live-steps').dataset.steps === '3'"),
      "the page did not show the steps")
    #expect(try page.evaluate("window.boxwalkNotReloaded === true") as? Bool == true, "the page was reloaded")
    // Newest first; each with its command and the pictures of what it changed.
    let inputs = try page.evaluate(
      "Array.from(document.querySelectorAll('#live-steps section.step .input')).map(e => e.textContent)")
    #expect(inputs as? [String] == ["net veth", "unshare net", "box new web"], "\(String(describing: inputs))")
    #expect(
      try page.evaluate("document.querySelector('#step-1 svg.picture-ns g.box.changed[data-name=\"web\"]') !== null")
        as? Bool == true)
    // The lab now: the new box in the namespace grid, the new cable end to end in the network.
    let now = "#live-pictures"
    #expect(
      try page.evaluate("document.querySelector('\(now) svg.picture-ns g.box[data-name=\"web\"]') !== null") as? Bool
        == true)
    #expect(
      try page.evaluate(
        "document.querySelector('\(now) svg.picture-net .link.veth[data-a=\"host:veth-web\"][data-b=\"web:eth0\"]') !== null"
      ) as? Bool == true)
    #expect(try page.evaluate("document.getElementById('live-prompt').textContent") as? String == "boxwalk[web]> ")

    let shot = try page.call("Page.captureScreenshot", ["format": "png"])
    let base64 = try #require(shot["data"] as? String)
    let png = try #require(Data(base64Encoded: base64))
    try png.write(to: URL(fileURLWithPath: shots + "/live-view.png"))

    // Deleting the session ends its stream: the page says so, and stays as it was.
    #expect(try daemon.curl("DELETE", "/v1/sessions/\(id)").status == 200)
    #expect(try page.wait(until: "document.getElementById('live-status').dataset.state === 'closed'"))
    Self.stop(browser)
    let console = Chromium.consoleMessages((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    #expect(console.isEmpty, "console messages: \(console)")
  }
}
