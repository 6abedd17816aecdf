import Glibc
import Lab

/// Finds and reads the lesson files (lessons/README.md): `$BOXWALK_LESSONS`, else `lessons/` in the
/// current directory, else the `lessons/` of the source tree the binary was built in (walking up
/// from the executable), else the installed copy under /usr/local/share or /usr/share.
struct LessonCatalog {
  var lessons: [Lesson] = []
  /// Files that did not parse: `path:line:col: message`, left out of the catalog.
  var problems: [String] = []
  /// The directory the lessons came from, nil when none was found.
  var directory: String?

  static func load() -> LessonCatalog {
    guard let dir = directory() else { return LessonCatalog() }
    return load(dir)
  }

  static func load(_ dir: String) -> LessonCatalog {
    var catalog = LessonCatalog(directory: dir)
    let names: [String]
    do {
      names = try Files.list(dir, suffix: ".md")
    } catch {
      catalog.problems.append("cannot read \(error.message)")
      return catalog
    }
    for name in names where name != "README.md" {
      switch read(dir + "/" + name) {
      case .success(let lesson): catalog.lessons.append(lesson)
      case .failure(let problem): catalog.problems.append(problem.text)
      }
    }
    return catalog
  }

  struct Problem: Error {
    var text: String
    /// Whether the file could not be read at all (rather than parsed).
    var unreadable: Bool
  }

  /// Reads and parses one lesson file.
  static func read(_ path: String) -> Result<Lesson, Problem> {
    let bytes: [UInt8]
    do {
      bytes = try Files.read(path)
    } catch {
      return .failure(Problem(text: "cannot read \(error.message)", unreadable: true))
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      return .failure(Problem(text: "\(path): not valid UTF-8", unreadable: false))
    }
    do {
      return .success(try Lesson.parse(path: path, text: text))
    } catch {
      return .failure(Problem(text: error.description, unreadable: false))
    }
  }

  static func directory() -> String? {
    if let dir = Paths.env("BOXWALK_LESSONS") { return dir }
    if Files.isDirectory("lessons") { return "lessons" }
    if let exe = ownExecutable() {
      var dir = exe
      for _ in 0..<5 {
        guard let slash = dir.lastIndex(of: "/"), slash != dir.startIndex else { break }
        dir = String(dir[..<slash])
        if Files.isDirectory(dir + "/lessons") && Files.isDirectory(dir + "/Sources") { return dir + "/lessons" }
      }
    }
    return ["/usr/local/share/boxwalk/lessons", "/usr/share/boxwalk/lessons"].first { Files.isDirectory($0) }
  }

  /// This process's executable, from /proc/self/exe (readlink(2)).
  static func ownExecutable() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
