import HelperWire
import Kernel

// The IPC objects a box makes, System V and POSIX, in its IPC namespace: those made in the host's
// IPC namespace are remembered, to be removed at teardown (ipc_namespaces(7)).
extension LinuxKernel {
  /// `ipc new`: msgget(2), shmget(2) or semget(2) with IPC_CREAT|IPC_EXCL, made by the helper.
  func ipcNew(_ box: String, _ kind: IPCKind, _ key: Int32, step: Step) throws(KernelError) {
    let helper = try helper(of: box, step: step)
    let answers = try make(step) { entry throws(KernelError) in
      guard case .sysvGet = entry else { throw unplanned(entry, step) }
      return .helper(.namespace(.sysvGet(kind: Self.wireKind(kind), key: key)), helper)
    }
    guard let created = answers.answer(where: { if case .sysvGet = $0 { true } else { false } }, as: IPCCreated.self)
    else { throw outOfProtocol(step) }
    if sharesHostIPC(box) {
      hostIPC.append((kind.rawValue, key, created.id))
      try? session?.record(.ipc(kind: kind.rawValue, key: key, id: created.id))
    }
  }

  /// `mq new`: mq_open(3) with O_CREAT|O_EXCL, made by the helper.
  func posixMQNew(_ box: String, _ name: String, step: Step) throws(KernelError) {
    let helper = try helper(of: box, step: step)
    let answers = try make(step) { entry throws(KernelError) in
      guard case .mqOpen = entry else { throw unplanned(entry, step) }
      return .helper(.namespace(.mqOpen(name: Array(name.utf8))), helper)
    }
    guard let created = answers.answer(where: { if case .mqOpen = $0 { true } else { false } }, as: QueueCreated.self)
    else { throw outOfProtocol(step) }
    if !queueNames.contains(name) { queueNames.append(name) }
    if sharesHostIPC(box) {
      hostQueues.append((name, created.inode))
      try? session?.record(.posixMQ(name: name, inode: created.inode))
    }
  }

  /// A helper that made an entry but answered it with something else than its answer.
  func outOfProtocol(_ step: Step) -> KernelError {
    KernelError(step: step, call: step.firstCall, errno: .EPROTO, detail: "unexpected reply to \(step.firstCall)")
  }

  /// The helper's name for a System V IPC kind (the same three, spelled the same).
  static func wireKind(_ kind: IPCKind) -> HelperRequest.IPCKind {
    switch kind {
    case .mq: .mq
    case .shm: .shm
    case .sem: .sem
    }
  }

  func sharesHostIPC(_ box: String) -> Bool {
    guard let helper = helper(named: box) else { return false }
    return (try? procfs.namespaceInode(pid: String(helper.pid), shown: box, kind: .ipc))
      == (try? procfs.namespaceInode(pid: "self", shown: "self", kind: .ipc))
  }
}
