import Testing

@testable import Kernel

/// Listings of a box's upper layer are cut at a depth both kernels share, and paths have one
/// spelling, so the simulator and the kernel show the same state whatever the box made.
@Suite struct LayerLimitsTests {
  @Test func entriesBelowTheLimitAreDroppedAndTheirDirectoryMarked() {
    let deep = String(repeating: "/d", count: LayerContents.depthLimit + 3) + "/f"
    let layer = LayerContents([
      LayerEntry(path: deep, kind: .file([]), mode: 0o644), LayerEntry(path: "/top", kind: .file([]), mode: 0o644),
    ])
    let (kept, truncated) = layer.limited()
    #expect(truncated == [String(repeating: "/d", count: LayerContents.depthLimit)])
    #expect(kept.entries.keys.map(LayerContents.depth).max() == LayerContents.depthLimit)
    #expect(kept["/top"] != nil)
    #expect(LayerContents([LayerEntry(path: "/a/b", kind: .file([]), mode: 0)]).limited().truncated.isEmpty)
  }

  @Test(arguments: [
    ("/etc/motd", "/etc/motd"), ("/a\\\\xffb", "/a\\\\xffb"), ("/a\\xFFb", "/a\\xffb"), ("/c\\\\d", "/c\\d"),
    ("/t\\x41b", "/tAb"), ("/", "/"),
  ])
  func pathsHaveOneSpelling(_ typed: String, _ canonical: String) {
    #expect(BoxPath.problem(typed) == nil)
    #expect(BoxPath.canonical(typed) == canonical)
  }

  @Test(arguments: ["/\\x2e\\x2e/etc", "/a/\\x2e", "/a\\x2fb", "/a\\x00"])
  func escapesCannotSpellDotDotSlashOrNUL(_ typed: String) {
    #expect(BoxPath.problem(typed) != nil)
  }
}
