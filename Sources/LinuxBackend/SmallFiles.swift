import Glibc

/// Whole-file reads of small files (/proc entries, the ledger), atomic replacement, directory
/// listings: the few file operations the backend needs, with plain system calls (no Foundation in
/// the hot path, notes/performance.md).
package enum SmallFiles {
  /// read(2) the whole file.
  package static func read(_ path: String) throws(SystemCallError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: "open(\(quoted(path)))", errno: errno) }
    defer { close(fd) }
    return try FileDescriptors.readAll(fd, shown: quoted(path), limit: .max, chunk: 4096)
  }

  package static func readText(_ path: String) throws(SystemCallError) -> String {
    String(decoding: try read(path), as: UTF8.self)
  }

  /// Replace `path` with `text` so that a reader sees the old file or the new one, never a
  /// half-written one, through a new temporary file (see SafeFiles). `durable` also fsync(2)s it
  /// first, so the new text survives a crash of the machine, not only of this process.
  static func replace(_ path: String, with text: String, durable: Bool = true) throws(SystemCallError) {
    try SafeFiles.replace(path, with: Array(text.utf8), mode: 0o600, durable: durable)
  }

  /// The names in a directory (readdir(3)), without "." and "..".
  package static func list(_ directory: String) throws(SystemCallError) -> [String] {
    guard let dir = opendir(directory) else {
      throw SystemCallError(call: "opendir(\(quoted(directory)))", errno: errno)
    }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// readlink(2).
  static func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let n = readlink(path, &buffer, buffer.count)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// A path as strace prints it.
  static func quoted(_ path: String) -> String { "\"" + path + "\"" }
}
