import Foundation
import HostSnapshotSupport
import Testing

/// Whatever a box creates in its root filesystem, every later state read survives it: a FIFO, a
/// device node, a name that is not UTF-8, directories nested deeper than the listing follows.
/// Before, each of them made every later step fail with "could not read the kernel state" (a
/// `write` wrote its file and still reported an error), `ls /` hid the non-UTF-8 name, and
/// `cat` of a FIFO waited forever for a writer.
@Suite(.serialized, .hostUnchanged, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct BoxMadeFilesTests {
  /// `boxwalk --backend BACKEND` on `lines`, under timeout(1): a hang is a failure, not a stuck test.
  func session(_ backend: String, _ lines: [String]) throws -> [String] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    p.arguments = ["60", CommandLineTests.binDir + "/boxwalk", "--backend", backend]
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    let home = TestScratch.path("home")
    environment["BOXWALK_HOME"] = home
    p.environment = environment
    defer { try? FileManager.default.removeItem(atPath: home) }
    let r = try CommandLineTests.run(p, input: lines.joined(separator: "\n") + "\n")
    #expect(r.status != 124, "timed out: \(r.out)")
    return Array(r.lines.dropFirst())
  }

  static let boxed = ["box new web", "unshare mnt,pid,ipc", "overlay busybox", "pivot-root", "run -d sleep 1000"]

  @Test func aFIFOADeviceAnOddNameAndDeepDirectoriesLeaveTheStateReadable() throws {
    let out = try session(
      "real",
      Self.boxed + [
        "run busybox mkfifo /fifo", "run busybox mknod /null c 1 3",
        "run sh -c 'busybox touch \"$(printf \"/a\\377b\")\"'",
        "run sh -c 'cd /tmp; i=0; while [ $i -lt 130 ]; do busybox mkdir d && cd d; i=$((i+1)); done'",
        "write /after x", "ls /", "cat /fifo", "write /fifo x", "cat /null", "cat '/a\\xffb'", "rm '/a\\xffb'",
        "show web.fs.upper",
      ])
    #expect(!out.contains { $0.hasPrefix("error: could not read the kernel state") }, "\(out)")
    #expect(out.contains("wrote /after in web: a new file in the upper layer"), "\(out)")
    #expect(out.contains("  fs.upper[\"/fifo\"]  -     \"fifo\" (new)"), "\(out)")
    #expect(out.contains("  fs.upper[\"/null\"]  -     \"char device\" (new)"), "\(out)")
    #expect(out.contains("  fs.upper[\"/a\\\\xffb\"]  -     \"file\" (new)"), "\(out)")
    // ls shows every entry, the odd name escaped, the FIFO and the device by kind.
    #expect(out.contains("a\\xffb"), "\(out)")
    #expect(out.contains("fifo  (fifo)"), "\(out)")
    #expect(out.contains("null  (char device)"), "\(out)")
    // Reading or writing a FIFO or a device is refused at once; the odd name can be addressed.
    #expect(
      out.filter { $0 == "  detail:  it is a fifo: boxwalk reads and writes regular files only" }.count == 2, "\(out)")
    #expect(out.contains("  detail:  it is a char device: boxwalk reads and writes regular files only"), "\(out)")
    #expect(out.contains("removed /a\\xffb from web: it was only in the upper layer"), "\(out)")
    let deepest = "/tmp" + String(repeating: "/d", count: 127)
    #expect(
      out.contains("  [\"\(deepest)\"] = \"dir, not read below: deeper than 128 levels\""),
      "\(out.filter { $0.contains("not read") })")
  }

  /// What the file commands can make themselves (an escaped name, deep directories) reads the
  /// same on the simulator as on the kernel.
  @Test func simAndRealShowOddNamesAndDeepTreesAlike() throws {
    let deep = String(repeating: "/d", count: 130) + "/f"
    let lines =
      Self.boxed + [
        "write '/a\\xffb' x", "write '/c\\\\d' x", "ls /", "cat '/a\\xffb'", "write \(deep) x", "show web.fs.upper",
        "rm /d", "write '/\\x2e\\x2e/x' y", "write '/e\\x00' y",
      ]
    let sim = try session("sim", lines)
    let real = try session("real", lines)
    #expect(sim == real)
    #expect(real.contains("a\\xffb"), "\(real)")
    #expect(real.contains("c\\d"), "\(real)")
  }
}
