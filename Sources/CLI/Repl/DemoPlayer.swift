import Glibc
import Kernel
import Lab

/// Plays a transcript as a classroom demo (lessons/README.md, "A lesson as a demo"): narrative
/// lines become captions, each command is typed at a human pace and run live, and the real output
/// is shown. Output that differs from the file is marked and the demo goes on: a demo never fails.
/// The plan (what comes when) is `DemoPlan`'s; this does the terminal side.
struct DemoPlayer {
  let path: String
  let plan: DemoPlan
  let session: any LabSession
  let terminal: Terminal
  let keys: KeyReader
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

  func play() -> Summary {
    var summary = Summary()
    let checker = DemoChecker()
    // A blank line between a command's output and the captions after it, as between paragraphs.
    var afterOutput = false
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
        terminal.writeRaw(dim("-- " + label + " (Enter continues, q quits) --"))
        let key = keys.wait()
        terminal.writeRaw("\n")
        if key == .quit {
          summary.quitAt = 0
          return summary
        }
      case .sleep(let duration):
        if pace > 0 { sleep(duration) }
      case .command(let number, let step, let quiet):
        let prompt = session.prompt
        if quiet {
          let printed = session.execute(step.command)
          summary.run += 1
          if checker.divergence(step, prompt: prompt, printed: printed) != nil {
            summary.differed += 1
            terminal.write([
              mark("! command \(number) (\(path):\(step.line)), run quietly before --from, differs from the file")
            ])
          }
          continue
        }
        terminal.writeRaw(prompt)
        type(step.command)
        if replayInterrupted != 0 {
          terminal.writeRaw("\n")
          summary.quitAt = number
          return summary
        }
        if pauseBeforeCommands {
          switch keys.wait() {
          case .go: break
          case .skip:
            terminal.writeRaw(dim("    (skipped)") + "\n")
            summary.skipped += 1
            continue
          case .quit:
            terminal.writeRaw("\n")
            summary.quitAt = number
            return summary
          }
        }
        terminal.writeRaw("\n")
        let printed = session.execute(step.command)
        summary.run += 1
        afterOutput = true
        guard terminal.write(printed) else { return summary }
        if let diff = checker.divergence(step, prompt: prompt, printed: printed) {
          summary.differed += 1
          terminal.write([mark("! differs from the file at \(path):\(step.line)")] + diff.map { "  " + $0 })
        }
      }
    }
    return summary
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
