import Kernel

/// `repeat N COMMAND [; COMMAND]...`: the same commands N times, `{i}` in them standing for the
/// round's number, 1 to N. It is how a lab shows what one machine holds (a hundred boxes, each
/// with namespaces of its own) without a hundred lines typed: the first round prints in full,
/// every later round runs quietly, and the end says what the rounds made. Each command is an
/// ordinary command line, one step each, exactly as if typed; nothing is batched behind the
/// learner's back. The first failure stops the repeat and is printed whole; what the rounds
/// before it made stays, as it would after typing them.
extension Session {
  /// The most rounds, and the most commands over all rounds: a thousand boxes is a lab the
  /// scale benchmark builds in seconds; more is a mistake in N.
  static let repeatRounds = 1_000
  static let repeatCommands = 5_000

  func repeatCommand(_ args: [String], into out: inout Output) throws {
    guard let first = args.first else { throw usage("repeat", "repeat needs a count and a command") }
    guard let rounds = Int(first), (1...Self.repeatRounds).contains(rounds) else {
      throw LabError(
        "\(quotedForTerminal(first)) is not a number of rounds",
        [
          ("rule", "a whole number from 1 to \(Self.repeatRounds)"),
          ("usage", CommandTable.lookup("repeat")?.usage ?? "repeat"), LabError.unchanged,
        ])
    }
    // `;` on its own separates the commands of a round (the word splitter keeps it as a word).
    var commands: [[String]] = [[]]
    for word in args.dropFirst() {
      if word == ";" { commands.append([]) } else { commands[commands.count - 1].append(word) }
    }
    if commands.contains(where: \.isEmpty) {
      throw usage("repeat", "repeat needs a command after its count and after every ;")
    }
    if let nested = commands.first(where: { ["repeat", "quit", "exit"].contains($0[0]) }) {
      throw LabError(
        "repeat cannot repeat \(nested[0])",
        [("rule", "a round is lab commands; repeat inside repeat, or quit, is not one"), LabError.unchanged])
    }
    if rounds * commands.count > Self.repeatCommands {
      throw LabError(
        "\(rounds) rounds of \(commands.count) commands is \(rounds * commands.count) commands",
        [("rule", "at most \(Self.repeatCommands) commands in one repeat"), LabError.unchanged])
    }
    let boxesBefore = boxNames
    var steps = 0
    for round in 1...rounds {
      for (k, command) in commands.enumerated() {
        let line = command.map { ShellWord.quote($0.replacing("{i}", with: String(round))) }
          .joined(separator: " ")
        // The first round in full, as if typed, so the learner sees what every round does; then
        // only a failure.
        if round == 1 && k == 0 { out.lines.append("round 1 of \(rounds), in full:") }
        let result = runAsTyped(line, shown: round == 1, into: &out) { out in
          out.lines.append("round \(round) of \(rounds):")
        }
        if result.step != nil { steps += 1 }
        guard result.ok else {
          let made = round == 1 && k == 0 ? "nothing" : "what the earlier commands made"
          throw LabError(
            "repeat stopped in round \(round) of \(rounds): \(escapedForTerminal(line)) failed (above)",
            [("state", "\(made) stays, as it would had they been typed; the rest did not run")])
        }
      }
    }
    out.lines += repeatSummary(rounds: rounds, commands: commands.count, steps: steps, boxesBefore: boxesBefore)
  }

  /// What the rounds made: the boxes added and removed, and how many namespaces of each kind
  /// the boxes hold beside the host's, counted by inode.
  private func repeatSummary(rounds: Int, commands: Int, steps: Int, boxesBefore: [String]) -> [String] {
    var lines = [
      "repeated \(commands == 1 ? "1 command" : "\(commands) commands") \(rounds) times ({i} = 1 .. \(rounds)): "
        + "\(steps) \(steps == 1 ? "step" : "steps")"
        + (rounds == 2
          ? ", round 2 without its output" : rounds > 2 ? ", rounds 2 to \(rounds) without their output" : "")
    ]
    // In creation order, both.
    let names = boxNames
    let before = Set(boxesBefore)
    let added = names.filter { !before.contains($0) }
    let now = Set(names)
    let removed = boxesBefore.filter { !now.contains($0) }
    func listed(_ boxes: [String]) -> String {
      boxes.count <= 4
        ? boxes.joined(separator: ", ") : boxes.prefix(3).joined(separator: ", ") + " .. " + boxes[boxes.count - 1]
    }
    if !added.isEmpty { lines.append("  boxes       + \(added.count): \(escapedForTerminal(listed(added)))") }
    if !removed.isEmpty { lines.append("  boxes       - \(removed.count): \(escapedForTerminal(listed(removed)))") }
    lines.append("  in the lab  \(names.count) \(names.count == 1 ? "box" : "boxes")")
    var counts: [String] = []
    for kind in NamespaceKind.allCases {
      let host = facts.host.namespaces[kind]
      let own = Set(facts.boxes.compactMap { $0.process.namespaces[kind] }.filter { $0 != host })
      if !own.isEmpty { counts.append("\(own.count) \(kind.rawValue)") }
    }
    lines.append(
      "  namespaces  "
        + (names.isEmpty
          ? "only the host's: the boxes' own died with their last process"
          : counts.isEmpty
            ? "the boxes have none of their own: each shares every namespace with the host"
            : "the boxes have " + counts.joined(separator: ", ") + " of their own, beside the host's one of each kind"))
    return lines
  }

  /// Runs one command line as if the learner had typed it (Session.run: one step, counted as
  /// typed), and prints it as `  > LINE` with its output indented under it: when `shown`, and
  /// always when it failed (after `beforeFailure`'s heading). Not behind a prompt: a line that
  /// starts like one is a command in a transcript. `repeat` and `box import-bundle` run their
  /// lines through this.
  func runAsTyped(
    _ line: String, shown: Bool, into out: inout Output, beforeFailure: (inout Output) -> Void = { _ in }
  ) -> Output {
    let (_, result) = run(line)
    if shown || !result.ok {
      if !shown { beforeFailure(&out) }
      out.lines += ["  > " + escapedForTerminal(line)] + result.lines.map { "    " + $0 }
    }
    return result
  }
}
