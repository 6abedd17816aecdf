import Kernel

/// System V IPC (sysvipc(7)): objects live in the IPC namespace of the process that made them.
extension SimulatedKernel {
  /// msgget/shmget/semget with IPC_CREAT|IPC_EXCL: EEXIST when the key is taken in this
  /// namespace. Key 0 is IPC_PRIVATE: always a new object.
  func ipcNew(_ i: Int, _ kind: IPCKind, _ key: Int32, _ step: Step) throws(KernelError) {
    guard let inode = boxes[i].process.ns[.ipc], var ns = namespaces[inode] else { throw missing(step, step.box) }
    if key != 0, ns.ipc.contains(IPCObjectFacts(kind: kind, key: key)) {
      throw KernelError(step: step, call: step.calls[0], errno: .EEXIST)
    }
    ns.ipc.append(IPCObjectFacts(kind: kind, key: key))
    namespaces[inode] = ns
  }
}
