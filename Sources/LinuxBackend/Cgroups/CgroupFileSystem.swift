import Kernel
import Glibc

/// The file operations a cgroup driver makes, behind a seam so that a test can play the kernel in
/// a temporary directory: there, a new directory must be given interface files and rmdir(2) must
/// remove them, as cgroupfs does (the root is a parameter, the seam injected). Paths are absolute.
protocol CgroupFileSystem: Sendable {
  /// mkdir(2), mode 0755.
  func makeDirectory(_ path: String) throws(SystemCallError)
  /// rmdir(2).
  func removeDirectory(_ path: String) throws(SystemCallError)
  func read(_ path: String) throws(SystemCallError) -> String
  /// One write(2) of the whole value: the kernel parses each write on its own, so a value must
  /// never be split over two calls.
  func write(_ path: String, _ value: String) throws(SystemCallError)
  /// Names of the subdirectories (child cgroups) of `path`.
  func subdirectories(_ path: String) throws(SystemCallError) -> [String]
  /// Is there a directory (true), a file (false), or nothing (nil) at `path`?
  func isDirectory(_ path: String) -> Bool?
}

/// The real thing: plain system calls, as on /sys/fs/cgroup.
struct HostCgroupFileSystem: CgroupFileSystem {
  func makeDirectory(_ path: String) throws(SystemCallError) {
    guard mkdir(path, 0o755) == 0 else {
      throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(path)), 0755)", errno: errno)
    }
  }

  func removeDirectory(_ path: String) throws(SystemCallError) {
    guard rmdir(path) == 0 else { throw SystemCallError(call: "rmdir(\(SmallFiles.quoted(path)))", errno: errno) }
  }

  func read(_ path: String) throws(SystemCallError) -> String { try SmallFiles.readText(path) }

  /// open(2) with O_TRUNC, as the shell's `>` does (harmless on cgroupfs, needed on a plain file),
  /// but never O_CREAT: a missing interface file means a controller is not enabled, and must
  /// fail with ENOENT instead of creating an ordinary file.
  func write(_ path: String, _ value: String) throws(SystemCallError) {
    let call = "write(\(SmallFiles.quoted(path)), \"\(value)\")"
    let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: call, errno: errno) }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    var n: Int
    repeat {
      n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    } while n < 0 && errno == EINTR
    guard n >= 0 else { throw SystemCallError(call: call, errno: errno) }
    // A short write would hand the kernel half a value; cgroupfs never does that for a page or less.
    guard n == bytes.count else { throw SystemCallError(call: call, errno: EIO) }
  }

  func subdirectories(_ path: String) throws(SystemCallError) -> [String] {
    try SmallFiles.list(path).filter { isDirectory(path + "/" + $0) == true }
  }

  func isDirectory(_ path: String) -> Bool? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return info.st_mode & S_IFMT == S_IFDIR
  }
}

/// Sends SIGKILL to a process: returns 0 or the errno. A parameter of the drivers, so tests that
/// play the kernel in a temporary directory never signal a real process by accident.
typealias ProcessSignaller = @Sendable (Int32) -> Int32

/// kill(2) with SIGKILL.
let killProcess: ProcessSignaller = { pid in Glibc.kill(pid, SIGKILL) == 0 ? 0 : errno }
