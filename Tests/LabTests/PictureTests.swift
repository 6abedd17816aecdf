import Foundation
import Kernel
import Simulator
import Testing

@testable import Lab

/// The pictures of `draw` on fixed state trees (docs/pictures.md), in the ASCII form at 80
/// columns: what each shows, that shared namespaces read as the host's, that down ends and hidden
/// files are marked, that no line is wider than the terminal, and that the same state always draws
/// the same picture.
@Suite struct PictureTests {
  static let ascii = PictureStyle(charset: .ascii, width: 80)

  // A tiny builder for state trees, in the shape docs/state-paths.md describes.
  static func m(_ entries: (String, StateValue)...) -> StateValue { .map(StateMap(entries)) }
  static func s(_ text: String) -> StateValue { .string(text) }
  static func l(_ items: String...) -> StateValue { .list(items.map { .string($0) }) }
  static func ns(_ labels: [String: Int]) -> StateValue {
    .map(StateMap(NamespaceKind.allCases.map { ($0.rawValue, .string("\($0.rawValue):\(labels[$0.rawValue] ?? 0)")) }))
  }

  /// host; web with its own uts and mnt; db joined web's uts and has its own net.
  static let nsTree = m(
    ("host", m(("ns", ns([:])))),
    ("web", m(("ns", ns(["uts": 1, "mnt": 1])))),
    ("db", m(("ns", ns(["uts": 1, "net": 1])))))

  @Test func namespaceGridShowsSharedAndOwnNamespaces() {
    let lines = PictureText.draw(.ns, PictureInput(tree: Self.nsTree), style: Self.ascii)
    #expect(
      lines == [
        "namespaces: one row per box, one column per kind",
        "+------+--------+------+------+------+------+------+------+-----+",
        "|      | cgroup | ipc  | mnt  | net  | pid  | time | user | uts |",
        "+------+--------+------+------+------+------+------+------+-----+",
        "| host |   0    |  0   |  0   |  0   |  0   |  0   |  0   |  0  |",
        "+------+--------+------+------+------+------+------+------+-----+",
        "| web  |  host  | host |  1   | host | host | host | host |  1  |",
        "+------+--------+------+------+------+------+------+------+-----+",
        "| db   |  host  | host | host |  1   | host | host | host |  1  |",
        "+------+--------+------+------+------+------+------+------+-----+",
        "host: shares the host's namespace; n: one of its own (KIND:n); equal n are one",
      ])
  }

  @Test func namespaceGridMarksWhatTheLastStepChanged() {
    let change = StateChange(path: StatePath(keys: "web", "ns", "uts"), old: Self.s("uts:0"), new: Self.s("uts:1"))
    let lines = PictureText.draw(.ns, PictureInput(tree: Self.nsTree, changes: [change]), style: Self.ascii)
    #expect(lines[6] == "| *web |  host  | host |  1   | host | host | host | host | *1  |")
    #expect(lines.last == "* marks what the last step changed")
    // A change elsewhere marks nothing here, and says so.
    let other = StateChange(path: StatePath(keys: "web", "hostname"), old: Self.s("a"), new: Self.s("b"))
    let quiet = PictureText.draw(.ns, PictureInput(tree: Self.nsTree, changes: [other]), style: Self.ascii)
    #expect(!quiet.dropLast().contains { $0.contains("*") })
    #expect(quiet.last == "(the last step changed nothing drawn here)")
  }

  @Test func narrowTerminalGetsOneLinePerBox() {
    let lines = PictureText.draw(.ns, PictureInput(tree: Self.nsTree), style: PictureStyle(charset: .ascii, width: 50))
    #expect(
      lines == [
        "namespaces: one row per box, one column per kind", "host: its own, KIND:0 of every kind",
        "web: mnt:1 uts:1, the rest the host's", "db: net:1 uts:1, the rest the host's",
      ])
    #expect(lines.allSatisfy { $0.count <= 50 })
  }

  static let mountTree = m(
    ("host", m(("ns", ns([:])))),
    (
      "web",
      m(
        ("ns", ns(["mnt": 1])), ("root", s("host")), ("propagation", s("private")),
        (
          "mounts",
          m(
            ("/tmp", m(("fstype", s("tmpfs")), ("source", s("tmpfs")), ("propagation", s("private")))),
            ("/proc", m(("fstype", s("proc")), ("source", s("proc")), ("propagation", s("private")))),
            ("/tmp/cache", m(("fstype", s("tmpfs")), ("source", s("cache")), ("propagation", s("shared")))))
        )
      )
    ))

  @Test func mountTreeNestsMountPointsUnderTheirParents() {
    let lines = PictureText.draw(.mounts, PictureInput(tree: Self.mountTree, box: "web"), style: Self.ascii)
    #expect(
      lines == [
        "mounts of web (mnt:1)",
        "/                   -      private  root: the host's /",
        "|-- /proc           proc   private",
        "`-- /tmp            tmpfs  private",
        "    `-- /tmp/cache  tmpfs  shared  from cache",
      ])
  }

  static let layerTree = m(
    ("host", m(("ns", ns([:])), ("layers", m(("app", m(("files", .int(2)))), ("busybox", m(("files", .int(3)))))))),
    (
      "web",
      m(
        ("ns", ns(["mnt": 1])),
        (
          "fs",
          m(
            ("layers", l("app", "busybox")),
            (
              "files",
              m(
                ("/app/run.sh", m(("layer", s("app")))), ("/bin/sh", m(("layer", s("busybox")))),
                ("/etc/hostname", m(("layer", s("upper")))), ("/etc/passwd", m(("layer", s("busybox")))))
            ),
            ("whiteouts", l("/etc/motd")),
            (
              "upper",
              m(
                ("/etc/hostname", s("file")), ("/etc/motd", s("whiteout (char 0:0)")), ("/data", s("opaque dir")))
            ))
        ))
    ))

  @Test func layerStackMarksWhiteoutsOpaqueDirsAndTheFilesLayer() {
    let lines = PictureText.draw(
      .layers, PictureInput(tree: Self.layerTree, box: "web", file: "/etc/passwd"), style: Self.ascii)
    #expect(lines.first == "overlay of web: the writable upper layer over 2 lower layers, top first")
    #expect(lines.contains { $0.hasPrefix("+- upper (writable) ---") })
    #expect(lines.contains { $0.contains("| /etc/motd  whiteout (char 0:0): hides the lower copy ") })
    #expect(lines.contains { $0.contains("| /data  opaque dir: hides what is below it ") })
    #expect(lines.contains { $0.hasPrefix("+- busybox (read-only) < /etc/passwd comes from here ---") })
    #expect(lines.contains { $0.contains("| 3 files; 2 show through:") })
    #expect(!lines.contains { $0.hasPrefix("+- app (read-only) <") })
    #expect(lines.allSatisfy { $0.count <= 80 })
    // A boxed line is as wide as its box.
    #expect(Set(lines.filter { $0.hasPrefix("|") }.map(\.count)).count == 1)

    let hidden = PictureText.draw(
      .layers, PictureInput(tree: Self.layerTree, box: "web", file: "/etc/motd"), style: Self.ascii)
    #expect(hidden.contains { $0.contains("| /etc/motd  whiteout (char 0:0) < hides /etc/motd ") })
    #expect(hidden.last == "/etc/motd: hidden by /etc/motd in the upper layer, so web does not see it")
  }

  static func link(_ kind: String, _ state: String, _ addrs: [String], master: String? = nil, peer: String? = nil)
    -> StateValue
  {
    var e: [(String, StateValue)] = [("kind", s(kind)), ("state", s(state)), ("addrs", .list(addrs.map(s)))]
    if let master { e.append(("master", s(master))) }
    if let peer { e.append(("peer", s(peer))) }
    return .map(StateMap(e))
  }

  static let netTree = m(
    (
      "host",
      m(
        ("ns", ns([:])),
        (
          "net",
          m(
            (
              "links",
              m(
                ("lo", link("loopback", "down", [])), ("br0", link("bridge", "up", ["10.0.0.1/24"])),
                ("veth-web", link("veth", "up", [], master: "br0", peer: "web:eth0")),
                ("veth-db", link("veth", "down", [], master: "br0", peer: "db:eth0")))
            ), ("routes", l("10.0.0.0/24 dev br0")), ("forward", .int(0)))
        ))
    ),
    (
      "web",
      m(
        ("ns", ns(["net": 1])),
        (
          "net",
          m(
            (
              "links",
              m(
                ("lo", link("loopback", "up", ["127.0.0.1/8"])),
                ("eth0", link("veth", "up", ["10.0.0.2/24"], peer: "host:veth-web")))
            ), ("routes", l("default via 10.0.0.1 dev eth0", "10.0.0.0/24 dev eth0")))
        ))
    ),
    (
      "db",
      m(
        ("ns", ns(["net": 2])),
        (
          "net",
          m(
            ("links", m(("eth0", link("veth", "up", ["10.0.0.3/24"], peer: "host:veth-db")))),
            ("routes", l("10.0.0.0/24 dev eth0")))
        ))
    ),
    ("old", m(("ns", ns([:])))))

  @Test func netDrawsCablesEndToEndWithDownEndsCut() {
    let route = PictureRoute(
      command: "ping 10.0.0.1 --from web", hops: ["web:eth0", "host:veth-web", "host:br0"])
    let lines = PictureText.draw(.net, PictureInput(tree: Self.netTree, route: route), style: Self.ascii)
    #expect(
      lines == [
        "network: the lab's namespaces, their links and where each cable goes",
        "host side, forward off",
        "|-- lo down",
        "|-- br0 up 10.0.0.1/24 (bridge)",
        "|   |-- veth-web up ====== web:eth0 up 10.0.0.2/24",
        "|   `-- veth-db down ==x=== db:eth0 up 10.0.0.3/24",
        "`-- route 10.0.0.0/24 dev br0",
        "web (net:1); its eth0 drawn above",
        "|-- lo up 127.0.0.1/8",
        "|-- route default via 10.0.0.1 dev eth0",
        "`-- route 10.0.0.0/24 dev eth0",
        "db (net:2); its eth0 drawn above",
        "`-- route 10.0.0.0/24 dev eth0",
        "not drawn, in the machine's network namespace: old",
        "route of `ping 10.0.0.1 --from web` now: web:eth0 -> host:veth-web -> host:br0",
      ])
  }

  static let cgroupTree = m(
    ("host", m(("ns", ns([:])))),
    (
      "web",
      m(
        ("ns", ns([:])),
        (
          "cgroup",
          m(
            ("version", .volatile(.int(2))),
            ("memory", m(("max", .int(64 << 20)), ("current", .volatile(.int(16 << 20))))),
            ("pids", m(("max", .int(20)), ("current", .int(5)))), ("cpu", m(("max", s("50000 100000")))))
        ))
    ))

  @Test func cgroupsDrawLimitsAndPredictableCountsButUsageOnlyWhenAsked() {
    let lines = PictureText.draw(.cgroups, PictureInput(tree: Self.cgroupTree), style: Self.ascii)
    #expect(
      lines == [
        "cgroups: each box's limits (the files as cgroup v2 names them)",
        "the lab's cgroup",
        "`-- web",
        "    memory.max 64 MiB",
        "    pids.max   20  [####............] 5 of 20",
        "    cpu.max    50000 100000  (50% of one CPU)",
      ])
    // Bytes in use are volatile: only `draw cgroups --usage` shows them.
    let usage = PictureText.draw(.cgroups, PictureInput(tree: Self.cgroupTree, usage: true), style: Self.ascii)
    #expect(usage[3] == "    memory.max 64 MiB  [####............] 16 MiB in use")
  }

  @Test(arguments: [PictureKind.ns, .mounts, .layers, .net, .cgroups])
  func asciiFormIsPlainASCIIAndEveryFormFitsTheWidth(kind: PictureKind) {
    let tree = Self.m(
      ("host", Self.netTree["host"] ?? Self.s("")),
      ("a-very-long-box-name-that-does-not-fit-anywhere", Self.layerTree["web"] ?? Self.s("")))
    for tree in [tree, Self.nsTree, Self.mountTree, Self.layerTree, Self.netTree, Self.cgroupTree] {
      for width in [80, 60, 40] {
        let input = PictureInput(tree: tree, box: nil, file: "/etc/hostname")
        let ascii = PictureText.draw(kind, input, style: PictureStyle(charset: .ascii, width: width))
        #expect(ascii.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) }, "\(ascii)")
        #expect(ascii.allSatisfy { $0.count <= width }, "\(ascii)")
        let unicode = PictureText.draw(kind, input, style: PictureStyle(charset: .unicode, width: width))
        #expect(unicode.allSatisfy { $0.count <= width })
        #expect(unicode.count == ascii.count)
        // Deterministic: the same input draws the same picture.
        #expect(PictureText.draw(kind, input, style: PictureStyle(charset: .unicode, width: width)) == unicode)
      }
    }
  }

  @Test func svgNamesEveryBoxLinkAndLayer() {
    let net = PictureSVG.draw(.net, PictureInput(tree: Self.netTree)) ?? ""
    #expect(net.contains("<g class=\"netns\" data-name=\"web\">"))
    #expect(net.contains("data-a=\"host:veth-web\" data-b=\"web:eth0\""))
    #expect(net.contains("<line class=\"link veth down\" data-a=\"host:veth-db\" data-b=\"db:eth0\""))
    let layers = PictureSVG.draw(.layers, PictureInput(tree: Self.layerTree, box: "web", file: "/bin/sh")) ?? ""
    #expect(layers.contains("<g class=\"layer upper\" data-layer=\"upper (writable)\">"))
    #expect(layers.contains("<g class=\"layer lower source\" data-layer=\"busybox\">"))
    #expect(layers.contains("class=\"entry whiteout\""))
    let grid = PictureSVG.draw(.ns, PictureInput(tree: Self.nsTree)) ?? ""
    #expect(grid.contains("<g class=\"ns-cell shared\" data-kind=\"ipc\" data-label=\"ipc:0\">"))
    for svg in [net, layers, grid] { #expect(Self.balanced(svg), "\(svg)") }
  }

  // MARK: Through the session

  @Test func drawRefusesWhatItDoesNotKnowAndChangesNothing() throws {
    let s = try Session(kernel: SimulatedKernel())
    _ = s.execute("box new web")
    let before = s.tree
    let out = s.execute("draw nss")
    #expect(out.first == "error: draw has no picture named \"nss\"")
    #expect(out.contains("  did you mean: draw ns"))
    #expect(out.last == "  state:        nothing was changed")
    #expect(s.execute("draw layers etc/hostname").first == "error: draw does not take \"etc/hostname\" here")
    #expect(s.execute("pictures maybe").first == "error: pictures takes on or off, not \"maybe\"")
    #expect(s.tree == before)
  }

  @Test func picturesOnDrawsWhatEachStepChanged() throws {
    let s = try Session(kernel: SimulatedKernel())
    _ = s.execute("box new web")
    #expect(s.execute("pictures on").first?.hasPrefix("pictures on:") == true)
    let out = s.execute("unshare uts")
    let grid = try #require(out.firstIndex(of: "  namespaces: one row per box, one column per kind"))
    #expect(out[grid...].contains { $0.hasPrefix("  │ ◆web │") && $0.contains("◆1") })
    #expect(out.last == "  ◆ marks what the last step changed")
    // Only the pictures of what changed: a hostname is in none of them.
    #expect(!s.execute("hostname lab").contains("  namespaces: one row per box, one column per kind"))
    _ = s.execute("pictures off")
    #expect(!s.execute("unshare ipc").contains("  namespaces: one row per box, one column per kind"))
  }

  @Test func drawNetReplaysTheLastPingOnTheCurrentState() throws {
    let s = try Session(kernel: SimulatedKernel())
    for line in [
      "box new web", "unshare net", "net veth", "net addr eth0 10.0.0.2/24", "net addr host:veth-web 10.0.0.1/24",
      "net up eth0", "net up host:veth-web", "ping 10.0.0.1",
    ] {
      #expect(!(s.execute(line).first ?? "").hasPrefix("error:"), "\(line)")
    }
    #expect(s.execute("draw net").last == "route of `ping 10.0.0.1 --from web` now: web:eth0 → host:veth-web")
    _ = s.execute("net down host:veth-web")
    let after = s.execute("draw net")
    #expect(after.last == "route of `ping 10.0.0.1 --from web` now: does not arrive: link down")
    #expect(after.contains("└── veth-web down 10.0.0.1/24 ━━╳━━━ web:eth0 up 10.0.0.2/24"), "\(after)")
  }

  // MARK: Export

  @Test func exportedPageHasProseSectionsStepsAndPicturesAndTheCastAMarkerPerStep() throws {
    let text = """
      # A title
      # Some prose with `code` & <angle brackets>.
        boxwalk> box new web
        ...
      #pause a break
        boxwalk[web]> unshare uts
        ...
        boxwalk[web]> draw layers
        ...

      """
    let file = try TranscriptFile.parse(path: "t.transcript", text: text)
    let session = try Session(kernel: SimulatedKernel())
    let items = Exporter.transcript(file, features: ["sim"], session: session)
    let html = ExportPage.html(title: "A title", source: "t.transcript", backend: "sim", items: items)
    #expect(html.contains("<p>Some prose with <code>code</code> &amp; &lt;angle brackets&gt;.</p>"))
    #expect(html.contains("<hr class=\"pause\">\n<p class=\"caption\">a break</p>"))
    #expect(html.components(separatedBy: "<section class=\"step\"").count == 4)
    // unshare uts changed the namespaces: its step has the grid, with web's new uts:1 marked.
    #expect(html.contains("<g class=\"ns-cell own changed\" data-kind=\"uts\" data-label=\"uts:1\">"))
    // No script runs: the only script element is the state as JSON data.
    #expect(html.components(separatedBy: "<script").count == 2)
    #expect(html.contains("<script type=\"application/json\" id=\"boxwalk-state\">{"))

    let cast = ExportCast.cast(title: "A title", items: items).split(separator: "\n")
    #expect(
      cast.first
        == "{\"version\": 2, \"width\": 80, \"height\": 30, \"title\": \"A title\", \"env\": {\"TERM\": \"xterm-256color\"}}"
    )
    #expect(
      cast.filter { $0.contains(", \"m\", ") } == [
        "[0.500, \"m\", \"1: box new web\"]", "[2.700, \"m\", \"2: unshare uts\"]",
        "[4.400, \"m\", \"3: draw layers\"]",
      ])
  }

  /// A name a transcript chose ends up in the state data of the exported page. Seen failing
  /// before: "<!--<script>" went into the script element as it was, which puts the HTML parser in
  /// its "double escaped" state, so the element's own "</script>" did not end it and the rest of
  /// the page became script data.
  @Test func theStateDataOfAnExportedPageHoldsNoMarkup() throws {
    let text = """
      # Hostile names
        boxwalk> box new web
        ...
        boxwalk[web]> unshare uts
        ...
        boxwalk[web]> hostname "<!--<script>"
        ...
        boxwalk[web]> domainname "</script><b>x</b>"
        ...

      """
    let file = try TranscriptFile.parse(path: "t.transcript", text: text)
    let items = Exporter.transcript(file, features: ["sim"], session: try Session(kernel: SimulatedKernel()))
    let html = ExportPage.html(title: "t", source: "t.transcript", backend: "sim", items: items)
    let open = "<script type=\"application/json\" id=\"boxwalk-state\">"
    let start = try #require(html.range(of: open))
    let end = try #require(html[start.upperBound...].range(of: "</script>"))
    let data = html[start.upperBound..<end.lowerBound]
    #expect(!data.contains("<"), "markup in the state data: \(data)")
    let state = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
    let web = try #require(state?["web"] as? [String: Any], "\(data)")
    #expect(web["hostname"] as? String == "<!--<script>")
    #expect(web["domainname"] as? String == "</script><b>x</b>")
  }

  @Test func lessonHandoutHidesHintsAndSolutionsUnlessAsked() throws {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let path = parts.joined(separator: "/") + "/lessons/09-whiteouts.md"
    let text = try #require(LessonFilesForTests.read(path))
    let lesson = try Lesson.parse(path: path, text: text)
    func page(_ solutions: Bool) throws -> String {
      let items = Exporter.lesson(lesson, session: try Session(kernel: SimulatedKernel()), solutions: solutions)
      return ExportPage.html(title: lesson.title, source: path, backend: "sim", items: items)
    }
    let handout = try page(false)
    #expect(handout.contains("<div class=\"block-title\">Exercise: make these true</div>"))
    #expect(!handout.contains(">Solution<") && !handout.contains(">Hint 1<"))
    // The solutions ran anyway: the lab block after the whiteout exercise draws the whiteout.
    #expect(handout.contains("data-layer=\"upper (writable)\""))
    #expect(handout.contains("/etc/group  whiteout (char 0:0)"))
    let answers = try page(true)
    #expect(answers.contains(">Solution<") && answers.contains(">Hint 1<"))
  }

  /// host cabled to a and b; a cabled to b (two namespaces one hop from the host) and to c (two
  /// hops); d cabled to nothing; e shares a's namespace.
  static let meshTree: StateValue = {
    func side(_ net: Int, _ links: (String, StateValue)...) -> StateValue {
      m(("ns", ns(["net": net])), ("net", m(("links", .map(StateMap(links))), ("routes", l()))))
    }
    return m(
      (
        "host",
        m(
          ("ns", ns([:])),
          (
            "net",
            m(
              (
                "links",
                m(
                  ("veth-a", link("veth", "up", [], peer: "a:eth0")),
                  ("veth-b", link("veth", "down", [], peer: "b:eth0")))
              ), ("routes", l()))
          ))
      ),
      ("d", side(4, ("lo", link("loopback", "up", [])))),
      ("c", side(3, ("eth0", link("veth", "up", [], peer: "a:eth2")))),
      (
        "b",
        side(
          2, ("eth0", link("veth", "down", [], peer: "host:veth-b")), ("eth1", link("veth", "up", [], peer: "a:eth1")))
      ),
      (
        "a",
        side(
          1, ("eth0", link("veth", "up", [], peer: "host:veth-a")), ("eth1", link("veth", "up", [], peer: "b:eth1")),
          ("eth2", link("veth", "up", [], peer: "c:eth0")))
      ),
      ("e", m(("ns", ns(["net": 1])), ("net", m(("links", m()), ("routes", l()))))))
  }()

  /// No cable runs through or along a namespace's box: each touches only its own two ends' boxes,
  /// at their edges. Cables between two namespaces of one column go out to lanes of their own.
  @Test func netCablesCrossNoNamespace() throws {
    let svg = try #require(PictureSVG.draw(.net, PictureInput(tree: Self.meshTree)))
    #expect(Self.balanced(svg))
    #expect(PictureSVG.draw(.net, PictureInput(tree: Self.meshTree)) == svg, "not deterministic")
    func number(_ name: String, in tag: Substring) -> Double? {
      guard let r = tag.range(of: " \(name)=\"") else { return nil }
      return Double(tag[r.upperBound...].prefix { $0 != "\"" })
    }
    // The namespaces' boxes, by name.
    var boxes: [String: (x: Double, y: Double, w: Double, h: Double)] = [:]
    for part in svg.components(separatedBy: "<g class=\"netns").dropFirst() {
      let tag = Substring(part)
      let name = String(tag[tag.range(of: "data-name=\"")!.upperBound...].prefix { $0 != "\"" })
      let rect = tag[tag.range(of: "<rect class=\"ns-box\"")!.lowerBound...]
      boxes[name] = (
        number("x", in: rect)!, number("y", in: rect)!, number("width", in: rect)!, number("height", in: rect)!
      )
    }
    #expect(Set(boxes.keys) == ["host", "a", "b", "c", "d"], "\(boxes.keys)")
    // Each cable as its points: a line's two ends, or a path's corners.
    var cables: [(a: String, b: String, points: [(Double, Double)])] = []
    for part in svg.components(separatedBy: "class=\"link veth").dropFirst() {
      let tag = Substring(part.prefix { $0 != ">" })
      let a = String(tag[tag.range(of: "data-a=\"")!.upperBound...].prefix { $0 != ":" })
      let b = String(tag[tag.range(of: "data-b=\"")!.upperBound...].prefix { $0 != ":" })
      if let d = tag.range(of: " d=\"") {
        var points: [(Double, Double)] = []
        var x = 0.0
        var y = 0.0
        for word in tag[d.upperBound...].prefix(while: { $0 != "\"" }).split(separator: " ") {
          let v = word.first!.isLetter ? Double(word.dropFirst())! : Double(word)!
          switch word.first {
          case "M": x = v
          case "H":
            x = v
            points.append((x, y))
          case "V":
            y = v
            points.append((x, y))
          default:
            y = v
            points.append((x, y))
          }
        }
        cables.append((a, b, points))
      } else {
        cables.append(
          (a, b, [(number("x1", in: tag)!, number("y1", in: tag)!), (number("x2", in: tag)!, number("y2", in: tag)!)]))
      }
    }
    #expect(cables.count == 4, "\(cables.map { ($0.a, $0.b) })")
    for cable in cables {
      let ends = [cable.points.first!, cable.points.last!]
      for (p, q) in zip(cable.points, cable.points.dropFirst()) {
        for step in 0...100 {
          let t = Double(step) / 100
          let (x, y) = (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t)
          for (name, r) in boxes where x >= r.x - 1 && x <= r.x + r.w + 1 && y >= r.y - 1 && y <= r.y + r.h + 1 {
            // Only a cable's own ends touch a box: its own, where the cable leaves it.
            let own = name == cable.a || name == cable.b
            let atEnd = ends.contains { abs($0.0 - x) <= 2 && abs($0.1 - y) <= 2 }
            #expect(own && atEnd, "the cable \(cable.a)-\(cable.b) crosses \(name) at (\(x), \(y))")
          }
        }
      }
    }
    // Columns: host; then a and b (one hop, a first: its cable comes from higher up); then c.
    #expect(boxes["host"]!.x < boxes["a"]!.x && boxes["a"]!.x == boxes["b"]!.x && boxes["b"]!.x < boxes["c"]!.x)
    #expect(boxes["a"]!.y < boxes["b"]!.y)
    #expect(svg.contains("<path class=\"link veth up\" data-a=\"b:eth1\" data-b=\"a:eth1\" d=\"M"), "\(svg)")
  }

  /// Every element opened is closed, in order (a well-formedness check without an XML parser).
  static func balanced(_ svg: String) -> Bool {
    var stack: [String] = []
    var rest = Substring(svg)
    while let open = rest.firstIndex(of: "<") {
      guard let close = rest[open...].firstIndex(of: ">") else { return false }
      let tag = rest[rest.index(after: open)..<close]
      rest = rest[rest.index(after: close)...]
      if tag.hasSuffix("/") { continue }
      let name = String(tag.split(separator: " ").first ?? "")
      if name.hasPrefix("/") {
        guard stack.popLast() == String(name.dropFirst()) else { return false }
      } else {
        stack.append(name)
      }
    }
    return stack.isEmpty
  }
}
