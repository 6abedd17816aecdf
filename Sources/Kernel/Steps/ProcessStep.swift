/// The steps of a box's process: the box's start and end, and the programs run and killed in it.
/// Everything the Kernel layer knows of them is here (see Step).
public enum ProcessStep: Equatable, Hashable, Sendable {
  /// Start the process that will hold a new box's namespaces. It shares every host namespace.
  case boxNew(box: String)
  /// Kill a box's processes; namespaces nobody else uses die with them.
  case boxRemove(box: String)
  /// fork(2) + execvp(3) a program in the box; in the foreground boxwalk waits for it (wait4(2)).
  case run(box: String, argv: [String], background: Bool)
  /// kill(2) a box process, named by its PID as the box sees it, with SIGKILL.
  case kill(box: String, pid: Int)

  /// The box the step acts on.
  var box: String {
    switch self {
    case .boxNew(let b), .boxRemove(let b), .run(let b, _, _), .kill(let b, _): b
    }
  }

  var owner: Owner { .box(box) }

  var kindName: String {
    switch self {
    case .boxNew: "box-new"
    case .boxRemove: "box-rm"
    case .run: "run"
    case .kill: "kill"
    }
  }

  var plan: [SystemCall] {
    switch self {
    case .boxNew:
      // fork(2) the helper, ask the kernel to kill it if boxwalk dies (prctl(2)), then run it.
      return [.fork, .prctlDeathSignal, .execve(program: "boxwalk-helper")]
    case .boxRemove(let box):
      return [.kill(box: box, pid: nil), .waitpid(box: box)]
    case .run(_, let argv, let background):
      // execvp(3) searches PATH like a shell; the directory it finds differs between hosts.
      return background ? [.fork, .execvp(argv: argv)] : [.fork, .execvp(argv: argv), .wait4Child]
    case .kill(let box, let pid):
      return [.kill(box: box, pid: pid)]
    }
  }

  func readBack(in facts: KernelFacts) -> ReadBack {
    switch self {
    case .boxNew(let b):
      // fork(2): a new helper in the host's namespaces changes none of them. The host is read
      // again for the rootless backend, whose host is a process the first box may start.
      return ReadBack(boxes: [b], host: true)
    case .boxRemove(let b):
      // The box's processes die: a pid namespace whose PID 1 was one of them dies for every box
      // in it; IPC objects and hostnames live as long as their namespace. A mount namespace
      // that dies takes with it the mounts others saw through propagation, and a network
      // namespace that dies takes its end of every veth (veth(4)): read everything then.
      // A network namespace with only its loopback joins nothing: what dies with it is seen only
      // by the boxes in it (the sockets its helper held), read as sharers.
      guard let box = facts.box(b) else { return .all }
      if box.process.namespaces[.mnt] != facts.host.namespaces[.mnt] || facts.isWiredToOthers(b) { return .all }
      return facts.sharers(of: b, [.uts, .ipc, .pid, .time, .net], includeHostNamespace: false)
    case .run(let b, _, _), .kill(let b, _):
      return ProcessStep.programReadBack(b, in: facts)
    }
  }

  /// What a program in box `b` can change. A program can change what its namespaces hold (a
  /// hostname, an IPC object, a mount), and when the PID 1 of a pid namespace exits every
  /// process in that namespace dies (pid_namespaces(7)). A program in a wired network namespace
  /// may change a link whose other end is elsewhere. `stress` runs a program too.
  static func programReadBack(_ b: String, in facts: KernelFacts) -> ReadBack {
    if facts.isWiredToOthers(b) { return .all }
    if facts.box(b).map({ $0.process.namespaces[.mnt] != facts.host.namespaces[.mnt] }) == true {
      // Its own mount namespace: a program's mount may propagate to a peer.
      return .all
    }
    return facts.sharers(of: b, [.uts, .ipc]).with(facts.sharers(of: b, [.pid], includeHostNamespace: false))
  }
}
