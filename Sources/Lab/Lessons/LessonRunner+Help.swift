import Kernel

/// `help TOPIC` for the lesson and recording commands, and tab completion for them.
extension LessonRunner {
  /// The commands the lesson runner answers itself. Their usage lines and summaries are in
  /// CommandTable, like every other command's, so `help`, completion and usage errors agree.
  static let commands: [CommandInfo] = CommandTable.all.filter { $0.area == "lessons" || $0.name == "record" }

  /// The usage line of one of `commands`, for usage errors.
  static func usage(of name: String) -> String { commands.first { $0.name == name }?.usage ?? name }

  /// `help TOPIC` for each lesson command.
  static let helpTopics: [String: [String]] = {
    var topics: [String: [String]] = [:]
    for info in commands {
      topics[info.name] = info.helpLines
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

  /// Tab completion: the lesson commands and their arguments, then the session's own.
  public func completions(before line: String, word: String) -> [String] {
    let words = (try? WordSplitter.split(line)) ?? []
    let mine = Self.commands.map(\.name)
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
