import Foundation
import Testing

@testable import Kernel

/// A box decides how many entries some maps of the state have: `fs.upper` and `fs.files` hold one
/// per file it made. Building such a map key by key, and diffing two of them, once looked every
/// key up by a scan, N*N steps in all: 20,000 files in one directory stalled every later command
/// for most of an hour. With the index it is a few steps per key.
@Suite struct StateMapScaleTests {
  @Test func aMapOfTwentyThousandKeysIsBuiltLookedUpAndDiffedQuickly() {
    let n = 20_000
    let start = Date()
    var old = StateMap()
    var new = StateMap()
    for i in 0..<n {
      old["/big/\(i)"] = .string("file")
      new["/big/\(i)"] = .string(i % 1000 == 0 ? "dir" : "file")
    }
    new["/big/extra"] = .string("fifo")
    for i in stride(from: 0, to: n, by: 7) { #expect(old["/big/\(i)"] == .string("file")) }
    let changes = StateDiff.between(.map(StateMap([("fs", .map(old))])), .map(StateMap([("fs", .map(new))])))
    let took = Date().timeIntervalSince(start)
    #expect(changes.count == n / 1000 + 1)
    // A scan per key took minutes here; the index takes well under a second (10 s leaves room for
    // a loaded machine and a debug build).
    #expect(took < 10, "took \(took) s")
  }

  /// The index gives the same answers as the scan did: the first entry of a key, set in place,
  /// removed with everything after it moving up, appended at the end.
  @Test func anIndexedMapBehavesAsTheScannedOne() {
    var m = StateMap((0..<40).map { ("k\($0)", StateValue.int($0)) } + [("k3", .int(99))])
    #expect(m["k3"] == .int(3))
    m["k5"] = nil
    #expect(m["k5"] == nil && m["k6"] == .int(6) && m.keys.count == 40)
    m["k6"] = .int(-6)
    m["new"] = .int(100)
    #expect(m["k6"] == .int(-6) && m["new"] == .int(100) && m.keys.last == "new")
    #expect(m.keys.firstIndex(of: "k6") == 5)
  }

  /// Removing the entry at a place (a box that left the root) moves the index with it, as a scan
  /// would find the keys: a key held twice is then found at its next place.
  @Test func removingAnEntryAtItsPlaceKeepsTheIndex() {
    var m = StateMap((0..<40).map { ("k\($0)", StateValue.int($0)) } + [("k3", .int(99))])
    m.remove(at: 0)
    #expect(m["k0"] == nil && m["k1"] == .int(1) && m.position(of: "k39") == 38)
    m.remove(at: 2)  // the first k3
    #expect(m["k3"] == .int(99) && m.position(of: "k3") == 38 && m.position(of: "k4") == 2)
    m.remove(at: 38)
    #expect(m["k3"] == nil && m.keys.count == 38)
    for (i, key) in m.keys.enumerated() { #expect(m.position(of: key) == i) }
  }
}
