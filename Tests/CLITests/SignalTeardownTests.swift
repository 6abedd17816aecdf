import Foundation
import Glibc
import HostSnapshotSupport
import Testing

/// A REPL told to die tears down first. SIGTERM (a shutdown, `kill`)
/// and SIGHUP (the terminal went away) reach FatalSignalTeardown, which SIGKILLs and reaps every
/// helper and removes the session's ledger with async-signal-safe calls only (signal-safety(7)),
/// then exits 128 + the signal number, as a shell reports a death by that signal.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"))
struct SignalTeardownTests {
  /// A session with every kind of object today's boxwalk makes: three boxes, every namespace kind,
  /// a hostname, joins (CrashRecoveryTests.stages, all of them).
  func startFullSession() throws -> (SafetyRepl, [(pid: String, start: String)]) {
    let repl = try SafetyRepl.start(["--backend", "real"])
    let printed = try repl.run(CrashRecoveryTests.commands(through: CrashRecoveryTests.stages.count))
    #expect(!printed.contains { $0.hasPrefix("error:") }, "\(repl.output)")
    let helpers = repl.helpers()
    #expect(helpers.count == 3)
    return (repl, helpers)
  }

  @Test(arguments: [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
  func aFatalSignalTearsDownAndExits128PlusTheSignal(signal: Int32, status: Int32) async throws {
    try await withHostUnchanged { _ in
      let (repl, helpers) = try startFullSession()
      repl.signal(signal)
      #expect(repl.wait() == .exited(status))
      // The handler reaped its helpers itself, and removed the ledger: nothing is left for a
      // cleanup to do, and none is run here. withHostUnchanged compares the whole host.
      #expect(SafetyRepl.allGone(helpers))
      #expect(!HostSnapshot.take().section("state").contains { $0.hasPrefix("\(repl.pid)-") })
    }
  }

  /// End of input (Ctrl-D, or the end of a piped script) is the ordinary way out: exit 0.
  @Test func endOfInputTearsDownAndExitsZero() async throws {
    try await withHostUnchanged { _ in
      let (repl, helpers) = try startFullSession()
      repl.closeInput()
      #expect(repl.wait() == .exited(0))
      #expect(SafetyRepl.allGone(helpers))
      #expect(!HostSnapshot.take().section("state").contains { $0.hasPrefix("\(repl.pid)-") })
    }
  }

  /// SIGINT to a piped (non-terminal) REPL. At a terminal Ctrl-C only clears the line (readline's
  /// handler), but a piped REPL has no line to clear: Ctrl-C in `./lesson.sh | boxwalk` goes to the
  /// whole foreground process group, and the user means "stop". So it should end the session like
  /// SIGTERM does: tear down, then exit 130 (128 + SIGINT), what a shell shows for an interrupted
  /// program. With no terminal there is no line to clear, so SIGINT tears down like SIGTERM
  /// (FatalSignalTeardown.installForInterrupt) and exits 130.
  @Test func sigintToAPipedREPLTearsDown() async throws {
    try await withHostUnchanged { _ in
      let (repl, helpers) = try startFullSession()
      repl.signal(SIGINT)
      let ending = repl.wait()
      #expect(ending == .exited(130), "\(ending)")
      #expect(SafetyRepl.allGone(helpers))
      #expect(!HostSnapshot.take().section("state").contains { $0.hasPrefix("\(repl.pid)-") })
      // Leave the host as found either way: the ledger makes this safe.
      #expect(try CommandLineTests.boxwalk(["cleanup"]).status == 0)
    }
  }
}
