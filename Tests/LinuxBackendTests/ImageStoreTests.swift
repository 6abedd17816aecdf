import Foundation
import Glibc
import Kernel
import OCI
import Testing

@testable import LinuxBackend

/// The image store on disk, checked with tools that know nothing of boxwalk: gzip(1), tar(1),
/// sha256sum(1).
@Suite struct ImageStoreTests {
  static let appLayer = LayerContents([
    LayerEntry(path: "/srv/index.html", kind: .file(Array("hello\n".utf8)), mode: 0o644),
    LayerEntry(path: "/srv/old", kind: .whiteout, mode: 0),
    LayerEntry(path: "/bin/app", kind: .symlink(target: "/bin/busybox"), mode: 0o777),
  ])

  @Test func gzipInteroperatesWithGzip() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let text = Array(String(repeating: "boxwalk layers ", count: 1000).utf8)
    let packed = try Gzip.compress(text)
    #expect(packed.count < text.count / 10)
    #expect(FileManager.default.createFile(atPath: dir.path + "/a.gz", contents: Data(packed)))
    #expect(try TestChild.run(["gzip", "-dc", dir.path + "/a.gz"]).output == String(decoding: text, as: UTF8.self))
    _ = try TestChild.run(["sh", "-c", "printf 'made by gzip' | gzip -c > \(dir.path)/b.gz"])
    let theirs = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/b.gz")))
    #expect(try Gzip.decompress(theirs, limit: 100) == Array("made by gzip".utf8))
    #expect(throws: Gzip.Failure.self) { try Gzip.decompress(packed, limit: 100) }
  }

  @Test(.requiresRoot) func anImageIsAnOCILayoutThatToolsCanRead() throws {
    let home = try TemporaryDirectory()
    defer { home.remove() }
    let store = ImageStore(home: home.path)
    let stack = try store.add(ImageName(name: "app", tag: "v1"), new: [("app:v1", Self.appLayer, false)], below: [])
    let layer = try #require(stack.first)
    #expect(layer.diffID == SHA256.digest(LayerTar.write(Self.appLayer)))
    #expect(try store.catalog().images.map(\.name.full) == ["app:v1"])
    // Every blob's name is its sha256.
    let blobs = home.path + "/oci/blobs/sha256"
    for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
      let out = try TestChild.run(["sha256sum", blobs + "/" + name]).output
      #expect(out.hasPrefix(name + " "))
    }
    // The layer blob is a gzip tar, whiteouts in the OCI form, every mtime 0.
    let listing = try TestChild.run(["tar", "--numeric-owner", "-tvzf", blobs + "/" + layer.blob.digest.dropFirst(7)])
      .output
    #expect(listing.contains("srv/.wh.old"))
    #expect(listing.contains("1970-01-01"))
    #expect(listing.contains("0/0"))
    // Unpacked for overlayfs: the whiteout is a character device 0/0 again.
    var st = stat()
    #expect(lstat(home.path + "/layers/" + layer.diffID.dropFirst(7) + "/srv/old", &st) == 0)
    #expect(st.st_mode & S_IFMT == S_IFCHR)
    #expect(
      try store.listing(layer)
        == LayerContents([
          LayerEntry(path: "/srv/index.html", kind: .file([]), mode: 0o644),
          LayerEntry(path: "/srv/old", kind: .whiteout, mode: 0),
          LayerEntry(path: "/bin/app", kind: .symlink(target: "/bin/busybox"), mode: 0o777),
        ]))
    #expect(try TestChild.run(["cat", home.path + "/oci/oci-layout"]).output == "{\"imageLayoutVersion\":\"1.0.0\"}")
  }

  /// An entry below a symbolic link of the same layer must not land where the link points.
  @Test func unpackingNeverFollowsALinkInTheLayer() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try dir.write("victim/hello", "untouched")
    let hostile = LayerContents([
      LayerEntry(path: "/escape", kind: .symlink(target: dir.path + "/victim"), mode: 0o777),
      LayerEntry(path: "/escape/hello", kind: .file(Array("owned".utf8)), mode: 0o644),
      LayerEntry(path: "/escape/new", kind: .file(Array("owned".utf8)), mode: 0o644),
    ])
    #expect(throws: SystemCallError.self) { try LayerDirectory.write(hostile, to: dir.path + "/layer") }
    #expect(try String(contentsOfFile: dir.path + "/victim/hello", encoding: .utf8) == "untouched")
    #expect(dir.entries("/victim") == ["hello"])
  }

  @Test func readingADirectoryKeepsLinksAsLinks() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try dir.write("app/conf", "x")
    symlink("/etc", dir.path + "/app/etc")
    let layer = try HostDirectory.read(dir.path + "/app")
    #expect(layer["/etc"]?.kind == .symlink(target: "/etc"))
    #expect(layer["/etc/passwd"] == nil)
    #expect(layer["/conf"]?.kind == .file(Array("x".utf8)))
  }

  @Test func aBlobThatDoesNotMatchItsNameIsAnError() throws {
    let home = try TemporaryDirectory()
    defer { home.remove() }
    let layout = OCILayout(root: home.path)
    try layout.create()
    let digest = try layout.writeBlob(Array("real".utf8))
    try "forged".write(toFile: layout.blobPath(digest), atomically: false, encoding: .utf8)
    #expect(throws: SystemCallError.self) { try layout.readBlob(digest) }
  }

  /// What fstatat(2) saw while walking a directory can change before the file is opened (a box
  /// process, another user): a FIFO swapped in must not block the read, and a file that grew
  /// must not pass the size cap.
  @Test func readingAFileChecksWhatWasOpened() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(mkfifo(dir.path + "/pipe", 0o600) == 0)
    try dir.write("big", String(repeating: "x", count: 200))
    let dirfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    defer { close(dirfd) }
    let notRegular = #expect(throws: SystemCallError.self) {
      try LayerDirectory.readFile(dirfd, "pipe", "pipe", limit: 100)
    }
    #expect(notRegular?.errno == EINVAL)
    let tooBig = #expect(throws: SystemCallError.self) { try LayerDirectory.readFile(dirfd, "big", "big", limit: 100) }
    #expect(tooBig?.errno == EFBIG)
    #expect(try LayerDirectory.readFile(dirfd, "big", "big", limit: 200).count == 200)
  }
}
