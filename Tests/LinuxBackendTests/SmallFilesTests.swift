import Foundation
import Glibc
import Testing

@testable import LinuxBackend

/// SmallFiles.read, the reader of ledgers, /proc and cgroup files and the image index, takes
/// only a regular file of bounded size, named without a symbolic link at its end: what a box or
/// another local user may leave where boxwalk reads must not hang it, fill its memory or lead it
/// elsewhere.
@Suite struct SmallFilesTests {
  @Test func aRegularFileIsRead() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try SafeFiles.replace(dir.path + "/ledger", with: Array("helper web 1 2\n".utf8), mode: 0o600, durable: false)
    #expect(try SmallFiles.readText(dir.path + "/ledger") == "helper web 1 2\n")
    // /proc files say size 0 and are read to their end; "self" is a link before the last name.
    #expect(try SmallFiles.readText("/proc/self/status").contains("Pid:"))
  }

  @Test func aSymbolicLinkAtTheEndIsNotFollowed() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try SafeFiles.replace(dir.path + "/real", with: Array("x".utf8), mode: 0o600, durable: false)
    #expect(symlink(dir.path + "/real", dir.path + "/ledger") == 0)
    #expect(throws: SystemCallError.self) { _ = try SmallFiles.read(dir.path + "/ledger") }
    do {
      _ = try SmallFiles.read(dir.path + "/ledger")
    } catch {
      #expect(error.errno == ELOOP)
    }
  }

  @Test func aDeviceIsRefused() throws {
    for path in ["/dev/null", "/dev/zero"] {
      do {
        let bytes = try SmallFiles.read(path)
        Issue.record("read \(bytes.count) bytes of \(path)")
      } catch {
        #expect(error.errno == EINVAL)
        #expect(error.call.contains("not a regular file"))
      }
    }
  }

  /// A FIFO with a writer that goes away after half a second: the old reader waited for it and
  /// returned its bytes; now it is refused at once, writer or not.
  @Test func aFIFOIsRefusedWithoutWaiting() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/ledger"
    #expect(mkfifo(path, 0o600) == 0)
    let writer = Thread {
      let fd = open(path, O_RDWR)
      _ = write(fd, "x", 1)
      Thread.sleep(forTimeInterval: 0.5)
      close(fd)
    }
    writer.start()
    let start = Date()
    do {
      let bytes = try SmallFiles.read(path)
      Issue.record("read \(bytes.count) bytes of a FIFO")
    } catch {
      #expect(error.errno == EINVAL)
    }
    #expect(Date().timeIntervalSince(start) < 0.4)
    Thread.sleep(forTimeInterval: 0.6)
  }

  @Test func anOversizedFileIsRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/ledger"
    let fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o600)
    #expect(fd >= 0)
    // Sparse: no disk is used, but it reads as SmallFiles.sizeLimit + 1 zero bytes.
    #expect(ftruncate(fd, off_t(SmallFiles.sizeLimit + 1)) == 0)
    close(fd)
    do {
      let bytes = try SmallFiles.read(path)
      Issue.record("read \(bytes.count) bytes")
    } catch {
      #expect(error.errno == EFBIG)
    }
  }
}
