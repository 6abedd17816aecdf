import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend

/// `box export`'s writer on the host (docs/runtimes.md, "Host safety"): DIR made 0700 or an empty
/// directory of the caller's, no symbolic link followed at or below it, and nothing left after an
/// error. Plain files in a temporary directory: no namespace, no lock.
@Suite struct HostBundleTests {
  static let rootfs = LayerContents([
    LayerEntry(path: "/bin/busybox", kind: .file(Array("#!".utf8)), mode: 0o755),
    LayerEntry(path: "/etc/hostname", kind: .symlink(target: "/etc/shadow"), mode: 0o777),
  ])

  @Test func aNewDirectoryHoldsTheConfigAndTheRoot() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.remove() }
    let dir = tmp.path + "/bundle"
    try HostBundle.write(directory: dir, config: Array("{}\n".utf8), rootfs: Self.rootfs)
    var st = stat()
    #expect(lstat(dir, &st) == 0 && st.st_mode & 0o7777 == 0o700)
    #expect(try String(contentsOfFile: dir + "/config.json", encoding: .utf8) == "{}\n")
    #expect(lstat(dir + "/rootfs/bin/busybox", &st) == 0 && st.st_mode & 0o7777 == 0o755)
    // A link is copied as a link, never written through.
    #expect(SmallFiles.readLink(dir + "/rootfs/etc/hostname") == "/etc/shadow")
  }

  @Test func anEmptyDirectoryOfTheCallersIsUsed() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.remove() }
    try HostBundle.write(directory: tmp.path, config: Array("{}".utf8), rootfs: Self.rootfs)
    #expect(tmp.entries() == ["config.json", "rootfs"])
  }

  @Test func aNonEmptyDirectoryOrALinkIsRefusedAndLeftAlone() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.remove() }
    try tmp.write("full/keep", "x")
    #expect(symlink(tmp.path + "/full", tmp.path + "/link") == 0)
    for (dir, errno) in [("full", Errno.EEXIST), ("link", Errno.ENOTDIR)] {
      #expect(throws: KernelError.self) {
        try HostBundle.write(directory: tmp.path + "/" + dir, config: [], rootfs: Self.rootfs)
      }
      do {
        try HostBundle.write(directory: tmp.path + "/" + dir, config: [], rootfs: Self.rootfs)
      } catch {
        #expect(error.errno == errno, "\(dir)")
      }
    }
    #expect(tmp.entries("/full") == ["keep"])
  }

  @Test func anEntryBelowALinkFailsAndNothingIsLeft() throws {
    let tmp = try TemporaryDirectory()
    defer { tmp.remove() }
    let hostile = LayerContents([
      LayerEntry(path: "/out", kind: .symlink(target: tmp.path), mode: 0o777),
      LayerEntry(path: "/out/escaped", kind: .file(Array("x".utf8)), mode: 0o644),
    ])
    #expect(throws: KernelError.self) {
      try HostBundle.write(directory: tmp.path + "/bundle", config: [], rootfs: hostile)
    }
    #expect(tmp.entries() == [])
  }
}
