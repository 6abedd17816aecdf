import Foundation

/// One scratch directory per test process, removed when the process exits (atexit(3)), so tests
/// that make state homes, recordings and transcript files leave nothing in /tmp.
enum TestScratch {
  static let root: String = {
    let dir = NSTemporaryDirectory() + "boxwalk-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: TestScratch.root) }
    return dir
  }()

  /// A fresh path inside the scratch directory.
  static func path(_ name: String) -> String { root + "/" + name + "-" + UUID().uuidString }
}
