import Glibc

/// The start-up check that this process has exactly one thread.
enum SelfCheck {
  /// The `Threads:` line of /proc/self/status (proc(5)), or nil if it cannot be read.
  static func threadCount() -> Int? {
    let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { break }
      bytes.append(contentsOf: chunk[0..<n])
    }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Threads:") {
      return Int(line.dropFirst("Threads:".count).filter { !$0.isWhitespace })
    }
    return nil
  }
}
