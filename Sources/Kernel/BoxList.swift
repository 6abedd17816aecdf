/// A kernel's boxes, in creation order, with what both kernels need of that list: finding a box
/// by name without scanning the lab, and a stamp that says whether facts read earlier still hold
/// a prefix of it (`KernelFacts.boxListStamp`, `ReadBack.merge`). The simulator keeps its boxes
/// in one, the real kernel its box helpers (HelperPool).
///
/// Boxes are only appended or removed, and a box keeps its name: one more is the last one; fewer
/// means a box left, the places after it moved and the stamp changes.
public struct BoxList<Element: BoxListElement>: RandomAccessCollection, MutableCollection {
  public private(set) var elements: [Element] = []
  /// Changed whenever a box leaves the list; random at start, so that facts read from another
  /// kernel never carry it.
  public private(set) var stamp = UInt64.random(in: 1...(UInt64.max / 2))
  /// Where each box is, by name; nil after boxes left all at once, made again at the next look-up.
  private var places: [String: Int]? = [:]
  /// The one box that left last (`remove(at:)`): where it was, and the stamp the list had before.
  /// Facts read with that stamp hold that box at that place, and can lose it there without a
  /// look at the others (`ReadBack.apply`). nil after anything else left.
  public private(set) var lastRemoval: (place: Int, name: String, stampBefore: UInt64)?

  public init() {}

  public var startIndex: Int { elements.startIndex }
  public var endIndex: Int { elements.endIndex }
  /// A box changed in place; its name must stay (the places are by name).
  public subscript(position: Int) -> Element {
    get { elements[position] }
    set {
      assert(newValue.boxName == elements[position].boxName, "a box keeps its name")
      elements[position] = newValue
    }
  }

  /// Where the box called `name` is.
  public mutating func index(named name: String) -> Int? {
    if places == nil {
      var made: [String: Int] = [:]
      for (i, element) in elements.enumerated() { made[element.boxName] = i }
      places = made
    }
    return places?[name]
  }

  public mutating func append(_ element: Element) {
    places?[element.boxName] = elements.count
    elements.append(element)
  }

  @discardableResult
  public mutating func remove(at index: Int) -> Element {
    let stampBefore = stamp
    let element = elements.remove(at: index)
    // The boxes after it move one place up: their places are changed where they are, with no
    // hashing, rather than all made again at the next look-up (a lab of 1,000 boxes emptied one
    // box at a time hashed every name a million times).
    if var moved = places {
      places = nil  // the only reference: changed in place
      moved[element.boxName] = nil
      for i in moved.values.indices where moved.values[i] > index { moved.values[i] -= 1 }
      places = moved
    }
    stamp &+= 1
    lastRemoval = (index, element.boxName, stampBefore)
    return element
  }

  public mutating func removeAll(where leaves: (Element) -> Bool) {
    let before = elements.count
    elements.removeAll(where: leaves)
    if elements.count < before { left() }
  }

  /// Empties the list and returns what it held.
  @discardableResult
  public mutating func removeAll() -> [Element] {
    let all = elements
    elements = []
    if !all.isEmpty { left() }
    return all
  }

  private mutating func left() {
    places = nil
    stamp &+= 1
    lastRemoval = nil
  }
}

/// What a `BoxList` holds: something that belongs to one box, by the box's name.
public protocol BoxListElement {
  var boxName: String { get }
}
