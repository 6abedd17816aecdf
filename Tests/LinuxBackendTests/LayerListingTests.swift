import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend

/// Reading a box's upper layer survives whatever a box can create there (the listing behind
/// BOX.fs on every step), while image import and commit refuse what a layer cannot carry.
@Suite struct LayerListingTests {
  static let listing = LayerDirectory.Options(contents: false, overlayMarks: true)
  static let contents = LayerDirectory.Options(contents: true, overlayMarks: false)

  /// A directory holding a FIFO, a file whose name is not UTF-8, and `depth` nested directories.
  func tree(depth: Int = 0) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    #expect(mkfifo(dir.path + "/fifo", 0o644) == 0)
    let odd = Array((dir.path + "/a").utf8) + [0xff, UInt8(ascii: "b")]
    let fd = open(odd.map { CChar(bitPattern: $0) } + [0], O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
    #expect(fd >= 0)
    close(fd)
    var path = dir.path
    for _ in 0..<depth {
      path += "/d"
      #expect(mkdir(path, 0o755) == 0)
    }
    return dir
  }

  @Test func aListingShowsFIFOsByKindAndOddNamesEscaped() throws {
    let dir = try tree()
    defer { dir.remove() }
    let layer = try LayerDirectory.read(dir.path, Self.listing)
    #expect(layer["/fifo"]?.kind == .special("fifo"))
    #expect(layer["/a\\xffb"]?.kind == .file([]))
    #expect(layer.entries.count == 2)
  }

  @Test(.enabled(if: geteuid() == 0, "mknod(2) of a device needs CAP_MKNOD"))
  func aListingShowsDeviceNodesByKindAndNeverOpensThem() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(mknod(dir.path + "/null", S_IFCHR | 0o600, 0x103) == 0)
    // 0x103 is makedev(1, 3), /dev/null (the makedev macro does not reach Swift).
    #expect(try LayerDirectory.read(dir.path, Self.listing)["/null"]?.kind == .special("char device"))
  }

  @Test func aListingStopsBelowTheDepthLimitAndFactsMarkTheDirectory() throws {
    let dir = try tree(depth: LayerContents.depthLimit + 5)
    defer { dir.remove() }
    let layer = try LayerDirectory.read(dir.path, Self.listing)
    // Read down to one level below the limit, not further.
    #expect(layer.entries.keys.map(LayerContents.depth).max() == LayerContents.depthLimit + 1)
    let facts = FSFacts(layerNames: [], upper: layer, lowers: [LayerContents]())
    let deepest = String(repeating: "/d", count: LayerContents.depthLimit)
    #expect(facts.truncated == [deepest])
    #expect(facts.upper.map(\.path).map(LayerContents.depth).max() == LayerContents.depthLimit)
  }

  @Test func importRefusesWhatALayerCannotCarryWithTheReason() throws {
    let dir = try tree()
    defer { dir.remove() }
    #expect {
      try LayerDirectory.read(dir.path, Self.contents)
    } throws: { error in
      guard let e = error as? SystemCallError else { return false }
      return (e.errno == EILSEQ && e.call.contains("a\\xffb")) || (e.errno == EINVAL && e.call.contains("fifo"))
    }
  }
}

/// Teardown removes a box's scratch whatever the box left in it: before, a name that is not
/// UTF-8 could not be unlinked (its decoded name reached no file), and the session directory
/// stayed on the host.
@Suite struct FileTreeRemovalTests {
  @Test func aTreeWithOddNamesFIFOsAndDeepDirectoriesIsRemoved() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let top = dir.path + "/scratch"
    #expect(mkdir(top, 0o755) == 0)
    #expect(mkfifo(top + "/fifo", 0o644) == 0)
    let odd = Array((top + "/a").utf8) + [0xff]
    let fd = open(odd.map { CChar(bitPattern: $0) } + [0], O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
    #expect(fd >= 0)
    close(fd)
    var path = top
    for _ in 0..<200 {
      path += "/d"
      #expect(mkdir(path, 0o755) == 0)
    }
    FileTree.remove(top)
    var st = stat()
    #expect(lstat(top, &st) != 0 && errno == ENOENT)
  }
}
