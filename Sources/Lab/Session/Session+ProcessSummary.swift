import Kernel

// The one sentence after a process step (Session.summary): the box's start and end, and the
// programs run and killed in it.
extension Session {
  func processSummary(_ step: ProcessStep, _ result: StepResult, before: FactsBefore, after t: StateValue) -> [String] {
    func label(_ box: String, _ kind: NamespaceKind) -> String { namespaceLabel(box, kind, in: t) }
    func died(_ box: String) -> [String] { pidNamespaceDeath(box, before: before, after: t) }
    func program(_ argv: [String]) -> String {
      "`" + escapedForTerminal(argv.map(ShellWord.quote).joined(separator: " ")) + "`"
    }
    // `t` is the tree just built from `facts` (readBack), so the facts decide.
    let ownPIDs = { (box: String) in !self.shares(box, .pid) }
    switch step {
    case .run(let box, let argv, let background):
      let where_ = ownPIDs(box) ? "as PID \(result.boxPID ?? 0) in \(label(box, .pid))" : "in the host's pid namespace"
      let first =
        background
        ? "started \(program(argv)) in the background \(where_)"
        : "\(program(argv)) ran \(where_): \(result.exit?.description ?? "no status")"
      return [first] + died(box)
    case .kill(let box, let pid):
      return ["killed PID \(pid) of \(box) with SIGKILL"] + died(box)
    case .boxNew(let box):
      return ["created box \(box): one process, sharing every namespace with the host"]
    case .boxRemove(let box):
      return ["removed box \(box): its process is gone, and with it every namespace only it used"]
    }
  }
}
