import Kernel

/// `help` for the lesson and recording commands, and tab completion for them.
extension LessonRunner {
  /// Usage lines, for `help` and for usage errors.
  static let usages: [String: String] = [
    "lessons": "lessons",
    "lesson": "lesson [ID]",
    "next": "next",
    "back": "back",
    "hint": "hint",
    "check": "check",
    "solution": "solution",
    "reset": "reset [step|lesson] [--yes]",
    "record": "record FILE | record stop",
  ]

  static let summaries: [(String, String)] = [
    ("lessons", "list lessons with your progress"),
    ("lesson", "start lesson ID, or resume it where you left it; alone, show the current step"),
    ("next", "run the step's lab commands and check them; on an exercise, move on once check passes"),
    ("back", "go back to the state before the step (the lab is rebuilt from the lesson start)"),
    ("hint", "one more hint for this step"),
    ("check", "what this step's exercise still lacks (failing checks are expected while you work)"),
    ("solution", "show and run the answer to this step's exercise"),
    ("reset", "undo your work in this step, or restart the lesson; asks for yes first"),
    ("record", "write this session as a transcript, updated after every command"),
  ]

  /// `help TOPIC` for each lesson command.
  static let helpTopics: [String: [String]] = {
    var topics: [String: [String]] = [:]
    for (name, summary) in summaries {
      topics[name] = ["usage: " + (usages[name] ?? name), "  " + summary]
    }
    topics["reset", default: []] += [
      "  reset step (the default) rebuilds the lab as it was when the step started, or just after its",
      "  lab block once that has run; reset lesson goes back to step 1 in a fresh lab.",
      "  It asks first: answer yes (or y) to go ahead. no cancels; any other command cancels the reset",
      "  and then runs as usual. In scripts and piped sessions, write reset step --yes, or a yes line.",
    ]
    topics["record", default: []] += [
      "  record FILE writes everything this session ran, from its start, with what each command printed,",
      "  and keeps FILE up to date after every command; record stop ends it, record alone says where it",
      "  writes. boxwalk test FILE replays it on the same backend. FILE must not exist yet.",
    ]
    topics["next", default: []] += [
      "  A step's lab block runs once; its expect block must hold afterwards. An exercise step then",
      "  waits for your own commands: next checks them and moves on when every check passes.",
    ]
    topics["back", default: []] += [
      "  On every backend the lab is torn down and rebuilt: the steps before are replayed quietly, with",
      "  the solution of each exercise standing in for your own work.",
    ]
    return topics
  }()

  /// The session's `help` with its lessons area replaced by the lesson runner's own lines, which
  /// say more (reset, progress) than the command table's.
  func help(sessionHelp: [String]) -> [String] {
    var out: [String] = []
    var skippingArea = false
    for line in sessionHelp {
      if !line.hasPrefix(" ") { skippingArea = line == "lessons" }
      // The table's own lessons area and its record line are replaced by the lines below.
      if skippingArea || line.hasPrefix("  record ") { continue }
      out.append(line)
    }
    out.append("lessons")
    for (name, summary) in Self.summaries {
      out.append("  " + (Self.usages[name] ?? name).padding(24) + "  " + summary)
    }
    return out
  }

  /// Tab completion: the lesson commands and their arguments, then the session's own.
  public func completions(before line: String, word: String) -> [String] {
    let words = (try? WordSplitter.split(line)) ?? []
    let mine = Self.summaries.map(\.0)
    switch (words.first, words.count) {
    case (nil, _), ("help", 1):
      let theirs = session.completions(before: line, word: word)
      return theirs + mine.filter { !theirs.contains($0) }
    case ("lesson", 1): return lessons.map(\.id)
    case ("reset", 1): return ["step", "lesson", "--yes"]
    case ("reset", 2): return ["--yes"]
    case ("record", 1): return ["stop"]
    default: return session.completions(before: line, word: word)
    }
  }
}
