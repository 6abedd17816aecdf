import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// The REPL, `lesson`, `record` and `replay` as clients of a daemon: each prints byte for byte
/// what it prints with the lab in its own process.
@Suite(.serialized, .hostUnchanged) struct DaemonClientTests {
  /// `boxwalk ARGS` from the repository's root with `input` on standard input (a pipe, so the
  /// REPL echoes each command after its prompt): its status and everything it printed.
  static func boxwalk(_ args: [String], input: String, env: [String: String]) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: DaemonProcess.binDir + "/boxwalk")
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: DaemonTranscriptTests.repo)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment["LANG"] = "C.UTF-8"
    environment["COLUMNS"] = "80"
    environment.removeValue(forKey: "BOXWALK_HOST")
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe()
    let inPipe = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = inPipe
    try p.run()
    inPipe.fileHandleForWriting.write(Data(input.utf8))
    try inPipe.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// The commands of a transcript (`  boxwalk> CMD` and `  boxwalk[web]> CMD`), one per line.
  static func commands(of transcript: String) throws -> String {
    let text = try String(contentsOfFile: DaemonTranscriptTests.repo + "/" + transcript, encoding: .utf8)
    var out = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix("  boxwalk") {
      guard let end = line.range(of: "> ") else { continue }
      out += line[end.upperBound...] + "\n"
    }
    return out
  }

  /// Runs `args` with `input` in-process and through a fresh daemon, each with a home of its own,
  /// and expects the same status and the same bytes; then that the daemon holds no session.
  static func expectSame(_ args: [String], input: String, files: [String] = []) throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    // A home of its own includes lesson progress and history (XDG_STATE_HOME): with the user's
    // own, a lesson the user left at step 2 resumes there in one run and not in the other.
    let here = try boxwalk(
      args, input: input,
      env: ["BOXWALK_HOME": daemon.directory + "/home-here", "XDG_STATE_HOME": daemon.directory + "/state-here"])
    let there = try boxwalk(
      args, input: input,
      env: [
        "BOXWALK_HOME": daemon.directory + "/home-there", "XDG_STATE_HOME": daemon.directory + "/state-there",
        "BOXWALK_HOST": "unix://" + daemon.socket,
      ])
    #expect(there.status == here.status, "in-process \(here.status), through the daemon \(there.status)")
    #expect(there.out == here.out, "through the daemon:\n\(there.out)\nin-process:\n\(here.out)")
    #expect(daemon.log.contains("POST /v1/sessions/"), "the lines did not go through the daemon: \(daemon.log)")
    #expect(try daemon.curl("GET", "/v1/sessions").body == #"{"sessions":[]}"#, "a session was left behind")
  }

  @Test(arguments: ["sim", "real"])
  func theREPLPrintsTheSameThroughTheDaemon(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      try Self.expectSame(
        ["--backend", backend], input: try Self.commands(of: "transcripts/01-uts.transcript") + "draw ns\nquit\n")
    }
  }

  @Test func theREPLInJSONModePrintsTheSameThroughTheDaemon() throws {
    try Self.expectSame(
      ["--backend", "sim", "--json"],
      input: "box new web\nunshare uts\nhostname lab-box\nhostname bad/name\nstate --json\nquit\n")
  }

  /// A lesson: its steps, solutions, a failing check, `back` (which rebuilds the lab in a new
  /// daemon session and replays the steps) and the progress saved on the client's side.
  @Test func aLessonRunsTheSameThroughTheDaemon() throws {
    let walk = String(repeating: "next\nsolution\n", count: 8) + "check\nback\nhint\nnext\nlessons\nquit\n"
    try Self.expectSame(["lesson", "uts", "--backend", "sim"], input: walk)
  }

  @Test(arguments: ["sim", "real"])
  func replayPrintsTheSameThroughTheDaemon(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      try Self.expectSame(["replay", "transcripts/01-uts.transcript", "--pace", "0", "--backend", backend], input: "")
    }
  }

  /// `record` through the daemon writes the very file it writes in-process.
  @Test func recordWritesTheSameTranscriptThroughTheDaemon() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let input = try Self.commands(of: "transcripts/01-uts.transcript") + "quit\n"
    let here = daemon.directory + "/here.transcript"
    let there = daemon.directory + "/there.transcript"
    let a = try Self.boxwalk(
      ["record", here, "--backend", "sim"], input: input, env: ["BOXWALK_HOME": daemon.directory + "/h1"])
    let b = try Self.boxwalk(
      ["record", there, "--backend", "sim"], input: input,
      env: ["BOXWALK_HOME": daemon.directory + "/h2", "BOXWALK_HOST": "unix://" + daemon.socket])
    #expect(a.status == b.status)
    let recordedHere = try String(contentsOfFile: here, encoding: .utf8)
    let recordedThere = try String(contentsOfFile: there, encoding: .utf8)
    #expect(!recordedHere.isEmpty)
    // The header names the file it was written to: the only difference allowed.
    #expect(recordedThere.replacingOccurrences(of: there, with: here) == recordedHere)
    #expect(b.out.replacingOccurrences(of: there, with: here) == a.out)
  }

  /// `wire on` shows, under each step, the request that carried it and the daemon's answer.
  @Test func wireOnShowsEachRequestAndResponse() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    let run = try Self.boxwalk(
      ["--backend", "sim"], input: "box new web\nwire on\nhostname\nwire off\nhostname\nwire sideways\nquit\n",
      env: ["BOXWALK_HOME": daemon.directory + "/home", "BOXWALK_HOST": "unix://" + daemon.socket])
    let lines = run.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let on = lines.firstIndex(where: { $0.hasSuffix("> wire on") }),
      let off = lines.firstIndex(where: { $0.hasSuffix("> wire off") })
    else {
      Issue.record("no wire on/off in:\n\(run.out)")
      return
    }
    let during = lines[on..<off].filter { $0.hasPrefix("  wire  ") }
    #expect(during.count == 3, "\(run.out)")
    #expect(during.first?.hasPrefix("  wire  > POST /v1/sessions/") == true)
    #expect(during.first?.hasSuffix("/commands HTTP/1.1") == true)
    #expect(during.contains(#"  wire  > Content-Type: application/json, 19 bytes: {"line":"hostname"}"#), "\(during)")
    #expect(during.last?.hasPrefix("  wire  < HTTP/1.1 200 OK, ") == true)
    #expect(!lines[off...].contains { $0.hasPrefix("  wire  ") }, "\(run.out)")
    #expect(run.out.contains("error: wire takes on or off"))
    #expect(run.status == 1)
  }

  /// `explain` through a daemon says which side did what, under what the session explains; that
  /// account is the only difference from the in-process output, and the kernel line names the
  /// backend's way (simulated in the daemon, or the daemon's own system calls).
  @Test(arguments: ["sim", "real"])
  func explainSaysWhichSideDidWhat(backend: String) async throws {
    if backend == "real" && geteuid() != 0 { return }
    try await withHostUnchanged { _ in
      let daemon = try DaemonProcess.start()
      defer { daemon.removeDirectory() }
      defer { _ = daemon.stop() }
      let input = "explain\nbox new web\nunshare uts\nexplain\nbogus\nexplain\nquit\n"
      let args = ["--backend", backend]
      let here = try Self.boxwalk(args, input: input, env: ["BOXWALK_HOME": daemon.directory + "/home-here"])
      let there = try Self.boxwalk(
        args, input: input,
        env: ["BOXWALK_HOME": daemon.directory + "/home-there", "BOXWALK_HOST": "unix://" + daemon.socket])
      let lines = there.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let starts = lines.indices.filter {
        lines[$0].hasPrefix("  who did what: this REPL is a client; the daemon at unix://")
      }
      // Twice: after each explain that had a step to describe (not the one before any step).
      #expect(starts.count == 2, "\(there.out)")
      guard let first = starts.first else { return }
      let account = Array(lines[first..<first + 5])
      #expect(account[1].hasPrefix("    client   sent `unshare uts` as POST /v1/sessions/"), "\(account)")
      #expect(account[2].hasPrefix("    daemon   ran the step in session "), "\(account)")
      #expect(
        account[3].hasPrefix(
          backend == "sim"
            ? "    kernel   the system calls above were simulated"
            : "    kernel   the system calls above were made by the daemon"),
        "\(account)")
      #expect(account[4].hasPrefix("    client   made no system call for the step"), "\(account)")
      var without = lines
      for start in starts.reversed() { without.removeSubrange(start..<start + 5) }
      #expect(
        without.joined(separator: "\n") == here.out, "through the daemon:\n\(there.out)\nin-process:\n\(here.out)")
    }
  }

  /// A lesson's check reads the lab as it is now, whoever changed it: a box another client (curl)
  /// made in the session passes the check the learner types next (lesson 17's curl step).
  @Test func aCheckSeesWhatAnotherClientDidInTheSession() throws {
    let daemon = try DaemonProcess.start()
    defer { daemon.removeDirectory() }
    defer { _ = daemon.stop() }
    typealias Client = DaemonClientSignalTests.Client
    let client = try Client(["lesson", "client-daemon", "--backend", "sim"], daemon: daemon, name: "lesson")
    defer { _ = client.stop(SIGTERM) }
    for line in ["next", "next", "unshare uts", "hostname lab-box", "next", "check"] { client.send(line) }
    try DaemonClientSignalTests.waitFor("the curl step's first check") { client.output.contains("check: 1 of 2 pass") }
    let id = try #require(try DaemonClientSignalTests.sessionIDs(daemon).first)
    let made = try daemon.curl("POST", "/v1/sessions/\(id)/commands", body: #"{"line":"box new db"}"#)
    #expect(made.status == 200, "\(made)")
    client.send("check")
    try DaemonClientSignalTests.waitFor("the check after curl") { client.output.contains("check: both pass") }
  }
}
