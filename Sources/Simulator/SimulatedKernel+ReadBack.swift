import Kernel

extension SimulatedKernel {
  /// The facts after a step, building again only the boxes `scope` names (and the host and the
  /// image store when it names them); every other box keeps its facts from `previous`. The
  /// simulated state is all in memory, so this is exact whenever the scope is.
  public func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts {
    var facts = previous
    try readBack(scope, into: &facts)
    return facts
  }

  /// The same, merged into `previous` where it is (`ReadBack.merge(into:...)`).
  public func readBack(_ scope: ReadBack, into previous: inout KernelFacts) throws(KernelError) {
    // A full answer made since the last step is the state now: nothing to read.
    if let factsMemo {
      previous = factsMemo
      return
    }
    if scope.everything {
      previous = try facts()
      return
    }
    var fresh: [BoxFacts] = []
    for name in scope.boxes {
      guard let i = index(of: name) else { continue }
      fresh.append(BoxFacts(name: name, process: boxFacts(name, boxes[i].process)))
    }
    let host = scope.host ? hostFacts() : nil
    let images = scope.images ? (store.imageFacts, store.layerFacts) : nil
    // Not memoised: a full read after this one (the consistency check) builds its own answer.
    if !ReadBack.apply(
      to: &previous, list: boxes, fresh: fresh, host: host, images: images)
    {
      previous = try facts()
    }
  }
}
