import Glibc

/// Small file-system reads for the command line, with Glibc (no Foundation: it doubles start-up).
enum Files {
  struct Failure: Error {
    var path: String
    var errno: Int32
    var message: String { "\(path): \(String(cString: strerror(errno)))" }
  }

  static func read(_ path: String) throws(Failure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(path: path, errno: errno) }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw Failure(path: path, errno: errno)
      }
      if n == 0 { return out }
      out += buf[0..<n]
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
    guard let d = opendir(dir) else { throw Failure(path: dir, errno: errno) }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name.hasSuffix(suffix) && !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted()
  }
}
