import Kernel

extension SimulatedKernel {
  /// `box export`: the files the simulator models for the box's root, merged as overlayfs shows
  /// them (no whiteout, no opaque mark), handed to the writer the CLI gave (`bundleWriter`).
  public func exportBundle(box: String, directory: String, config: [UInt8]) throws(KernelError) {
    let call = BundleCalls.call(box: box, directory: directory)
    guard let i = index(of: box) else { throw KernelError(call: call, errno: .ESRCH, detail: "no box named \(box)") }
    guard let id = boxes[i].process.root.id, let fs = filesystems[id] else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    var entries: [LayerEntry] = []
    for item in Overlay.merged([fs.upper] + lowerContents(fs)) {
      var entry = item.entry
      entry.path = item.path
      switch entry.kind {
      case .whiteout: continue
      case .directory: entry.kind = .directory(opaque: false)
      case .special(let kind):
        // As the real backend's reader refuses it: a layer carries no such entry.
        throw KernelError(
          call: "fstatat(\(JSON.quote(item.path))): a \(kind), not a file, directory or symbolic link", errno: .EINVAL,
          detail: "reading \(box)'s root filesystem")
      default: break
      }
      entries.append(entry)
    }
    guard let write = bundleWriter else {
      throw KernelError(call: call, errno: .ENOSYS, detail: "the simulator was given no way to write host files")
    }
    if case .failure(let e) = write(directory, config, LayerContents(entries)) {
      throw KernelError(call: e.detail ?? call, errno: e.errno)
    }
  }

  public func readBundleConfig(directory: String) throws(KernelError) -> [UInt8] {
    guard let read = bundleConfigReader else {
      throw KernelError(call: BundleCalls.readConfig(directory), errno: .ENOSYS)
    }
    switch read(directory) {
    case .success(let bytes): return bytes
    case .failure(let error):
      throw KernelError(call: BundleCalls.readConfig(directory), errno: error.errno, detail: error.detail)
    }
  }
}
