/// A Linux errno, named symbolically. strerror(3) text differs between C libraries, so boxwalk
/// prints the symbol (EPERM) and a short meaning of its own. An errno this table does not know is
/// kept as its number: learners will meet odd ones, and a crash would teach nothing.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  public static let EPERM = Errno(rawValue: 1)
  public static let ENOENT = Errno(rawValue: 2)
  public static let ESRCH = Errno(rawValue: 3)
  public static let EINTR = Errno(rawValue: 4)
  public static let EIO = Errno(rawValue: 5)
  public static let E2BIG = Errno(rawValue: 7)
  public static let ENOEXEC = Errno(rawValue: 8)
  public static let ETXTBSY = Errno(rawValue: 26)
  public static let EMSGSIZE = Errno(rawValue: 90)
  public static let ETIMEDOUT = Errno(rawValue: 110)
  public static let EBADF = Errno(rawValue: 9)
  public static let ECHILD = Errno(rawValue: 10)
  public static let EAGAIN = Errno(rawValue: 11)
  public static let ENOMEM = Errno(rawValue: 12)
  public static let EACCES = Errno(rawValue: 13)
  public static let EFAULT = Errno(rawValue: 14)
  public static let EBUSY = Errno(rawValue: 16)
  public static let EEXIST = Errno(rawValue: 17)
  public static let ENODEV = Errno(rawValue: 19)
  public static let ENOTDIR = Errno(rawValue: 20)
  public static let EISDIR = Errno(rawValue: 21)
  public static let EINVAL = Errno(rawValue: 22)
  public static let EMFILE = Errno(rawValue: 24)
  public static let ENOSPC = Errno(rawValue: 28)
  public static let EROFS = Errno(rawValue: 30)
  public static let EPIPE = Errno(rawValue: 32)
  public static let ERANGE = Errno(rawValue: 34)
  public static let ENAMETOOLONG = Errno(rawValue: 36)
  public static let ENOSYS = Errno(rawValue: 38)
  public static let ENOTEMPTY = Errno(rawValue: 39)
  public static let ELOOP = Errno(rawValue: 40)
  public static let EUSERS = Errno(rawValue: 87)
  public static let EPROTO = Errno(rawValue: 71)
  public static let EOPNOTSUPP = Errno(rawValue: 95)
  public static let ECONNRESET = Errno(rawValue: 104)
  public static let EADDRNOTAVAIL = Errno(rawValue: 99)
  public static let ENETDOWN = Errno(rawValue: 100)
  public static let ENETUNREACH = Errno(rawValue: 101)
  public static let EADDRINUSE = Errno(rawValue: 98)
  public static let EHOSTUNREACH = Errno(rawValue: 113)
  public static let ECONNREFUSED = Errno(rawValue: 111)
  public static let EFBIG = Errno(rawValue: 27)
  public static let EBADMSG = Errno(rawValue: 74)
  public static let EOVERFLOW = Errno(rawValue: 75)
  public static let EXDEV = Errno(rawValue: 18)

  private static let table: [Int32: (String, String)] = [
    1: ("EPERM", "operation not permitted"), 2: ("ENOENT", "no such file or directory"),
    3: ("ESRCH", "no such process"), 4: ("EINTR", "interrupted system call"),
    5: ("EIO", "input/output error"), 7: ("E2BIG", "argument list too long"),
    8: ("ENOEXEC", "exec format error"), 26: ("ETXTBSY", "text file busy"),
    90: ("EMSGSIZE", "message too long"), 110: ("ETIMEDOUT", "connection timed out"),
    9: ("EBADF", "bad file descriptor"), 10: ("ECHILD", "no child processes"),
    11: ("EAGAIN", "resource temporarily unavailable"), 12: ("ENOMEM", "out of memory"),
    13: ("EACCES", "permission denied"), 14: ("EFAULT", "bad address"),
    16: ("EBUSY", "device or resource busy"), 17: ("EEXIST", "file exists"),
    19: ("ENODEV", "no such device"), 20: ("ENOTDIR", "not a directory"),
    21: ("EISDIR", "is a directory"), 22: ("EINVAL", "invalid argument"), 24: ("EMFILE", "too many open files"),
    28: ("ENOSPC", "no space left on device"), 30: ("EROFS", "read-only file system"),
    32: ("EPIPE", "broken pipe"), 34: ("ERANGE", "result out of range"),
    36: ("ENAMETOOLONG", "file name too long"), 38: ("ENOSYS", "function not implemented"),
    39: ("ENOTEMPTY", "directory not empty"), 40: ("ELOOP", "too many levels of symbolic links"),
    71: ("EPROTO", "protocol error"), 87: ("EUSERS", "too many users"),
    95: ("EOPNOTSUPP", "operation not supported"), 104: ("ECONNRESET", "connection reset by peer"),
    99: ("EADDRNOTAVAIL", "cannot assign requested address"), 100: ("ENETDOWN", "network is down"),
    98: ("EADDRINUSE", "address already in use"), 101: ("ENETUNREACH", "network is unreachable"),
    113: ("EHOSTUNREACH", "no route to host"),
    111: ("ECONNREFUSED", "connection refused"), 27: ("EFBIG", "file too large"), 74: ("EBADMSG", "bad message"),
    75: ("EOVERFLOW", "value too large for defined data type"),
    18: ("EXDEV", "invalid cross-device link"),
  ]

  /// `EPERM`, or `errno 200` for a value the table does not know.
  public var name: String { Self.table[rawValue]?.0 ?? "errno \(rawValue)" }
  public var meaning: String { Self.table[rawValue]?.1 ?? "unknown error" }
  public var description: String { name }
}
