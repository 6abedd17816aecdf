import Foundation
import Glibc
import Testing

/// `run` is allowed in a box that shares the host's network namespace (docs/security.md, "Programs
/// in a box"): the program uses the network as a host process would, cannot change it, and what it
/// holds ends with its box.
extension BoxIsolationTests {
  /// Whether a TCP socket listens on `port` in this process's network namespace (proc(5),
  /// /proc/net/tcp and tcp6: local address HEXIP:HEXPORT, state 0A is LISTEN).
  static func listening(_ port: Int) -> Bool {
    let wanted = String(format: ":%04X", port)
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
      let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
      for line in text.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        if fields.count > 3, fields[1].hasSuffix(wanted), fields[3] == "0A" { return true }
      }
    }
    return false
  }

  @Test func aProgramInTheHostsNetworkNamespaceListensOnlyWhileItsBoxLives() throws {
    let port = 47_000 + Int(getpid() % 900)
    try #require(!Self.listening(port), "port \(port) is taken on this machine")
    let repl = try SafetyRepl.start(["--backend", "real"])
    let started = try repl.run(Self.container + ["run -d busybox nc -l -p \(port)"])
    var waited = 0
    while !Self.listening(port) && waited < 50 {
      usleep(100_000)
      waited += 1
    }
    #expect(Self.listening(port), "the box's nc does not listen on the host's port \(port): \(started)")
    // No CAP_NET_ADMIN: the network itself cannot be changed from the box.
    let out = try repl.run(["run ip link add bw-probe type dummy", "run ip addr add 192.0.2.7/32 dev lo"])
    #expect(out.filter { $0.contains("Operation not permitted") }.count == 2, "\(out)")
    #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/bw-probe"))
    repl.send(["quit"])
    repl.closeInput()
    // A program's failure is its own exit status, not a failed step: the session exits 0.
    #expect(repl.wait() == .exited(0))
    #expect(!Self.listening(port), "the box's listener outlived quit")
  }
}
