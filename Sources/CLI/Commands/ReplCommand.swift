import ArgumentParser
import Glibc
import Kernel
import Lab
import LinuxBackend

extension Backend: ExpressibleByArgument {}

/// `boxwalk [--backend sim|real|rootless] [--json]`: the REPL.
struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "The step-through REPL (the default command).")

  @Option(help: "sim, real or rootless (default: real as root, else sim).")
  var backend: Backend?

  @Flag(help: "Print one JSON object per command instead of text.")
  var json = false

  func run() throws {
    throw ExitError(Self.start(backend: backend, json: json), [])
  }

  static func start(backend requested: Backend?, json: Bool) -> Int32 {
    let terminal = Terminal.detect()
    let backend = requested ?? BackendChoice.automatic()
    // SIGTERM and SIGHUP tear down (kill every helper, remove the ledger) and exit 143 or 129.
    _ = FatalSignalTeardown.install()
    // A closed output pipe (`boxwalk | head`) must end the session through teardown, not kill
    // it with SIGPIPE and leave its ledger behind: ignore the signal and watch for EPIPE.
    signal(SIGPIPE, SIG_IGN)
    if backend == .real, !json {
      // A session that crashed left its ledger behind: clean up after it and say so (SPEC §1).
      // Only what it cleaned: a live session beside this one is none of the learner's business.
      let cleaned = LedgerCleanup.run(reportLive: false)
      if !cleaned.isEmpty { terminal.write(["cleaned up after a crashed session:"] + cleaned.map { "  " + $0 }) }
    }
    let kernel: any Kernel
    do {
      kernel = try BackendChoice.make(backend)
    } catch {
      Terminal(colour: false).write(error.lines)
      return error.status
    }
    let session: Session
    do {
      session = try Session(kernel: kernel, json: json)
    } catch {
      kernel.teardown()
      terminal.write(["error: could not read the kernel state: \(error)"])
      return ExitStatus.precondition
    }
    defer { session.close() }
    let interactive = isatty(STDIN_FILENO) == 1
    if json {
      terminal.write(["{\"backend\":\"\(backend.rawValue)\"}"])
    } else {
      terminal.write([BackendChoice.describe(backend)])
      if interactive { terminal.write(["type help for commands, quit or Ctrl-D to leave"]) }
    }
    let reader: any LineReader =
      interactive
      ? ReadlineLineReader(historyFile: Paths.historyFile) { [session] line, word in
        session.completions(before: line, word: word)
      }
      : PlainLineReader()
    return ReplLoop(session: session, reader: reader, terminal: terminal).run()
  }
}
