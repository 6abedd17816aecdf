import Kernel
import Testing

/// overlayfs lookup as Documentation/filesystems/overlayfs.rst describes it, on layers given top
/// first.
struct OverlayTests {
  static func dir(_ p: String, opaque: Bool = false) -> LayerEntry {
    LayerEntry(path: p, kind: .directory(opaque: opaque), mode: 0o755)
  }
  static func file(_ p: String, _ text: String = "x") -> LayerEntry {
    LayerEntry(path: p, kind: .file(Array(text.utf8)), mode: 0o644)
  }
  static func whiteout(_ p: String) -> LayerEntry { LayerEntry(path: p, kind: .whiteout, mode: 0) }

  let base = LayerContents([Self.file("/etc/passwd"), Self.file("/etc/group"), Self.file("/bin/sh")])

  @Test func theTopmostCopyWins() {
    let upper = LayerContents([Self.file("/etc/passwd", "new")])
    #expect(Overlay.lookup("/etc/passwd", in: [upper, base])?.layer == 0)
    #expect(Overlay.lookup("/etc/group", in: [upper, base])?.layer == 1)
    #expect(Overlay.lookup("/etc/missing", in: [upper, base]) == nil)
  }

  @Test func aWhiteoutHidesTheFileBelow() {
    let upper = LayerContents([Self.whiteout("/etc/group")])
    #expect(Overlay.lookup("/etc/group", in: [upper, base]) == nil)
    #expect(Overlay.list("/etc", in: [upper, base])?.map(\.name) == ["passwd"])
  }

  @Test func aWhitedOutDirectoryHidesEverythingInIt() {
    let upper = LayerContents([Self.whiteout("/etc")])
    #expect(Overlay.lookup("/etc/passwd", in: [upper, base]) == nil)
    #expect(Overlay.list("/", in: [upper, base])?.map(\.name) == ["bin"])
  }

  @Test func anOpaqueDirectoryHidesTheLowerDirectorysEntries() {
    let upper = LayerContents([Self.dir("/etc", opaque: true), Self.file("/etc/motd")])
    #expect(Overlay.lookup("/etc/passwd", in: [upper, base]) == nil)
    #expect(Overlay.lookup("/etc/motd", in: [upper, base])?.layer == 0)
    #expect(Overlay.merged([upper, base]).map(\.path) == ["/bin", "/bin/sh", "/etc", "/etc/motd"])
  }

  @Test func aFileInAHigherLayerEndsTheDirectoryBelow() {
    let middle = LayerContents([Self.file("/etc")])
    #expect(Overlay.lookup("/etc/passwd", in: [middle, base]) == nil)
    #expect(Overlay.lookup("/etc", in: [middle, base])?.layer == 0)
  }

  @Test func anOpaqueDirectoryInAMiddleLayerStopsOnlyTheLayersBelowIt() {
    let top = LayerContents([Self.file("/etc/top")])
    let middle = LayerContents([Self.dir("/etc", opaque: true), Self.file("/etc/middle")])
    let names = Overlay.list("/etc", in: [top, middle, base])?.map(\.name)
    #expect(names == ["middle", "top"])
  }

  @Test func layersGetTheirParentDirectories() {
    let layer = LayerContents([Self.file("/a/b/c")])
    #expect(layer["/a"]?.kind == .directory(opaque: false))
    #expect(layer["/a/b"]?.kind == .directory(opaque: false))
    #expect(layer.fileCount == 1)
  }

  @Test func factsNameTheLayerOfEveryFileAndListTheWhiteouts() {
    let upper = LayerContents([Self.file("/etc/passwd", "new"), Self.whiteout("/etc/group")])
    let fs = FSFacts(layerNames: ["busybox"], upper: upper, lowers: [base])
    #expect(fs.files.map(\.path) == ["/bin/sh", "/etc/passwd"])
    #expect(fs.files.map(\.layer) == ["busybox", "upper"])
    #expect(fs.upper.map(\.kind.word) == ["dir", "whiteout (char 0:0)", "file"])
  }

  /// `MergedLowers.under` lays an upper layer over the lowers' merged view, made once; it must
  /// give what merging every layer afresh gives. Random stacks (seeded, so a failure repeats)
  /// over names that sort around "/" ("a-b" before "a/…"), with whiteouts, opaque directories,
  /// files over directories, and upper entries under a parent the upper layer lacks or holds as
  /// a file (the lookup leaves the upper layer there).
  @Test func anUpperLayerOverTheLowersMergedViewIsTheWholeMerge() {
    var rng = SplitMix(seed: 10)
    let names = ["a", "b", "a-b", "a.b", "é"]
    func randomPath() -> String {
      (0..<(1 + rng.next(3))).map { _ in "/" + names[rng.next(names.count)] }.joined()
    }
    func randomEntry(_ path: String, whiteouts: Bool) -> LayerEntry {
      switch rng.next(whiteouts ? 6 : 5) {
      case 0: return Self.dir(path, opaque: true)
      case 1, 2: return Self.dir(path)
      case 3: return Self.file(path, path)
      case 4: return LayerEntry(path: path, kind: .symlink(target: "/b"), mode: 0o777)
      default: return Self.whiteout(path)
      }
    }
    for _ in 0..<400 {
      let lowers = (0..<(1 + rng.next(3))).map { _ in
        LayerContents((0..<rng.next(12)).map { _ in randomEntry(randomPath(), whiteouts: true) })
      }
      var upper = LayerContents((0..<rng.next(8)).map { _ in randomEntry(randomPath(), whiteouts: true) })
      // Entries set one by one get no parents made for them, as a partly written upper may hold.
      for _ in 0..<rng.next(3) {
        let path = randomPath()
        upper[path] = randomEntry(path, whiteouts: true)
      }
      let whole = Overlay.merged([upper] + lowers)
      let laid = MergedLowers(lowers).under(upper)
      #expect(laid.map(\.path) == whole.map(\.path))
      #expect(laid.map(\.layer) == whole.map(\.layer))
      #expect(laid.map(\.entry) == whole.map(\.entry))
    }
  }
}

/// SplitMix64 (Steele, Lea, Flood 2014), as in LabTests' FuzzTests: seeded, so a random test
/// fails the same way every time and on every platform.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  /// A number in 0..<bound.
  mutating func next(_ bound: Int) -> Int {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Int((z ^ (z >> 31)) % UInt64(bound))
  }
}

struct ImageRefTests {
  @Test(arguments: [
    ("localhost:5000/app:v1", "localhost:5000/app:v1"), ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
    ("oci:shelf/web-site:v2", "oci:shelf/web-site:v2"),
    ("localhost:5000/library/app:v1", "localhost:5000/library/app:v1"),
  ])
  func goodReferences(_ text: String, _ shown: String) throws {
    #expect(try RegistryRef.parse(text).get().description == shown)
  }

  @Test(arguments: [
    "example.com:5000/app", "localhost/app", "localhost:0/app", "localhost:99999/app", "localhost:5000/App",
    "localhost:5000/app:", "localhost:5000/a..b", "oci:../x/app", "oci:/app", "localhost:5000/app:-x", "app",
    "localhost:5000/a//b", "localhost:5000/a/",
  ])
  func badReferences(_ text: String) {
    #expect(RegistryRef.parse(text).isFailureForTest)
  }

  @Test func localNamesDefaultToLatest() throws {
    #expect(try ImageName.parse("app").get().full == "app:latest")
    #expect(try ImageName.parse("app:v1").get().description == "app:v1")
    #expect(try ImageName.parse("localhost:5000/app:v1").get().description == "localhost:5000/app:v1")
    #expect(ImageName.parse("../etc").isFailureForTest)
    #expect(ImageName.parse("app:").isFailureForTest)
    #expect(ImageName.parse("a,b").isFailureForTest)
  }
}

struct LayerDiffTests {
  @Test func aNewOverlayOpensIntoOneRowPerFile() {
    let files = StateValue.map(StateMap([("/etc/motd", .map(StateMap([("layer", .string("upper"))])))]))
    let fs = StateValue.map(StateMap([("layers", .list([.string("busybox")])), ("files", files)]))
    let before = StateValue.map(StateMap([("web", .map(StateMap([("root", .string("host"))])))]))
    let after = StateValue.map(StateMap([("web", .map(StateMap([("root", .string("host")), ("fs", fs)])))]))
    let paths = StateDiff.between(before, after).map(\.path.description)
    #expect(paths == ["web.fs.layers", "web.fs.files[\"/etc/motd\"]"])
  }
}

extension Result {
  var isFailureForTest: Bool { if case .failure = self { true } else { false } }
}
