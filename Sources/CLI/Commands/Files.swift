import Glibc
import LinuxBackend

/// Small file-system reads for the command line, with Glibc (no Foundation: it doubles start-up).
enum Files {
  struct Failure: Error {
    var path: String
    var errno: Int32
    var message: String { "\(path): \(String(cString: strerror(errno)))" }
  }

  static func read(_ path: String) throws(Failure) -> [UInt8] {
    do {
      return try SmallFiles.read(path)
    } catch {
      throw Failure(path: path, errno: error.errno)
    }
  }

  /// Writes through a new temporary file and rename(2) (SafeFiles): a reader never sees half a
  /// file, and a symbolic link planted at the temporary name or at `path` is never followed.
  static func write(_ path: String, _ text: String) throws(Failure) {
    do {
      try SafeFiles.replace(path, with: Array(text.utf8), mode: 0o644, durable: false)
    } catch {
      throw Failure(path: path, errno: error.errno)
    }
  }

  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// The names in a directory that end in `suffix`, sorted (readdir order is unspecified).
  static func list(_ dir: String, suffix: String) throws(Failure) -> [String] {
    do {
      return try SmallFiles.list(dir).filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }.sorted()
    } catch {
      throw Failure(path: dir, errno: error.errno)
    }
  }

}
