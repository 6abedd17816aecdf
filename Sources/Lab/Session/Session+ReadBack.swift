import Kernel

extension Session {
  /// Reads the kernel again after `step`, only as far as the step can reach (`Step.readBack`):
  /// its box, the boxes sharing the namespace it changed, the host or the image store when it
  /// can have changed them, everything when its effect crosses namespaces. The tree is rebuilt
  /// from the merged facts, and the builder reuses the subtree of every box whose facts are the
  /// same, so the diff skips those too.
  func readBack(after step: Step) throws -> StateValue {
    let scope = step.readBack(in: facts)
    do {
      // In place: the session holds the only copy of its facts, so the boxes the step did not
      // reach are neither copied nor looked at.
      try kernel.readBack(scope, into: &facts)
    } catch {
      throw LabError("could not read the kernel state", [("call", error.description)])
    }
    // The check builds the whole tree from the same builder first: a tree built only for the
    // boxes the step reached must be that very tree, labels and all.
    var whole: StateValue?
    if checkReadBack {
      var copy = builder
      whole = copy.build(facts)
    }
    // The session lets go of the last tree (the step's caller keeps only what the builder says it
    // replaced), so that the builder changes the root where it is instead of copying it.
    tree = .map(StateMap())
    tree = builder.build(facts, scope: scope)
    if let whole, whole != tree {
      let differences = StateDiff.between(tree, whole)
      tree = builder.build(facts)
      throw LabError(
        "internal: the state tree built for this \(step.kindName) step's reach differs from the whole tree",
        differences.prefix(8).map { ("differs", "\($0.path): built \(show($0.old)), whole \(show($0.new))") }
          + [("fix", "a bug in boxwalk's tree builder (StateTreeBuilder.build(_:scope:)): please report it")])
    }
    if checkReadBack { try compareWithFullRead(step, scope) }
    return tree
  }

  /// The consistency check: the state a full read gives must be the one read back, as the
  /// learner would see it (volatile values left out, docs/state-paths.md). Both trees are built
  /// afresh, so their labels come from the facts alone. On a difference the session carries on
  /// from the full read, and the step fails with the paths that differ.
  private func compareWithFullRead(_ step: Step, _ scope: ReadBack) throws {
    let full: KernelFacts
    do { full = try kernel.facts() } catch {
      throw LabError("could not read the kernel state", [("call", error.description)])
    }
    var a = StateTreeBuilder()
    var b = StateTreeBuilder()
    let partial = a.build(facts)
    let whole = b.build(full)
    let differences = StateDiff.between(partial, whole)
    guard !differences.isEmpty else { return }
    facts = full
    tree = builder.build(full)
    let read = scope.everything ? "everything" : (scope.boxes.isEmpty ? "no box" : scope.boxes.joined(separator: ", "))
    throw LabError(
      "internal: the state read back after this \(step.kindName) step differs from a full read",
      [("read", read + (scope.host ? ", the host" : "") + (scope.images ? ", the image store" : ""))]
        + differences.prefix(8).map { ("differs", "\($0.path): read back \(show($0.old)), full read \(show($0.new))") }
        + [("fix", "a bug in boxwalk's read-back rule (Step.readBack): please report it")])
  }

  private func show(_ value: StateValue?) -> String {
    value.map { JSON.encode($0) } ?? "nothing"
  }
}
