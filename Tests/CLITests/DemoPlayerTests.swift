import Glibc
import Kernel
import Lab
import Simulator
import Testing

@testable import CLI

/// `boxwalk replay --pause` driven key by key on the simulator: a skipped command still sets the
/// stage for the ones after it, a live prompt runs commands at the demo's state and `resume` goes
/// back to the demo, and the terminal does not echo a key pressed while a command is typed.
@Suite(.serialized) struct DemoPlayerTests {
  /// Keys in the order the demo asks for them; Enter once they run out.
  final class Keys: DemoKeys {
    var queue: [DemoKey]
    var holds = 0
    var releases = 0
    init(_ keys: [DemoKey]) { queue = keys }
    var enabled: Bool { true }
    func hold() { holds += 1 }
    func release() { releases += 1 }
    func wait() -> DemoKey { queue.isEmpty ? .go : queue.removeFirst() }
  }

  final class Screen: DemoScreen {
    var text = ""
    var colour: Bool { false }
    func writeRaw(_ text: String) { self.text += text }
    func write(_ lines: [String]) -> Bool {
      for line in lines { text += line + "\n" }
      return true
    }
  }

  static let commands = ["box new web", "unshare uts", "hostname lab-box", "show web.hostname"]

  /// A transcript of `commands` as the simulator prints them, so it matches by construction.
  static func transcript(header: String = "# a demo\n") throws -> TranscriptFile {
    let s = try Session(kernel: SimulatedKernel())
    var text = header
    for command in commands {
      let prompt = s.prompt
      text += "  " + prompt + command + "\n"
      for line in s.execute(command) { text += "  " + line + "\n" }
    }
    return try TranscriptFile.parse(path: "demo.transcript", text: text)
  }

  func play(_ keys: Keys, live: [String] = []) throws -> (DemoPlayer.Summary, String, Session) {
    let screen = Screen()
    let session = try Session(kernel: SimulatedKernel())
    let player = DemoPlayer(
      path: "demo.transcript", plan: try DemoPlan(file: try Self.transcript(), features: ["sim"]), session: session,
      terminal: screen, keys: keys, lines: ScriptedLineReader(live), pace: 0, pauseBeforeCommands: true)
    let summary = player.play()
    #expect(keys.holds == keys.releases, "the terminal is given back as often as it was taken")
    return (summary, screen.text, session)
  }

  @Test func aSkippedCommandStillSetsTheStageForTheNextOnes() throws {
    let (all, allText, _) = try play(Keys([]))
    #expect(all.run == 4 && all.differed == 0 && all.skipped == 0, "\(allText)")
    let (summary, text, session) = try play(Keys([.go, .go, .skip]))
    #expect(summary.skipped == 1 && summary.differed == 0, "\(text)")
    #expect(text.contains("boxwalk[web]> hostname lab-box    (skipped)\n"), "\(text)")
    #expect(!text.contains("web.hostname: "), "the skipped command's output is not shown")
    // What comes after the skipped command prints exactly as when nothing was skipped.
    let after = "boxwalk[web]> show web.hostname"
    let tail = try #require(text.range(of: after)).lowerBound
    let allTail = try #require(allText.range(of: after)).lowerBound
    #expect(text[tail...] == allText[allTail...], "\(text)")
    #expect(session.tree.value(at: try StatePath.parse("web.hostname")) == .string("lab-box"))
  }

  @Test func aLivePromptRunsAtTheDemosStateAndResumeGoesBack() throws {
    let keys = Keys([.go, .go, .live])
    let (summary, text, session) = try play(keys, live: ["", "hostname", "box new extra", "use web", "resume"])
    #expect(summary.run == 4 && summary.differed == 0 && summary.quitAt == nil, "\(text)")
    let live = try #require(text.range(of: "-- live: the lab as the demo left it")).lowerBound
    let back = try #require(text.range(of: "-- back to the demo --")).lowerBound
    let during = String(text[live..<back])
    // Commands typed live run on the demo's lab, as in the REPL.
    #expect(during.contains("boxwalk[web]> hostname\n"), "\(during)")
    #expect(during.contains("boxwalk[web]> box new extra\ncreated box extra"), "\(during)")
    #expect(during.contains("boxwalk[extra]> use web\n"), "\(during)")
    // After resume the command that was waiting is shown again and runs.
    #expect(text[back...].contains("boxwalk[web]> hostname lab-box\n"), "\(text)")
    #expect(session.boxNames == ["web", "extra"])
    #expect(keys.holds == 2, "the terminal is taken again after the live prompt")

    let quitting = try play(Keys([.live]), live: ["quit"])
    #expect(quitting.0.quitAt == 1 && quitting.0.run == 0, "\(quitting.1)")
  }

  /// A `#pause` names its keys, the one for the live prompt included; `l` there opens it.
  @Test func aPauseCaptionNamesTheLiveKey() throws {
    let paused = try Self.transcript(header: "# a demo\n#pause look first\n")
    let screen = Screen()
    let player = DemoPlayer(
      path: "demo.transcript", plan: try DemoPlan(file: paused, features: ["sim"]),
      session: try Session(kernel: SimulatedKernel()), terminal: screen, keys: Keys([.live]),
      lines: ScriptedLineReader(["resume"]), pace: 0, pauseBeforeCommands: false)
    let summary = player.play()
    #expect(
      screen.text.contains(
        "-- look first (Enter continues, l opens a live prompt at this state (resume comes back), q quits) --"),
      "\(screen.text)")
    #expect(screen.text.contains("-- live: the lab as the demo left it"), "\(screen.text)")
    #expect(summary.run == 4 && summary.differed == 0, "\(screen.text)")
    #expect(!screen.text.contains("before each command"), "no legend when the demo does not wait before commands")
    let (_, waiting, _) = try play(Keys([]))
    #expect(
      waiting.hasPrefix(
        "-- before each command: Enter runs it, s skips showing it, l opens a live prompt at that state (resume comes back), q quits --\n"
      ), "\(waiting)")
  }

  /// A real pseudo-terminal (pty(7)): while the demo holds the terminal, an Enter pressed in the
  /// middle of a typed command is not echoed (the line stays whole) and is the key for the pause.
  @Test func anEnterPressedWhileTypingIsNotEchoed() throws {
    // pty(7) by hand: Glibc's module does not export posix_openpt(3), so open /dev/ptmx, unlock
    // the slave (TIOCSPTLCK) and ask its number (TIOCGPTN), as unlockpt(3) and ptsname(3) do.
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    guard master >= 0 else {
      Issue.record("open /dev/ptmx: errno \(errno)")
      return
    }
    defer { close(master) }
    var unlock: Int32 = 0
    var number: UInt32 = 0
    guard ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0,
      ioctl(master, 0x8004_5430 /* TIOCGPTN */, &number) == 0
    else {
      Issue.record("unlocking the pty: errno \(errno)")
      return
    }
    let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
    guard slave >= 0 else {
      Issue.record("open /dev/pts/\(number): errno \(errno)")
      return
    }
    defer { close(slave) }

    let keys = KeyReader(fd: slave, enabled: true)
    keys.hold()
    // The presenter presses Enter while the command is still being typed.
    var enter: UInt8 = 13
    #expect(write(master, &enter, 1) == 1)
    usleep(100_000)
    var pending: Int32 = 0
    #expect(ioctl(master, UInt(FIONREAD), &pending) == 0)
    #expect(pending == 0, "the terminal echoed \(pending) bytes into the demo's line")
    #expect(keys.wait() == .go)
    keys.release()
    var mode = termios()
    #expect(tcgetattr(slave, &mode) == 0)
    #expect(mode.c_lflag & tcflag_t(ECHO | ICANON) == tcflag_t(ECHO | ICANON), "release gives the terminal back")
  }
}
