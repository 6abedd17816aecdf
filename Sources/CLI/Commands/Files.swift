import Glibc
import LinuxBackend

/// Small file-system reads for the command line, with Glibc (no Foundation: it doubles start-up).
enum Files {
  struct Failure: Error {
    var path: String
    var errno: Int32
    /// What is wrong when it is not an errno: "not a regular file (a FIFO)".
    var reason: String?
    var message: String { "\(path): \(reason ?? String(cString: strerror(errno)))" }
  }

  /// The most a file boxwalk is given to read (a transcript, a lesson, a progress file) may hold.
  static let inputLimit = 4 << 20

  /// Reads a file named on the command line or found in a lessons or transcripts directory:
  /// the one function every such reader shares. It must be a regular file of at most `limit`
  /// bytes. /dev/zero never ends and a FIFO (fifo(7)) blocks open(2) until some writer comes,
  /// so the file is opened with O_NONBLOCK (a FIFO then opens at once), fstat(2) decides what it
  /// is, and the read stops after `limit` bytes even if the file grows meanwhile. Symbolic links
  /// are followed, as cat(1) follows them: the user named the file.
  static func read(_ path: String, limit: Int = inputLimit) throws(Failure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { throw Failure(path: path, errno: errno) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw Failure(path: path, errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else {
      throw Failure(path: path, errno: EINVAL, reason: "not a regular file (\(kind(st.st_mode)))")
    }
    let tooBig = { (size: Int) in
      Failure(
        path: path, errno: EFBIG, reason: "\(size) bytes, more than the \(limit >> 20) MiB an input file may hold")
    }
    guard st.st_size <= limit else { throw tooBig(Int(st.st_size)) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while bytes.count <= limit {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw Failure(path: path, errno: errno) }
      if n == 0 { break }
      bytes += chunk.prefix(n)
    }
    guard bytes.count <= limit else { throw tooBig(bytes.count) }
    return bytes
  }

  /// What a file type is called, for "not a regular file (...)" (inode(7), S_IFMT).
  static func kind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: "a directory"
    case S_IFIFO: "a FIFO"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFSOCK: "a socket"
    case S_IFLNK: "a symbolic link"
    default: "an unknown kind of file"
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

  /// Creates a new file and writes it: O_CREAT|O_EXCL|O_NOFOLLOW, so an existing file, or a
  /// symbolic link planted at the name (even a dangling one), is refused with EEXIST rather than
  /// followed or overwritten (open(2)). For files that must never replace another (a lesson
  /// draft). A failed write unlinks the half-written file.
  static func create(_ path: String, _ text: String) throws(Failure) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failure(path: path, errno: errno) }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        let failure = Failure(path: path, errno: n < 0 ? errno : EIO)
        unlink(path)
        throw failure
      }
      bytes = bytes.dropFirst(n)
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
