import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk export` pages in a real browser (docs/pictures.md): every transcript is exported on
/// the simulator, and headless Chromium loads each page from a file: URL. The DOM it built must
/// hold the pictures of the lab's final state (each box in the namespace grid, each veth pair as a
/// link between its two ends, each layer of each overlay) as the page's own state data says, and
/// the page must load with no console message of level error. A screenshot of each page is written
/// for a reviewer, to a directory the test prints. Needs Debian's chromium (scripts/deps installs
/// it); without it the test is skipped and says why.
@Suite(.serialized) struct ExportBrowserTests {
  static let chromium = Chromium.path

  static let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  static var transcripts: [String] {
    let dir = root + "/transcripts"
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
      .filter { $0.hasSuffix(".transcript") }.sorted().map { dir + "/" + $0 }
  }

  @Test(.enabled(if: chromium != nil, "chromium is not on PATH: scripts/deps installs Debian's chromium package"))
  func everyExportedTranscriptRendersItsStateWithoutConsoleErrors() throws {
    let chromium = try #require(Self.chromium)
    // Kept after the run for a reviewer (the scratch directory is removed at exit): in
    // BOXWALK_SCREENSHOTS when set, else in a fixed directory under the temporary one, emptied first.
    let shots =
      ProcessInfo.processInfo.environment["BOXWALK_SCREENSHOTS"]
      ?? NSTemporaryDirectory() + "boxwalk-export-screenshots"
    try? FileManager.default.removeItem(atPath: shots)
    try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
    print("ExportBrowserTests: screenshots of the exported pages in \(shots)")
    let files = Self.transcripts
    #expect(files.count >= 10, "the transcripts were not found under \(Self.root)")
    for file in files {
      let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
      let html = shots + "/" + name + ".html"
      let cast = shots + "/" + name + ".cast"
      let export = try CommandLineTests.boxwalk(["export", file, "--html", html, "--cast", cast])
      try #require(export.status == 0, "\(name): \(export.out)")
      let page = try String(contentsOfFile: html, encoding: .utf8)
      // Self-contained: nothing is fetched (the SVG namespace is a name, not a download).
      let fetches = ["src=\"http", "href=\"http", "<link ", "<script src", "url("].filter { page.contains($0) }
      #expect(fetches.isEmpty, "\(name): the page would fetch \(fetches)")

      let run = try Self.browse(chromium, html: html, screenshot: shots + "/" + name + ".png")
      #expect(run.status == 0, "\(name): chromium exited \(run.status): \(run.stderr.suffix(2000))")
      let console = Self.consoleMessages(run.stderr)
      #expect(console.isEmpty, "\(name): console messages: \(console)")
      let dom = run.stdout
      #expect(dom.contains("<svg class=\"picture picture-ns\""), "\(name): no namespace picture in the DOM")
      try Self.checkFinalState(dom: dom, name: name)
      #expect(FileManager.default.fileExists(atPath: shots + "/" + name + ".png"), "\(name): no screenshot")
      // The recording: a v2 header and one marker per command.
      let castLines = try String(contentsOfFile: cast, encoding: .utf8).split(separator: "\n")
      #expect(castLines.first?.hasPrefix("{\"version\": 2,") == true)
      let markers = castLines.filter { $0.contains(", \"m\", ") }.count
      let steps = page.components(separatedBy: "<section class=\"step\"").count - 1
      #expect(markers == steps && steps > 0, "\(name): \(markers) markers for \(steps) steps")
    }
  }

  /// The pages run no script, so any console message at all is a fault.
  static func consoleMessages(_ stderr: String) -> [Substring] { Chromium.consoleMessages(stderr) }

  /// The console check sees an error when there is one: a page that throws fails it.
  @Test(.enabled(if: chromium != nil, "chromium is not on PATH: scripts/deps installs Debian's chromium package"))
  func aPageWithAConsoleErrorIsCaught() throws {
    let chromium = try #require(Self.chromium)
    let dir = TestScratch.path("bad-page")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let html = dir + "/bad.html"
    try "<!DOCTYPE html><html><body><script>console.error('boom'); notDefined();</script></body></html>"
      .write(toFile: html, atomically: true, encoding: .utf8)
    let run = try Self.browse(chromium, html: html, screenshot: dir + "/bad.png")
    let console = Self.consoleMessages(run.stderr)
    #expect(console.contains { $0.contains("boom") })
    #expect(console.contains { $0.contains("Uncaught ReferenceError") })
  }

  /// The final state's pictures against the state data of the page, as the browser parsed it.
  static func checkFinalState(dom: String, name: String) throws {
    let final = try #require(
      dom.range(of: "<section class=\"final-state\">").map { String(dom[$0.lowerBound...]) }, "\(name): no final state")
    let start = try #require(final.range(of: "id=\"boxwalk-state\">"), "\(name): no state data")
    let end = try #require(final.range(of: "</script>", range: start.upperBound..<final.endIndex))
    let json = String(final[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "<\\/", with: "</")
    let state = try #require(
      try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(name): state data is not JSON")
    func svg(_ kind: String) -> [String] {
      final.components(separatedBy: "<svg class=\"picture picture-\(kind)\"").dropFirst().map {
        $0.components(separatedBy: "</svg>")[0]
      }
    }
    let grid = svg("ns").joined()
    for (box, value) in state where box != "host" && box != "outside" {
      let drawn = grid.contains("data-name=\"\(box)\"")
      #expect(drawn, "\(name): box \(box) is not in the namespace grid")
      guard let fields = value as? [String: Any] else { continue }
      // Each lower layer of each overlay.
      if let fs = fields["fs"] as? [String: Any], let layers = fs["layers"] as? [String] {
        let pictures = svg("layers").joined()
        for layer in layers {
          let drawn = pictures.contains("data-layer=\"\(layer)\"")
          #expect(drawn, "\(name): layer \(layer) of \(box) is not drawn")
        }
      }
    }
    // Each veth pair of the host side, as one link between its two ends.
    if let host = state["host"] as? [String: Any], let net = host["net"] as? [String: Any],
      let links = net["links"] as? [String: Any]
    {
      let pictures = svg("net").joined()
      for (link, value) in links {
        guard let peer = (value as? [String: Any])?["peer"] as? String else { continue }
        let a = "data-a=\"host:\(link)\" data-b=\"\(peer)\""
        let b = "data-a=\"\(peer)\" data-b=\"host:\(link)\""
        let cable = pictures.contains(a) || pictures.contains(b)
        #expect(cable, "\(name): the cable host:\(link) to \(peer) is not drawn")
        let endDrawn = pictures.contains("data-id=\"host:\(link)\"")
        #expect(endDrawn, "\(name): host:\(link) is not drawn")
      }
    }
  }

  struct Browsed {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// One headless Chromium run: the DOM after load on stdout, console messages on stderr
  /// (--enable-logging=stderr), and a screenshot. As root it needs --no-sandbox; its profile is a
  /// throwaway directory, and --disable-background-networking keeps it off the network.
  static func browse(_ chromium: String, html: String, screenshot: String) throws -> Browsed {
    let profile = TestScratch.path("chromium-profile")
    defer { try? FileManager.default.removeItem(atPath: profile) }
    func run(_ extra: [String]) throws -> Browsed {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: chromium)
      p.arguments = Chromium.flags(profile: profile) + ["--window-size=1200,2400"] + extra + ["file://" + html]
      let out = Pipe()
      // Standard error to a file: read after the exit, it cannot fill a pipe and block chromium.
      let errPath = profile + ".stderr"
      _ = FileManager.default.createFile(atPath: errPath, contents: nil)
      defer { try? FileManager.default.removeItem(atPath: errPath) }
      let err = try #require(FileHandle(forWritingAtPath: errPath))
      p.standardOutput = out
      p.standardError = err
      try p.run()
      let outData = out.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      try err.close()
      let errData = FileManager.default.contents(atPath: errPath) ?? Data()
      return Browsed(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
    }
    // One run does both: the DOM after load on stdout, and the screenshot.
    let dom = try run(["--dump-dom", "--screenshot=" + screenshot, "--hide-scrollbars"])
    return dom
  }
}
