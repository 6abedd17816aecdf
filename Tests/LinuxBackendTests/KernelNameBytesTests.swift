import Foundation
import Glibc
import Testing

@testable import LinuxBackend

/// Names the kernel keeps as bytes (a process's comm and argv, a hostname) are shown escaped, the
/// way file names are, never decoded lossily: `a\xffb` and `a\xfeb` must not both show as `a�b`.
/// Seen failing before the fix: each showed U+FFFD in place of the byte.
@Suite struct KernelNameBytesTests {
  @Test func aCommThatIsNotUTF8IsShownEscaped() throws {
    var line = Array("4321 (a".utf8) + [0xFF] + Array("b\tc) S 1 4321 4321 0 -1 4194560".utf8)
    line += Array(" 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0".utf8)
    let identity = try #require(ProcessIdentity(statBytes: line))
    #expect(identity.comm == "a\\xffb\\x09c")
    #expect(identity.startTime == 777)
  }

  @Test func aBoxProgramsArgumentsThatAreNotUTF8AreShownEscaped() throws {
    let root = NSTemporaryDirectory() + "boxwalk-fakeproc-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root + "/100/task/100", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/101", withIntermediateDirectories: true)
    try "101\n".write(toFile: root + "/100/task/100/children", atomically: false, encoding: .utf8)
    try "Name:\tsh\nState:\tS (sleeping)\nPPid:\t100\nNSpid:\t101\t1\n".write(
      toFile: root + "/101/status", atomically: false, encoding: .utf8)
    let argv: [UInt8] = Array("sleep".utf8) + [0] + Array("9".utf8) + [0xFE, 0] + [0x61, 0x1B, 0x5B, 0x32, 0x4A, 0]
    try Data(argv).write(to: URL(fileURLWithPath: root + "/101/cmdline"))
    let processes = ProcFS(root: root).descendants(of: 100)
    #expect(processes.map(\.command) == ["sleep 9\\xfe a\\x1b[2J"])
    #expect(processes.map(\.pid) == [1])
  }

  @Test func aHostnameThatIsNotUTF8IsShownEscaped() {
    #expect(KernelName.shown(Array("lab".utf8) + [0xC3]) == "lab\\xc3")
    #expect(KernelName.shown(Array("lab-box".utf8)) == "lab-box")
  }
}
