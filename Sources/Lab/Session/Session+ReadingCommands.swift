import Kernel

// Commands that read what the lab knows and run no step: state, diff, explain, unwatch.
extension Session {
  /// `state [--json]`.
  func stateCommand(_ args: [String], into out: inout Output) throws {
    guard args.isEmpty || args == ["--json"] else { throw usage("state", "state takes only --json") }
    try refresh()
    if args == ["--json"] || jsonMode {
      out.lines.append(stateJSON())
      out.extra.append(("state", tree))
    } else {
      guard case .map(let m) = tree else { return }
      for (k, v) in m.entries { out.lines += TreePrinter.show(StatePath(keys: k), v) }
    }
  }

  /// `diff`: the last step's changes again.
  func diffCommand(_ args: [String], into out: inout Output) throws {
    try arity("diff", args, 0)
    guard let last else {
      out.lines.append("no step has run yet")
      return
    }
    out.lines.append("last step: \(escapedForTerminal(last.input))")
    let table = DiffTable.lines(last.changes, tree: last.hostAfter)
    out.lines += table.isEmpty ? ["  (no visible change)"] : table
  }

  /// `explain`: the last step's calls, shell equivalent and why.
  func explainCommand(_ args: [String], into out: inout Output) throws {
    try arity("explain", args, 0)
    if let failed = failedSinceLast {
      out.lines.append(
        "the last command failed and changed nothing: \(escapedForTerminal(failed.input)) (\(failed.headline))")
    }
    guard let last else {
      out.lines.append("no step has run yet: explain describes the last step")
      return
    }
    out.lines.append("last step: \(escapedForTerminal(last.input))")
    out.lines += last.step.plan.map { "  \($0.label)  \($0)" }
    let shell = last.shell
    out.lines.append("  shell    " + shell)
    out.lines += StepText.why(last.step).map { "  " + $0 }
    // `<web>` stands for a box's host PID; `<web rootfs>` (a prepared root's path) is not one.
    if shell.split(separator: "<").dropFirst().contains(where: { part in
      guard let end = part.firstIndex(of: ">") else { return false }
      return end > part.startIndex && !part[..<end].contains(" ")
    }) {
      out.lines.append("  <NAME> is that box's host PID: show NAME.host_pid")
    }
  }

  /// `unwatch N`.
  func unwatchCommand(_ args: [String], into out: inout Output) throws {
    try arity("unwatch", args, 1)
    guard let n = Int(args[0]), let i = watches.firstIndex(where: { $0.number == n }) else {
      throw LabError(
        "no watch numbered \(escapedForTerminal(args[0]))",
        [
          ("watches", watches.isEmpty ? "none" : watches.map { String($0.number) }.joined(separator: " ")),
          LabError.unchanged,
        ])
    }
    watches.remove(at: i)
    out.lines.append("unwatched \(n)")
  }
}
