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

  /// Writes through a temporary file and rename(2), so a reader never sees half a file.
  static func write(_ path: String, _ text: String) throws(Failure) {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failure(path: tmp, errno: errno) }
    var bytes = Array(text.utf8)
    let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard n == bytes.count, rename(tmp, path) == 0 else { throw Failure(path: path, errno: errno) }
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
