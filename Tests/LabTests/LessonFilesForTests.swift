import Foundation

/// File reading for the lesson tests (Foundation is fine in tests).
enum LessonFilesForTests {
  static func list(_ dir: String) -> [String]? {
    (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".md") && $0 != "README.md" }
      .sorted()
  }

  static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
}
