import Glibc
import Lab

/// Lesson progress in files (lessons/README.md): one small `ID.progress` file per lesson under
/// `$XDG_STATE_HOME/boxwalk/progress/`, written through a temporary file and rename(2) so a
/// crash never leaves half a file, and a `welcomed` marker for the first-run welcome.
final class FileProgressStore: LessonProgressStore {
  let directory: String

  init(directory: String) { self.directory = directory }

  /// The learner's store, or nil when there is no home directory to keep it in.
  static func standard() -> FileProgressStore? {
    Paths.stateHome.map { FileProgressStore(directory: $0 + "/progress") }
  }

  func file(_ lesson: String) -> String { directory + "/" + lesson + ".progress" }

  func load(lesson id: String) -> LessonProgress? {
    guard let bytes = try? Files.read(file(id)) else { return nil }
    guard let progress = LessonProgress.decode(String(decoding: bytes, as: UTF8.self)), progress.lesson == id else {
      return nil
    }
    return progress
  }

  func save(_ progress: LessonProgress) throws(LabError) {
    Paths.makeDirectories(directory)
    do {
      try Files.write(file(progress.lesson), progress.encoded)
    } catch {
      throw LabError("cannot write \(error.message)", [])
    }
  }

  var welcomed: Bool { access(directory + "/welcomed", F_OK) == 0 }

  func markWelcomed() {
    Paths.makeDirectories(directory)
    try? Files.write(directory + "/welcomed", "the first-run lesson welcome was shown\n")
  }
}

/// Writes recordings for `record FILE`.
final class RecordingFiles: LessonFileWriter {
  func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  func write(_ path: String, _ text: String) throws(LabError) {
    do {
      try Files.write(path, text)
    } catch {
      throw LabError("cannot write \(error.message)", [])
    }
  }
}
