import Kernel
import Simulator
import Testing

@testable import Lab

/// Names from a box, an image or a file are shown with every control and bidirectional
/// formatting character escaped. U+202E (RIGHT-TO-LEFT OVERRIDE) once reached the terminal as it
/// was, so a file or host name could read as another; and a value quoted in an error showed its
/// escapes with a doubled backslash (`"x\\x1b[31m"`).
@Suite struct TerminalSpoofingTests {
  static let override = "\u{202E}"

  @Test func bidirectionalControlsAreEscapedInEveryPrintedForm() {
    #expect(escapedForTerminal("a\u{202E}b\u{2066}c") == "a\\u202eb\\u2066c")
    #expect(escapedForTerminal("a\u{9B}b") == "a\\x9bb")
    #expect(JSON.quote("a\u{202E}b") == "\"a\\u202eb\"")
    #expect(FileName.escaped(Array("a\u{202E}b".utf8)) == "a\\xe2\\x80\\xaeb")
    #expect(PictureSVG.xml("<a\u{202E}>") == "&lt;a\\u202e&gt;")
  }

  @Test func aQuotedValueInAnErrorIsEscapedOnce() {
    #expect(quotedForTerminal("x\u{1B}[31m") == "\"x\\u001b[31m\"")
    #expect(quotedForTerminal("a\u{202E}b") == "\"a\\u202eb\"")
    // A backslash the learner typed is still told apart from an escape.
    #expect(quotedForTerminal("a\\x1b") == "\"a\\\\x1b\"")
  }

  @Test func aCommandLineWithABidirectionalControlIsRefused() throws {
    let s = try Session(kernel: SimulatedKernel())
    _ = s.execute("box new web")
    _ = s.execute("unshare uts")
    let out = s.execute("hostname evil\(Self.override)moc.knab")
    #expect(out.first == "error: the command line has a character boxwalk does not accept", "\(out)")
    #expect(out.contains { $0.contains("\\u202e") }, "\(out)")
    #expect(!out.joined().unicodeScalars.contains { TerminalText.isLayoutControl($0) }, "\(out)")
    #expect(s.execute("show web.hostname") == ["web.hostname = \"sim-host\""])
  }

  /// A file whose name holds U+202E (made here by its escaped spelling, as a box program could
  /// make it by its bytes) is shown escaped by ls, show, state --json and draw, and no line
  /// carries the raw character.
  @Test func aFileNamedWithAnOverrideIsShownEscapedEverywhere() throws {
    let s = try Session(kernel: SimulatedKernel())
    var all: [String] = []
    for line in [
      "box new web", "unshare mnt,pid,ipc", "overlay busybox", "write '/evil\\xe2\\x80\\xaegnp.sh' x", "ls /",
      "show web.fs.upper", "state --json", "draw layers", "draw all",
    ] {
      let out = s.execute(line)
      #expect(!out.contains { $0.hasPrefix("error:") }, "\(line): \(out)")
      all += out
    }
    #expect(all.contains { $0.contains("evil\\xe2\\x80\\xaegnp.sh") }, "\(all)")
    #expect(!all.joined().unicodeScalars.contains { TerminalText.isLayoutControl($0) })
    // The same name typed with the raw character is the same file, in its one spelling.
    #expect(s.execute("cat '/evil\\xe2\\x80\\xaegnp.sh'").contains("x"))
  }
}
