/// Every box's helper, in creation order, and the look-up of a box's helper by name: the one
/// owner of that list (LinuxKernel+HelperPool.swift spawns, buries and notices deaths through it).
/// The lab's host side and outside are not boxes (LabHostSide); nor is the rootless anchor.
struct HelperPool {
  /// Every box, in creation order.
  private(set) var boxes: [HelperProcess] = [] {
    // Not `oldValue`: naming it would copy the list on every change. Helpers are only appended
    // or removed: one more is the last one; fewer means a box left, the places after it moved,
    // and facts read before no longer hold a prefix of the list (KernelFacts.boxListStamp).
    didSet {
      if boxes.count == count + 1, let last = boxes.last, places != nil {
        places?[last.box] = boxes.count - 1
      } else if boxes.count != count || boxes.count != places?.count {
        places = nil
      }
      if boxes.count < count { stamp &+= 1 }
      count = boxes.count
    }
  }
  private var count = 0
  /// Changed whenever a box leaves `boxes`; random at start, so facts from another kernel never
  /// carry it.
  private(set) var stamp = UInt64.random(in: 1...(UInt64.max / 2))
  /// Where each box's helper is in `boxes`, by name, so that finding a box's helper does not
  /// scan the lab; nil after a box left, and made again at the next look-up.
  private var places: [String: Int]? = [:]

  /// The helper of the box called `box`.
  mutating func helper(named box: String) -> HelperProcess? { index(named: box).map { boxes[$0] } }

  mutating func index(named box: String) -> Int? {
    if places == nil {
      var found: [String: Int] = [:]
      for (i, helper) in boxes.enumerated() { found[helper.box] = i }
      places = found
    }
    return places?[box]
  }

  mutating func append(_ helper: HelperProcess) { boxes.append(helper) }

  mutating func remove(at index: Int) -> HelperProcess { boxes.remove(at: index) }

  mutating func remove(_ helper: HelperProcess) { boxes.removeAll { $0 === helper } }

  /// Empties the pool and returns what it held.
  mutating func removeAll() -> [HelperProcess] {
    let all = boxes
    boxes = []
    return all
  }

  func contains(_ helper: HelperProcess) -> Bool { boxes.contains { $0 === helper } }
}
