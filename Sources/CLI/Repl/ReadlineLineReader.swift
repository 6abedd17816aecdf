import CReadline
import CShim
import Glibc
import Lab
import LinuxBackend

/// GNU readline for terminals (readline(3)): line editing, history saved to a file, tab
/// completion of commands, box names and state paths, and Ctrl-C clearing the line.
///
/// readline is a C library with global state, so the completion source and the interrupt flag
/// live in globals; there is only ever one REPL per process.
public final class ReadlineLineReader: LineReader {
  private let historyFile: String?
  static let historyLimit = 1000

  public init(historyFile: String?, completer: @escaping (_ line: String, _ word: String) -> [String]) {
    self.historyFile = historyFile
    readlineCompleter = completer
    // Readline's own signal handlers would reset the terminal and then re-raise SIGINT, which
    // kills the process. We take SIGINT ourselves (see installInterruptHandler) and let readline
    // see it through the signal event hook.
    bw_rl_configure(boxwalkCompletion, boxwalkSignalHook)
    if let term = getenv("TERM"), String(cString: term) == "dumb" {
      // Bracketed paste wraps every prompt in ESC[?2004h ... ESC[?2004l, which pollutes
      // recordings and tests (docs/transcripts.md); a dumb terminal cannot use it anyway.
      rl_variable_bind("enable-bracketed-paste", "off")
    }
    installInterruptHandler()
    using_history()
    if let historyFile { _ = read_history(historyFile) }
  }

  public var isInteractive: Bool { true }

  public func readLine(prompt: String) -> String? {
    _ = bw_interrupt_take()
    guard let raw = readline(prompt) else { return nil }
    defer { free(raw) }
    return String(cString: raw)
  }

  public func remember(_ line: String) {
    guard !line.trimmingSpaces.isEmpty else { return }
    add_history(line)
  }

  public func finish() {
    guard let historyFile else { return }
    // write_history(3) opens the file with O_TRUNC and follows a symbolic link, so a link planted
    // where BOXWALK_HISTFILE points would have root truncate its target. The last 1000 lines go
    // through SafeFiles instead, in the format read_history(3) reads back: one line each.
    let count = Int(bw_history_count())
    var text = ""
    for i in max(0, count - Self.historyLimit)..<count {
      if let line = bw_history_line(Int32(i)) { text += String(cString: line) + "\n" }
    }
    try? SafeFiles.replace(historyFile, with: Array(text.utf8), mode: 0o600, durable: false)
  }
}

nonisolated(unsafe) private var readlineCompleter: ((String, String) -> [String])?
nonisolated(unsafe) private var completionCandidates: [String] = []
nonisolated(unsafe) private var completionIndex = 0

/// SIGINT only sets a flag (CShim interrupt.c, installed without SA_RESTART): readline's read(2)
/// returns EINTR and readline calls rl_signal_event_hook, where touching its state is safe; a
/// foreground `run` on the real kernel sees the same flag and kills the program.
private func installInterruptHandler() {
  _ = bw_install_interrupt_handler()
}

/// Ctrl-C at the prompt: readline calls this after its read(2) was interrupted; the line is
/// discarded and a fresh prompt shown, and readline goes on reading.
private let boxwalkSignalHook: @convention(c) () -> Int32 = {
  if bw_interrupt_take() != 0 { bw_rl_discard_line() }
  return 0
}

private let boxwalkCompletion:
  @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
    text, start, _ in
    let word = text.map { String(cString: $0) } ?? ""
    let line = bw_rl_line_buffer().map { String(String(cString: $0).utf8.prefix(Int(start))) ?? "" } ?? ""
    completionCandidates = (readlineCompleter?(line, word) ?? []).filter { $0.hasPrefix(word) }
    completionIndex = 0
    // Do not fall back to file names when nothing matches.
    bw_rl_completion_over()
    return rl_completion_matches(text, boxwalkCompletionEntry)
  }

private let boxwalkCompletionEntry: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = {
  _, _ in
  guard completionIndex < completionCandidates.count else { return nil }
  defer { completionIndex += 1 }
  return strdup(completionCandidates[completionIndex])
}

extension String {
  var trimmingSpaces: Substring {
    drop { $0 == " " || $0 == "\t" }
  }
}
