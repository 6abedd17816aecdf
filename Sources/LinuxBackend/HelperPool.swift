import Kernel

/// Every box's helper, in creation order, and the look-up of a box's helper by name: the one
/// owner of that list (LinuxKernel+HelperPool.swift spawns, buries and notices deaths through it).
/// The lab's host side and outside are not boxes (LabHostSide); nor is the rootless anchor. The
/// list itself, its look-up and its stamp are Kernel's `BoxList`, which the simulator uses too.
typealias HelperPool = BoxList<HelperProcess>

extension HelperProcess: BoxListElement {
  var boxName: String { box }
}

extension BoxList where Element == HelperProcess {
  /// The helper of the box called `box`.
  mutating func helper(named box: String) -> HelperProcess? { index(named: box).map { self[$0] } }

  mutating func remove(_ helper: HelperProcess) { removeAll { $0 === helper } }

  func contains(_ helper: HelperProcess) -> Bool { elements.contains { $0 === helper } }
}
