import Kernel

extension SimulatedKernel {
  /// The facts after a step, building again only the boxes `scope` names (and the host and the
  /// image store when it names them); every other box keeps its facts from `previous`. The
  /// simulated state is all in memory, so this is exact whenever the scope is.
  public func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts {
    // A full answer made since the last step is the state now: nothing to read.
    if let factsMemo { return factsMemo }
    if scope.everything { return try facts() }
    var fresh: [BoxFacts] = []
    for name in scope.boxes {
      guard let i = index(of: name) else { continue }
      fresh.append(BoxFacts(name: name, process: boxFacts(name, boxes[i].process)))
    }
    let merged = ReadBack.merge(
      previous: previous, order: boxes.map(\.name), fresh: fresh, host: scope.host ? hostFacts() : nil,
      images: scope.images ? (store.imageFacts, store.layerFacts) : nil)
    // Not memoised: a full read after this one (the consistency check) builds its own answer.
    guard let merged else { return try facts() }
    return merged
  }
}
