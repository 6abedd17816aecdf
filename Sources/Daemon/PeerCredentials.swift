import Glibc
import NIOCore

/// Who is on the other end of a connection to the daemon's Unix socket.
///
/// The kernel records the credentials of the process that called connect(2) on a Unix stream
/// socket, and getsockopt(SO_PEERCRED) reads them back as a `struct ucred` (pid, uid, gid; see
/// unix(7) and socket(7)). Unlike anything the client could send in a header, these cannot be
/// forged: they are what the kernel saw. The daemon decides on them who owns a session.
public struct PeerCredentials: Sendable, Equatable {
  public var pid: Int32
  public var uid: UInt32
  public var gid: UInt32

  public init(pid: Int32, uid: UInt32, gid: UInt32) {
    self.pid = pid
    self.uid = uid
    self.gid = gid
  }

  /// Root may list every session; everyone else sees their own.
  public var isRoot: Bool { uid == 0 }

  /// Reads SO_PEERCRED from an accepted connection.
  ///
  /// Hummingbird hands each request's context the NIO `Channel` it arrived on; NIO's socket
  /// channels conform to `SocketOptionProvider`, whose `unsafeGetSocketOption` runs getsockopt(2)
  /// on the channel's own event loop with the option and the C type we name. Nothing else is
  /// reached around the library: no file descriptor leaves NIO.
  static func of(_ channel: any Channel) async throws -> PeerCredentials {
    guard let provider = channel as? any SocketOptionProvider else { throw PeerCredentialsError.unsupported }
    let cred: UCred = try await provider.unsafeGetSocketOption(
      level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
    ).get()
    return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
  }
}

/// `struct ucred` of <sys/socket.h>: three 32-bit fields, pid_t, uid_t and gid_t, in that order.
/// glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not set, so the
/// same layout is spelt out here (getsockopt(2) fills exactly these 12 bytes).
struct UCred: Sendable {
  var pid: Int32 = 0
  var uid: UInt32 = 0
  var gid: UInt32 = 0
}

enum PeerCredentialsError: Error {
  case unsupported
}
