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
    return threads(inStatus: bytes)
  }

  /// The number on the `Threads:` line, found as bytes: this runs at every helper start (every
  /// `box new`), and decoding the whole file into Swift strings showed in its profile.
  static func threads(inStatus bytes: [UInt8]) -> Int? {
    let key = Array("\nThreads:".utf8)
    guard bytes.count > key.count else { return nil }
    for start in 0...(bytes.count - key.count) where bytes[start..<start + key.count].elementsEqual(key) {
      var i = start + key.count
      while i < bytes.count && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i += 1 }
      var value = 0
      var digits = 0
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), digits < 9 {
        value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
        i += 1
        digits += 1
      }
      return digits > 0 ? value : nil
    }
    return nil
  }
}
