import Glibc
import Kernel
import Lab

/// Plays a transcript as a classroom demo (lessons/README.md, "A lesson as a demo"): narrative
/// lines become captions, each command is typed at a human pace and run live, and the real output
/// is shown. Output that differs from the file is marked and the demo goes on: a demo never fails.
/// The plan (what comes when) is `DemoPlan`'s; this does the terminal side.
///
/// Keys at a pause (docs/demos.md): Enter runs the command, s skips it, q quits, and l opens a
/// live prompt on the lab as the demo left it; `resume` there goes back to the demo where it was.
struct DemoPlayer {
  let path: String
  let plan: DemoPlan
  let session: any LabSession
  let terminal: any DemoScreen
  let keys: any DemoKeys
  /// Where the live prompt reads its lines.
  let lines: any LineReader
  /// Seconds per typed character; 0 types instantly and skips `#sleep`.
  let pace: Double
  /// Wait for a key before running each command.
  let pauseBeforeCommands: Bool

  struct Summary {
    var run = 0
    var skipped = 0
    var differed = 0
    var quitAt: Int?
  }

  /// What the keys at a `#pause` do (KeyReader.wait): the caption names each, `l` included, so
  /// a presenter finds the live prompt without reading the help.
  static let pauseKeys = "Enter continues, l opens a live prompt at this state (resume comes back), q quits"
  /// The same, said once at the start of a demo that waits before every command (`--pause`).
  static let commandKeys =
    "before each command: Enter runs it, s skips showing it, l opens a live prompt at that state (resume comes back), q quits"

  /// Plays the demo's events in order: captions, pauses, sleeps and commands. Stops early when
  /// the presenter quits or interrupts (SIGINT), or when the terminal is gone.
  func play() -> Summary {
    keys.hold()
    defer { keys.release() }
    var summary = Summary()
    let checker = DemoChecker()
    // A blank line between a command's output and the captions after it, as between paragraphs.
    var afterOutput = false
    if pauseBeforeCommands && keys.enabled { terminal.writeRaw(dim("-- " + Self.commandKeys + " --") + "\n") }
    for event in plan.events {
      if replayInterrupted != 0 {
        summary.quitAt = summary.quitAt ?? 0
        break
      }
      switch event {
      case .caption(let text):
        terminal.writeRaw((afterOutput ? "\n" : "") + dim(escapedForTerminal(text)) + "\n")
        afterOutput = false
      case .pause(let caption):
        guard keys.enabled else {
          if !caption.isEmpty { terminal.writeRaw(dim(escapedForTerminal(caption)) + "\n") }
          continue
        }
        let label = caption.isEmpty ? "paused" : escapedForTerminal(caption)
        terminal.writeRaw(dim("-- " + label + " (" + Self.pauseKeys + ") --"))
        let key = keys.wait()
        terminal.writeRaw("\n")
        if key == .quit || (key == .live && !goLive()) {
          summary.quitAt = 0
          return summary
        }
      case .sleep(let duration):
        if pace > 0 { sleep(duration) }
      case .command(let number, let step, let quiet):
        if quiet {
          if !runQuietly(step, checker, &summary) {
            terminal.write([
              mark("! command \(number) (\(path):\(step.line)), run quietly before --from, differs from the file")
            ])
          }
          continue
        }
        guard playCommand(number, step, checker, &summary, afterOutput: &afterOutput) else { return summary }
      }
    }
    return summary
  }

  /// One command shown: typed at the prompt, then (with --pause) a key decides whether it runs,
  /// is skipped, or waits for a live prompt; then run live, its output compared with the file.
  /// False when the demo ends here (the presenter quit, or the terminal is gone).
  func playCommand(
    _ number: Int, _ step: TranscriptStep, _ checker: DemoChecker, _ summary: inout Summary,
    afterOutput: inout Bool
  ) -> Bool {
    guard let skipped = show(number, step, &summary) else { return false }
    if skipped {
      // Skipping hides a command, it does not take it out of the demo: the later commands
      // were written for the state it makes, so it runs quietly, as commands before --from do,
      // and everything after it prints as it would have.
      terminal.writeRaw(dim("    (skipped)") + "\n")
      summary.skipped += 1
      if !runQuietly(step, checker, &summary) {
        terminal.write([mark("! command \(number) (\(path):\(step.line)), skipped, differs from the file")])
      }
      return true
    }
    terminal.writeRaw("\n")
    let prompt = session.prompt
    let printed = session.execute(step.command)
    summary.run += 1
    afterOutput = true
    guard terminal.write(printed) else { return false }
    if let diff = checker.divergence(step, prompt: prompt, printed: printed) {
      summary.differed += 1
      terminal.write([mark("! differs from the file at \(path):\(step.line)")] + diff.map { "  " + $0 })
    }
    return true
  }

  /// The command typed at the prompt and, with --pause, the presenter's key: whether it was
  /// skipped, or nil when the demo ends (q, or an interrupt while typing; `summary.quitAt` says
  /// where). After a live prompt the command is shown again, with the prompt of the state the
  /// presenter left.
  func show(_ number: Int, _ step: TranscriptStep, _ summary: inout Summary) -> Bool? {
    while true {
      terminal.writeRaw(session.prompt)
      type(step.command)
      if replayInterrupted != 0 {
        terminal.writeRaw("\n")
        summary.quitAt = number
        return nil
      }
      guard pauseBeforeCommands else { return false }
      switch keys.wait() {
      case .go: return false
      case .skip: return true
      case .live:
        terminal.writeRaw("\n")
        if goLive() { continue }
        summary.quitAt = number
        return nil
      case .quit:
        terminal.writeRaw("\n")
        summary.quitAt = number
        return nil
      }
    }
  }

  /// Runs a command without showing it, and compares it with the file as a shown one is (its
  /// captures count for later commands). False when it differed (counted in the summary).
  func runQuietly(_ step: TranscriptStep, _ checker: DemoChecker, _ summary: inout Summary) -> Bool {
    let prompt = session.prompt
    let printed = session.execute(step.command)
    summary.run += 1
    guard checker.divergence(step, prompt: prompt, printed: printed) != nil else { return true }
    summary.differed += 1
    return false
  }

  /// The live prompt: the presenter types commands on the lab as the demo left it (each runs and
  /// prints as in the REPL, and is not compared with the file); `resume` returns to the demo, and
  /// `quit`, `exit` or the end of input ends it. The terminal goes back to its usual mode meanwhile,
  /// so the line editor works. True to resume.
  func goLive() -> Bool {
    keys.release()
    defer { keys.hold() }
    terminal.write([dim("-- live: the lab as the demo left it; resume goes back to the demo, quit ends it --")])
    while let line = lines.readLine(prompt: session.prompt) {
      if !lines.isInteractive { terminal.writeRaw(session.prompt + escapedForTerminal(line) + "\n") }
      let words = (try? WordSplitter.split(line)) ?? [line]
      switch words.first {
      case nil: continue
      case "resume" where words.count == 1:
        terminal.write([dim("-- back to the demo --")])
        return true
      case "quit" where words.count == 1, "exit" where words.count == 1: return false
      default:
        lines.remember(line)
        guard terminal.write(session.execute(line)) else { return false }
      }
    }
    return false
  }

  /// Types text one character at a time, flushing each, `pace` seconds apart.
  func type(_ text: String) {
    guard pace > 0 else {
      terminal.writeRaw(escapedForTerminal(text))
      return
    }
    for c in escapedForTerminal(text) {
      if replayInterrupted != 0 { return }
      terminal.writeRaw(String(c))
      usleep(useconds_t(min(pace, 5) * 1_000_000))
    }
  }

  func sleep(_ d: Duration) {
    let (seconds, attoseconds) = d.components
    var left = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var rest = timespec()
    // nanosleep(2) stops early on a signal and says how long was left.
    while nanosleep(&left, &rest) != 0, errno == EINTR, replayInterrupted == 0 { left = rest }
  }

  func dim(_ s: String) -> String { terminal.colour && !s.isEmpty ? "\u{1B}[2m" + s + "\u{1B}[0m" : s }
  func mark(_ s: String) -> String { terminal.colour ? "\u{1B}[1;33m" + s + "\u{1B}[0m" : s }
}

/// Where a demo writes: the terminal, or a recorder in tests.
protocol DemoScreen {
  var colour: Bool { get }
  func writeRaw(_ text: String)
  @discardableResult func write(_ lines: [String]) -> Bool
}

extension Terminal: DemoScreen {}

/// The live prompt's lines on a terminal: the prompt, then one line as the terminal driver edits
/// it (canonical mode: Backspace and Ctrl-U work, Ctrl-D ends). Not readline: readline takes
/// SIGINT for itself, and in a demo Ctrl-C ends the demo with teardown.
final class DemoLineReader: LineReader {
  init() {}
  var isInteractive: Bool { true }
  func readLine(prompt: String) -> String? {
    print(prompt, terminator: "")
    fflush(nil)
    return Swift.readLine(strippingNewline: true)
  }
  func remember(_ line: String) {}
  func finish() {}
}
