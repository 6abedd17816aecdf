import Glibc
import HelperWire
import NetWire

/// Networking in the helper's own network namespace: send one rtnetlink request boxwalk built,
/// dump what the namespace holds, write ip_forward, run nft(8) (the plan entries are made in
/// NetCalls.swift). A socket belongs to the network namespace its creator
/// was in when it made it (network_namespaces(7)), so every request opens a fresh socket: the
/// helper may have moved to another namespace since the last one.
enum NetOperations {
  /// Large enough for any datagram the kernel sends a dump in (it fills at most 32 KiB).
  static let receiveBuffer = 65536

  /// One request; the kernel's NLMSG_ERROR answer carries 0 or -errno.
  static func request(_ message: [UInt8]) -> Calls.Outcome {
    guard let messages = NetlinkMessage.split(message), let sent = messages.first, messages.count == 1 else {
      return .failed(errno: EINVAL, note: "not one netlink message")
    }
    let socket = RouteSocket()
    guard socket.fd >= 0 else { return .failed(errno: errno, note: "socket(AF_NETLINK)") }
    defer { socket.close() }
    guard socket.send(message) else { return .failed(errno: errno, note: nil) }
    while true {
      guard let answers = socket.receive() else { return .failed(errno: errno, note: "recvmsg") }
      for answer in answers where answer.sequence == sent.sequence {
        guard let code = answer.errorCode else { continue }
        return code == 0 ? .made() : .failed(errno: -code)
      }
    }
  }

  /// Links, IPv4 addresses, main-table routes, and the id this namespace gives each process's
  /// network namespace (RTM_GETNSID), as Dump text.
  static func dump(pids: [Int32]) -> HelperReply {
    let socket = RouteSocket()
    guard socket.fd >= 0 else { return .err(errno: errno, call: .socket, note: "socket(AF_NETLINK)") }
    defer { socket.close() }
    var dump = Dump()
    var sequence: UInt32 = 1
    for request in [RouteRequest.dumpLinks, RouteRequest.dumpAddresses, RouteRequest.dumpRoutes] {
      guard let messages = socket.dump(request(sequence), sequence: sequence) else {
        return .err(errno: errno, call: .recvmsg, note: "netlink dump")
      }
      for m in messages {
        if let link = LinkRecord(m) { dump.links.append(link) }
        if let address = AddressRecord(m) { dump.addresses.append(address) }
        if let route = RouteRecord(m) { dump.routes.append(route) }
      }
      sequence += 1
    }
    for pid in pids {
      guard socket.send(RouteRequest.getNamespaceID(pid: UInt32(bitPattern: pid), sequence: sequence)) else {
        return .err(errno: errno, call: .sendmsg, note: "RTM_GETNSID")
      }
      // One answer: RTM_NEWNSID, or an error (the process is gone).
      if let answers = socket.receive(),
        let nsid = answers.first(where: { $0.sequence == sequence }).flatMap(namespaceID)
      {
        dump.namespaceIDs.append((pid, nsid))
      }
      sequence += 1
    }
    dump.forward = readForward()
    return .answer(NetworkDump(text: dump.text))
  }

  /// /proc/sys/net shows the sysctls of the network namespace of the process that opens the file
  /// (proc_sys_net_ipv4(5)): this helper's, never the machine's, which boxwalk's own process is in.
  static let forwardPath = "/proc/sys/net/ipv4/ip_forward"

  /// Write net.ipv4.ip_forward of this helper's network namespace.
  static func setForward(_ on: Bool) -> Calls.Outcome {
    let fd = open(forwardPath, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failed(errno: errno, note: "open(" + forwardPath + ")") }
    defer { _ = Glibc.close(fd) }
    let byte: [UInt8] = [on ? UInt8(ascii: "1") : UInt8(ascii: "0")]
    guard Glibc.write(fd, byte, 1) == 1 else { return .failed(errno: errno, note: forwardPath) }
    return .made()
  }

  /// nft(8), from Debian's nftables, run by this helper: its netlink socket is in the helper's
  /// network namespace, so the ruleset it changes or lists is that namespace's. stdout and stderr
  /// are both captured (nft's errors are on stderr), and the helper waits for it.
  static func nft(_ arguments: [String]) -> Calls.Outcome {
    let candidates: [String] = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
    guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
      return .failed(errno: ENOENT, note: "nft(8) is not installed on this machine (Debian: apt-get install nftables)")
    }
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return .failed(errno: errno, note: "running nft(8)") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { for p in envp { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, &argv, &envp)
    _ = Glibc.close(fds[1])
    guard rc == 0 else {
      _ = Glibc.close(fds[0])
      return .failed(errno: rc, note: "running nft(8)")
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
      if n > 0 {
        output += buffer[0..<n]
        continue
      }
      if n < 0 && errno == EINTR { continue }
      break
    }
    _ = Glibc.close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // One helper message holds a few kilobytes: boxwalk's table is a handful of lines.
    return .made(ToolRun(end: ProgramEnd(waitStatus: status), output: Array(output.prefix(3000))).fields)
  }

  /// net.ipv4.ip_forward of this helper's network namespace; nil if it cannot be read.
  ///
  /// Every step's read-back asks for it, so the file stays open between steps and is read again
  /// with pread(2). Opening it each time cost a step in the first of 1,000 boxes half as much
  /// again as in the last (bench/analysis.md, "Scale"): each network namespace has its own
  /// /proc/sys/net entries, and the dentry cache keeps those of all namespaces under the one
  /// /proc/sys directory, on a hash chain where the newest come first; a lookup from an old
  /// namespace walks past every newer one's (fs/proc/proc_sysctl.c, proc_sys_compare).
  ///
  /// The open file keeps showing the namespace it was opened in (its table is bound at open),
  /// so it is opened again whenever what the path would resolve to may have changed: another
  /// network namespace (setns, unshare), another root (chroot, pivot_root), or another file
  /// system at /proc (a mount or umount there). Each of those is a stat(2) of a short path.
  static func readForward() -> Bool? {
    var net = stat(), root = stat(), proc = stat()
    guard stat("/proc/self/ns/net", &net) == 0, stat("/", &root) == 0, stat("/proc", &proc) == 0 else {
      forgetForward()
      return nil
    }
    let key = [UInt64(net.st_ino), UInt64(root.st_dev), UInt64(root.st_ino), UInt64(proc.st_dev), UInt64(proc.st_ino)]
    if forwardFile?.key != key {
      forgetForward()
      let fd = open(forwardPath, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { return nil }
      forwardFile = (fd, key)
    }
    guard let fd = forwardFile?.fd else { return nil }
    var byte: UInt8 = 0
    guard pread(fd, &byte, 1, 0) == 1 else {
      forgetForward()
      return nil
    }
    return byte == UInt8(ascii: "1")
  }

  /// The open ip_forward and what it was opened under (readForward).
  nonisolated(unsafe) private static var forwardFile: (fd: Int32, key: [UInt64])?

  private static func forgetForward() {
    if let fd = forwardFile?.fd { _ = Glibc.close(fd) }
    forwardFile = nil
  }

  /// if_nametoindex(3): glibc asks the kernel with ioctl(SIOCGIFINDEX) on a socket, which answers
  /// for the network namespace the socket was made in, this helper's. ENODEV: no such link here.
  static func index(of name: String) -> HelperReply {
    let index = if_nametoindex(name)
    guard index != 0 else { return .err(errno: errno, call: .ifNametoindex, note: nil) }
    return .answer(LinkIndex(index: index))
  }

  /// Each echo gets the next sequence number (the helper is single-threaded).
  nonisolated(unsafe) static var sequenceNumber: UInt16 = 0

  static func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}

/// A NETLINK_ROUTE socket (netlink(7)). Without bind(2), the kernel gives it a port id on the
/// first send, and a send without an address goes to the kernel.
struct RouteSocket {
  let fd: Int32

  init() {
    fd = socket(Netlink.AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.NETLINK_ROUTE)
    guard fd >= 0 else { return }
    // The kernel always answers; a bound on the wait keeps a surprise from hanging the helper.
    var limit = timeval(tv_sec: 5, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
  }

  func close() { _ = Glibc.close(fd) }

  func send(_ message: [UInt8]) -> Bool {
    while true {
      let n = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      return n == message.count
    }
  }

  /// The messages of the next datagram; nil on error (errno set), EPROTO if it does not parse.
  func receive() -> [NetlinkMessage]? {
    var buffer = [UInt8](repeating: 0, count: NetOperations.receiveBuffer)
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        if n == 0 { errno = EPROTO }
        return nil
      }
      guard let messages = NetlinkMessage.split(Array(buffer[0..<n])) else {
        errno = EPROTO
        return nil
      }
      return messages
    }
  }

  /// Send a dump request and collect its messages up to NLMSG_DONE. An error in the dump (an
  /// NLMSG_ERROR, or a negative NLMSG_DONE) sets errno and returns nil.
  func dump(_ request: [UInt8], sequence: UInt32) -> [NetlinkMessage]? {
    guard send(request) else { return nil }
    var collected: [NetlinkMessage] = []
    while true {
      guard let messages = receive() else { return nil }
      for m in messages where m.sequence == sequence {
        if m.type == Netlink.NLMSG_DONE {
          let code = m.body.count >= 4 ? Int32(bitPattern: HostOrder.u32(m.body, 0)) : 0
          if code < 0 {
            errno = -code
            return nil
          }
          return collected
        }
        if let code = m.errorCode, code < 0 {
          errno = -code
          return nil
        }
        collected.append(m)
      }
    }
  }
}

enum IPv4Text {
  /// Dotted IPv4 to its four bytes (the caller already checked it strictly).
  static func parse(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".").compactMap { UInt8($0) }
    return parts.count == 4 ? parts : nil
  }
}
