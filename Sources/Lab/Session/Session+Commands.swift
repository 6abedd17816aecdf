import Kernel

extension Session {
  /// Picks the command by its first word(s) and checks its arguments before anything runs.
  func dispatch(_ w: [String], line: String, into out: inout Output) throws {
    let args = Array(w.dropFirst())
    switch w[0] {
    case "box": try boxCommand(args, line: line, into: &out)
    case "use":
      try arity("use", args, 1)
      current = try existingBox(args[0])
      out.lines.append("current box: \(args[0])")
    case "unshare": try unshareCommand(args, line: line, into: &out)
    case "join": try joinCommand(args, line: line, into: &out)
    case "hostname", "domainname": try utsNameCommand(w, line: line, into: &out)
    case "ns":
      try arity("ns", args, 0)
      try refresh()
      out.lines += namespaceTable()
    case "show":
      try arity("show", args, 1)
      try refresh()
      let (path, value) = try lookup(args[0])
      out.lines += TreePrinter.show(path, value)
      out.extra.append(("value", value.unwrapped))
    case "state": try stateCommand(args, into: &out)
    case "diff": try diffCommand(args, into: &out)
    case "draw": try drawCommand(args, into: &out)
    case "pictures": try picturesCommand(args, into: &out)
    case "explain": try explainCommand(args, into: &out)
    case "watch":
      try arity("watch", args, 1)
      try refresh()
      let (path, value) = try lookup(args[0])
      watches.append((nextWatch, path, value))
      out.lines.append("watch \(nextWatch): " + (TreePrinter.show(path, value).first ?? path.description))
      nextWatch += 1
    case "unwatch": try unwatchCommand(args, into: &out)
    case "help":
      guard args.count <= 1 else { throw tooMany("help", args) }
      out.lines += try help(args.first)
    case "run": try runCommand(args, line: line, into: &out)
    case "ps": try psCommand(args, into: &out)
    case "kill": try killCommand(args, line: line, into: &out)
    case "mount": try mountCommand(args, line: line, into: &out)
    case "umount": try umountCommand(args, line: line, into: &out)
    case "mounts": try mountsCommand(args, into: &out)
    case "propagation": try propagationCommand(args, line: line, into: &out)
    case "rootfs": try rootfsCommand(args, line: line, into: &out)
    case "pivot-root", "chroot": try enterRootCommand(w[0], args, line: line, into: &out)
    case "ipc": try ipcCommand(args, line: line, into: &out)
    case "clock": try clockCommand(args, line: line, into: &out)
    case "map": try mapCommand(args, line: line, into: &out)
    case "id": try idCommand(args, into: &out)
    case "caps": try capsCommand(args, into: &out)
    case "cgroup": try cgroupCommand(args, line: line, into: &out)
    case "stress": try stressCommand(args, line: line, into: &out)
    case "net": try netCommand(args, line: line, into: &out)
    case "links": try linksCommand(args, into: &out)
    case "ping": try pingCommand(args, line: line, into: &out)
    case "connect": try connectCommand(args, line: line, into: &out)
    case "overlay": try overlayCommand(args, line: line, into: &out)
    case "write": try writeCommand(args, line: line, into: &out)
    case "rm": try rmCommand(args, line: line, into: &out)
    case "cat": try catCommand(args, line: line, into: &out)
    case "ls": try lsCommand(args, line: line, into: &out)
    case "which": try whichCommand(args, line: line, into: &out)
    case "commit": try commitCommand(args, line: line, into: &out)
    case "layer": try layerCommand(args, line: line, into: &out)
    case "image": try imageCommand(args, line: line, into: &out)
    case "repeat": try repeatCommand(args, into: &out)
    case "quit", "exit":
      try arity(w[0], args, 0)
      quitRequested = true
    default:
      throw unknown(w[0], candidates: CommandTable.firstWords)
    }
  }

  // MARK: Steps

  /// Runs one step on the kernel and renders it: the summary, the system calls, the shell
  /// equivalent, the state diff with host and box side by side, and any watch that changed.
  func runStep(_ step: Step, input: String, into out: inout Output) throws {
    out.step = step
    // The box's root before the step: where its mount paths were resolved.
    let shell = StepText.shell(
      step, cgroup: kernel.cgroupVersion, root: step.owner.box.flatMap(facts.box)?.process.root ?? .host)
    out.shell = shell
    let factsBefore = FactsBefore(step, facts)
    let result: StepResult
    do {
      result = try kernel.perform(step)
    } catch {
      let boxesBefore = boxNames
      _ = try? refresh()
      // A box whose helper died while the step waited on it is gone (the error's detail says how,
      // and how to start it again): the prompt stops naming it, and the state line says so.
      let lost = boxesBefore.filter { !boxNames.contains($0) }
      if let box = current, lost.contains(box) { current = nil }
      var details: [(String, String)] = [("command", escapedForTerminal(input))]
      if let detail = error.detail { details.append(("detail", detail)) }
      details.append(("meaning", "\(error.errno.name): \(error.errno.meaning)"))
      if let hint = StepText.errnoHint(step, error.errno, detail: error.detail) { details.append(("why", hint)) }
      if let fix = StepText.errnoFix(step, error.errno, detail: error.detail) { details.append(("fix", fix)) }
      details.append(
        lost.isEmpty
          ? LabError.unchanged
          : ("state", "\(lost.count == 1 ? "box" : "boxes") \(lost.joined(separator: ", ")) gone; nothing else changed")
      )
      throw LabError(error.refusal ?? "\(error.call): \(error.errno.name)", details, errno: error.errno)
    }
    if let line = result.notSimulated {
      // The simulator did not run the program: its one line, and no step happened.
      out.step = nil
      out.lines.append(line)
      return
    }
    let after = try readBack(after: step)
    // Only the subtrees the builder made again can differ (StateTreeBuilder.changedKeys), and the
    // builder kept what they were.
    let changes =
      builder.changedKeys.map { StateDiff.between(builder.replaced, after, only: $0) }
      ?? StateDiff.between(builder.replaced, after)
    // The diff's table shows the host's value beside a box's: the host's subtree is all it needs.
    last = StepRecord(input: input, step: step, changes: changes, hostAfter: after.hostOnly, shell: shell)
    failedSinceLast = nil
    out.changes = changes
    // A program's own output comes first, as in a shell; escaped, so it cannot drive the terminal.
    out.lines += result.output.map(escapedForTerminal)
    out.lines += summary(step, result, before: factsBefore, after: after)
    if let answer = result.ping { out.extra.append(("reachable", .bool(answer.reachable))) }
    out.lines += step.plan.map { "  \($0.label)  \($0)" }
    out.lines.append("  shell    " + shell)
    out.lines += DiffTable.lines(changes, tree: after)
    for i in watches.indices {
      let now = after.value(at: watches[i].path)
      if now != watches[i].value {
        watches[i].value = now
        let text = now.map { TreePrinter.show(watches[i].path, $0).first ?? "" } ?? "\(watches[i].path) is gone"
        out.lines.append("  watch \(watches[i].number)  " + text)
      }
    }
    if picturesOn { out.lines += picturesAfterStep(changes) }
  }

  /// One sentence saying what the step achieved, in terms of the new state.
  func summary(_ step: Step, _ result: StepResult, before: FactsBefore, after t: StateValue) -> [String] {
    // Each area's summary in its own file: Session+ProcessSummary, +NamespaceSummary,
    // +MountSummary, +CgroupSummary, +NetSummary, and Session+Layers.
    switch step {
    case .process(let s): return processSummary(s, result, before: before, after: t)
    case .namespace(let s): return namespaceSummary(s, after: t)
    case .mount(let s): return mountSummary(s, result, before: before, after: t)
    case .cgroup(let s): return cgroupSummary(s, result, before: before, after: t)
    case .net(let s): return netSummary(s, result, after: t)
    case .layer(let s): return layerSummary(s, result, before: before, after: t)
    }
  }

  func ownIPC(_ box: String) -> Bool { !shares(box, .ipc) }

  /// The sentence for the step's box when its pid namespace's PID 1 exited in this step (the
  /// kernel's facts before and after say so), or none.
  func pidNamespaceDeath(_ box: String, before: FactsBefore, after t: StateValue) -> [String] {
    let wasAlive = before.box?.pidNamespaceAlive != false
    guard wasAlive, facts.box(box)?.process.pidNamespaceAlive == false else { return [] }
    let label = namespaceLabel(box, .pid, in: t)
    return ["PID 1 of \(label) exited: the kernel killed every process in \(label), and no new one can enter it"]
  }

  // MARK: Reading

  func boxList() -> [String] {
    let names = boxNames
    if names.isEmpty { return ["no boxes yet: box new NAME creates one"] }
    var rows = [["", "BOX", "OWN NAMESPACES"]]
    for name in names {
      let own = NamespaceKind.allCases.filter { !shares(name, $0) }
      // A pid namespace whose PID 1 died takes no new process (pid_namespaces(7)): say so here
      // too, not only in ps.
      let dead = pidNamespaceIsDead(name)
      let kinds = own.map { $0 == .pid && dead ? "pid (dead)" : $0.rawValue }
      rows.append([name == current ? "*" : " ", name, own.isEmpty ? "none" : kinds.joined(separator: " ")])
    }
    return DiffTable.table(rows)
  }

  /// Every box's namespace labels beside the host's.
  func namespaceTable() -> [String] {
    var rows = [[""] + NamespaceKind.allCases.map(\.rawValue)]
    for name in ["host"] + boxNames {
      rows.append(
        [name]
          + NamespaceKind.allCases.map { tree.value(at: StatePath(keys: name, "ns", $0.rawValue))?.stringValue ?? "-" })
    }
    return DiffTable.table(rows)
  }

  func stateJSON() -> String {
    var m = StateMap()
    m["backend"] = .string(kernel.backend.rawValue)
    m["state"] = tree
    return JSON.encode(.map(m))
  }

  /// Resolves a state path, or fails naming the nearest known path (docs/state-paths.md).
  func lookup(_ text: String) throws -> (StatePath, StateValue) {
    let path: StatePath
    do {
      path = try StatePath.parse(text)
    } catch {
      throw LabError(
        "\(quotedForTerminal(text)) is not a state path",
        [
          ("where", "column \(error.column)"), ("rule", error.reason),
          ("example", "web.ns.uts or web.mounts[\"/proc\"]"),
        ])
    }
    if let value = tree.value(at: path) { return (path, value) }
    let known = tree.allPaths().map(\.description)
    var details: [(String, String)] = []
    if let near = Nearest.match(path.description, in: known, maxDistance: max(3, path.description.count / 2)) {
      details.append(("nearest", near))
    } else {
      // Suggest the longest prefix that exists.
      var prefix = path.components
      while !prefix.isEmpty, tree.value(at: StatePath(prefix)) == nil { prefix.removeLast() }
      details.append(("nearest", prefix.isEmpty ? "host" : StatePath(prefix).description))
    }
    details.append(("see", "state lists every path"))
    throw LabError("no state path \(path.description)", details)
  }
}
