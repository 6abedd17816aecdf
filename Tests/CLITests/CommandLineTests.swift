import Foundation
import HostSnapshotSupport
import Testing

/// The `boxwalk` executable as a user runs it: exit codes, piped sessions, bad input files
/// (README.md, "Command line"; docs/transcripts.md). These spawn the built binary next to the test
/// bundle.
@Suite(.serialized, .hostUnchanged) struct CommandLineTests {
  static let binDir: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var dir = (exe as NSString).deletingLastPathComponent
    // The test bundle may live in a subdirectory (.xctest) of the build directory.
    while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir + "/boxwalk") {
      dir = (dir as NSString).deletingLastPathComponent
    }
    return dir
  }()

  struct Run {
    var status: Int32
    var out: String
    var lines: [String] { out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
  }

  static func boxwalk(_ args: [String], input: String = "", env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binDir + "/boxwalk")
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    // A throwaway image store, so no test writes to /var/lib/boxwalk (docs/security.md, "Where
    // sessions live").
    let home = NSTemporaryDirectory() + "boxwalk-home-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: home) }
    environment["BOXWALK_HOME"] = home
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    return try run(p, input: input)
  }

  /// Starts `p` with `input` on its stdin (then closed), and waits for it: its exit status, and
  /// stdout and stderr together as one text.
  static func run(_ p: Process, input: String) throws -> Run {
    let stdin = Pipe()
    let stdout = Pipe()
    p.standardInput = stdin
    p.standardOutput = stdout
    p.standardError = stdout
    try p.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, out: String(decoding: data, as: UTF8.self))
  }

  static func temporaryFile(_ name: String, _ text: String) throws -> String {
    let dir = TestScratch.root + "/cli"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func pipedSessionEchoesCommandsAndExitsZero() throws {
    let r = try Self.boxwalk(["--backend", "sim"], input: "box new web\nunshare uts\nhostname lab\nhostname\n")
    #expect(r.status == 0)
    #expect(r.lines.first?.hasPrefix("backend: sim") == true)
    #expect(r.lines.contains("boxwalk> box new web"))
    #expect(r.lines.contains("boxwalk[web]> hostname lab"))
    #expect(r.lines.contains("lab"))
    #expect(!r.out.contains("\u{1B}"))
  }

  @Test func pipedSessionWithAFailingCommandExitsOne() throws {
    let r = try Self.boxwalk(["--backend", "sim"], input: "nosuch\nbox new web\n")
    #expect(r.status == 1)
    #expect(r.lines.contains("error: unknown command \"nosuch\""))
    #expect(r.lines.contains("boxwalk> box new web"), "the session goes on after an error")
  }

  @Test func quitEndsTheSession() throws {
    let r = try Self.boxwalk(["--backend", "sim"], input: "quit\nbox new web\n")
    #expect(r.status == 0)
    #expect(!r.out.contains("created box"))
  }

  @Test func badUsageExitsTwo() throws {
    #expect(try Self.boxwalk(["--backend", "bogus"]).status == 2)
    #expect(try Self.boxwalk(["--no-such-flag"]).status == 2)
    #expect(try Self.boxwalk(["test", "--backend", "nope", "x"]).status == 2)
  }

  /// BOXWALK_SIM_CGROUP picks the cgroup interface the simulator models; a value that names
  /// neither is a usage error at start, never a quiet fall back to the host's (docs/transcripts.md).
  @Test func aBadSimulatedCgroupChoiceIsAUsageError() throws {
    let r = try Self.boxwalk(["--backend", "sim"], input: "box ls\n", env: ["BOXWALK_SIM_CGROUP": "v3"])
    #expect(r.status == 2)
    #expect(r.lines.first == "error: BOXWALK_SIM_CGROUP must be v1 or v2, not \"v3\"", "\(r.out)")
    #expect(!r.out.contains("backend: "), "nothing started: \(r.out)")
    for good in ["v1", "v2", ""] {
      let ok = try Self.boxwalk(["--backend", "sim"], input: "box ls\n", env: ["BOXWALK_SIM_CGROUP": good])
      #expect(ok.status == 0, "BOXWALK_SIM_CGROUP=\(good): \(ok.out)")
      // The banner names the layout the simulator models, not the host's when the two differ.
      let layout = good.isEmpty ? "this host's cgroup " : "the cgroup \(good) layout BOXWALK_SIM_CGROUP names"
      #expect(ok.lines.first?.contains(layout) == true, "BOXWALK_SIM_CGROUP=\(good): \(ok.out)")
    }
  }

  /// A bundle trace cannot read says why in words, as every other unreadable file does, not as
  /// a dump of the error's fields (`Failure(path: ..., errno: 13, reason: nil)`).
  @Test func traceOfAMissingBundleSaysWhy() throws {
    let r = try Self.boxwalk(["trace", "crun", TestScratch.root + "/no-such-bundle", "--backend", "sim"])
    #expect(r.status == 2)
    #expect(r.out.hasPrefix("error: cannot read " + TestScratch.root + "/no-such-bundle/config.json: "), "\(r.out)")
    #expect(!r.out.contains("Failure("), "\(r.out)")
  }

  /// As root every backend runs on this machine; RootlessBackendTests checks this as nobody.
  @Test(.enabled(if: geteuid() != 0, "as root the real backend is available"))
  func anUnavailableBackendIsAnErrorNotAFallback() throws {
    let r = try Self.boxwalk(["--backend", "real"])
    #expect(r.status == 3)
    #expect(r.out.contains("error: the real backend needs root"))
    #expect(!r.out.contains("backend: "))
  }

  @Test func jsonModePrintsOneObjectPerLine() throws {
    let r = try Self.boxwalk(["--backend", "sim", "--json"], input: "box new web\nstate\n")
    let lines = r.lines.filter { !$0.isEmpty }
    #expect(lines.count == 3)
    for line in lines {
      #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
    }
    #expect(lines[0] == "{\"backend\":\"sim\"}")
  }

  @Test func stateJSONIsOneParsableObject() throws {
    let r = try Self.boxwalk(["--backend", "sim"], input: "box new web\nstate --json\n")
    let json = try #require(r.lines.first { $0.hasPrefix("{\"backend\"") })
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["backend"] as? String == "sim")
    let state = try #require(object["state"] as? [String: Any])
    #expect(Set(state.keys) == ["host", "web"])
    #expect((state["web"] as? [String: Any])?["host_pid"] is Int)
  }

  @Test func aTranscriptWithAnUnknownDirectiveIsABadInputFile() throws {
    let path = try Self.temporaryFile("bad-directive.transcript", "# heading\n\n#frobnicate now\n  boxwalk> box ls\n")
    let r = try Self.boxwalk(["test", path])
    #expect(r.status == 2)
    #expect(r.out.contains("\(path):3:2: unknown directive #frobnicate"))
  }

  @Test func aTranscriptWithAnUnbalancedIfIsABadInputFile() throws {
    let path = try Self.temporaryFile("unbalanced.transcript", "#if root\n  boxwalk> box ls\n")
    let r = try Self.boxwalk(["test", path])
    #expect(r.status == 2)
    #expect(r.out.contains("\(path):1:1"))
  }

  @Test func aFailingTranscriptShowsTheStepAndADiffAndExitsOne() throws {
    let path = try Self.temporaryFile("fails.transcript", "  boxwalk> box new web\n  created box db: nope\n")
    let r = try Self.boxwalk(["test", path])
    #expect(r.status == 1)
    #expect(r.out.contains("\(path):1"))
    #expect(r.out.contains("--- expected"))
    #expect(r.out.contains("-  created box db: nope"))
    #expect(r.lines.last { !$0.isEmpty } == "0 passed, 1 failed, 0 skipped")
  }

  @Test func updateRewritesFromTheSimulatorButStillFails() throws {
    let path = try Self.temporaryFile("update.transcript", "# update me\n  boxwalk> box new web\n  stale\n")
    let r = try Self.boxwalk(["test", "--update", path])
    #expect(r.status == 1)
    let rewritten = try String(contentsOfFile: path, encoding: .utf8)
    #expect(rewritten.hasPrefix("# update me\n  boxwalk> box new web\n  created box web"))
    #expect(try Self.boxwalk(["test", path]).status == 0)
  }

  @Test func doctorAndCleanupRun() throws {
    let d = try Self.boxwalk(["doctor"])
    #expect(d.status == 0)
    #expect(d.out.contains("overlayfs"))
    if geteuid() == 0 {
      #expect(try Self.boxwalk(["cleanup"]).status == 0)
      #expect(try Self.boxwalk(["cleanup"]).status == 0)
    }
  }

  /// `boxwalk | head -1`: the reader goes away; the REPL must tear down, not die of SIGPIPE
  /// and leave its session directory behind.
  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func aClosedOutputPipeStillTearsDown() throws {
    let before = (try? FileManager.default.contentsOfDirectory(atPath: "/run/boxwalk")) ?? []
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [
      "-c",
      "yes 'box ls' | head -2000 | (echo 'box new web'; cat) | \"\(Self.binDir)/boxwalk\" --backend real | head -1",
    ]
    p.environment = ProcessInfo.processInfo.environment.merging([
      "BOXWALK_HOME": NSTemporaryDirectory() + "boxwalk-home-unused"
    ]) { $1 }
    p.standardOutput = Pipe()
    try p.run()
    p.waitUntilExit()
    usleep(300_000)
    let after = (try? FileManager.default.contentsOfDirectory(atPath: "/run/boxwalk")) ?? []
    // Other tests may run a live session meanwhile: only a directory whose owner is gone is a leak.
    let leaked = Set(after).subtracting(before).filter { name in
      !FileManager.default.fileExists(atPath: "/proc/" + (name.split(separator: "-").first.map(String.init) ?? name))
    }
    #expect(leaked.isEmpty)
  }

  /// The promise that makes transcripts work: the same session prints the same text on both
  /// kernels, apart from the backend line.
  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func simAndRealPrintTheSameText() throws {
    let session = """
      box new web
      hostname x
      unshare uts
      hostname lab
      box new db
      join uts web
      unshare pid,ipc,mnt,net,cgroup,time
      unshare pid
      unshare user
      hostname y
      join uts web
      ns
      box ls
      box rm web
      state

      """
    let sim = try Self.boxwalk(["--backend", "sim"], input: session)
    let real = try Self.boxwalk(["--backend", "real"], input: session)
    #expect(sim.status == real.status)
    // Everything after the backend line. (Before it, a real start reports other sessions under
    // /run/boxwalk, which other tests may be running at the same moment.)
    func afterBanner(_ lines: [String]) -> [String] { Array(lines.drop { !$0.hasPrefix("backend: ") }.dropFirst()) }
    #expect(afterBanner(sim.lines) == afterBanner(real.lines))
    #expect(!afterBanner(real.lines).isEmpty)
  }
}
