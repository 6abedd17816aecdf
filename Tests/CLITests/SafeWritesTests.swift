import Foundation
import Glibc
import Testing

@testable import CLI
@testable import LinuxBackend

/// Every file boxwalk writes as root goes through a new temporary file and rename(2): a link
/// someone planted at the temporary name or at the file itself is never followed.
@Suite(.serialized) struct SafeWritesTests {
  func scratch() throws -> String {
    let dir = TestScratch.root + "/safe-writes-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  /// `record FILE`, progress and `test --update` write with Files.write. Seen failing before the
  /// fix: FILE.tmp was opened with O_TRUNC and no O_NOFOLLOW, so the victim was overwritten.
  @Test func aLinkAtTheTemporaryNameIsNotFollowed() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "precious\n".write(toFile: dir + "/victim", atomically: false, encoding: .utf8)
    #expect(symlink(dir + "/victim", dir + "/session.transcript.tmp") == 0)
    try Files.write(dir + "/session.transcript", "  boxwalk> box ls\n")
    #expect(try String(contentsOfFile: dir + "/victim", encoding: .utf8) == "precious\n")
    #expect(try String(contentsOfFile: dir + "/session.transcript", encoding: .utf8) == "  boxwalk> box ls\n")
  }

  /// A link at FILE itself is replaced, not written through.
  @Test func aLinkAtTheFileIsReplacedNotFollowed() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "precious\n".write(toFile: dir + "/victim", atomically: false, encoding: .utf8)
    #expect(symlink(dir + "/victim", dir + "/history") == 0)
    try Files.write(dir + "/history", "box ls\n")
    #expect(try String(contentsOfFile: dir + "/victim", encoding: .utf8) == "precious\n")
    var st = stat()
    #expect(lstat(dir + "/history", &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
  }

  /// The temporary names SafeFiles picks: links planted at the next ones are skipped, never
  /// opened, and nothing is left beside the file.
  @Test func plantedTemporaryNamesAreSkipped() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "precious\n".write(toFile: dir + "/victim", atomically: false, encoding: .utf8)
    let probe = try SafeFiles.createTemporary(beside: dir + "/probe", mode: 0o600)
    close(probe.fd)
    unlink(probe.path)
    let n = try #require(Int(probe.path.split(separator: "-").last ?? ""))
    for next in n + 1...n + 5 {
      #expect(symlink(dir + "/victim", dir + "/ledger.tmp-\(getpid())-\(next)") == 0)
    }
    try SafeFiles.replace(dir + "/ledger", with: Array("new\n".utf8), mode: 0o600, durable: true)
    #expect(try String(contentsOfFile: dir + "/victim", encoding: .utf8) == "precious\n")
    #expect(try String(contentsOfFile: dir + "/ledger", encoding: .utf8) == "new\n")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix("ledger.tmp-") }.sorted() == [
        "ledger", "victim",
      ])
  }
}
