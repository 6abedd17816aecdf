import Foundation
import HostSnapshotSupport
import Testing

/// While a real session runs, tools that know nothing of boxwalk must agree with it: the kernel's
/// own view (/proc/PID/status NSpid, findmnt and ipcs run inside the box's namespaces with
/// nsenter(1)) is what boxwalk printed (issue 3, "Done means").
@Suite(.serialized, .enabled(if: geteuid() == 0, "the real backend needs root"), .hostUnchanged)
struct IndependentToolsTests {
  /// A running REPL with pipes, read line by line.
  final class LiveRepl {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer = Data()
    let home = NSTemporaryDirectory() + "boxwalk-home-" + UUID().uuidString

    init() throws {
      process.executableURL = URL(fileURLWithPath: CommandLineTests.binDir + "/boxwalk")
      process.arguments = ["--backend", "real"]
      // A throwaway image store, so no test writes to /var/lib/boxwalk (docs/security.md, "Where
      // sessions live").
      process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "BOXWALK_HOME": home]) { $1 }
      process.standardInput = input
      process.standardOutput = output
      process.standardError = output
      try process.run()
    }

    /// Sends commands, then `show PATH`, and returns the shown value (the last line's value).
    func send(_ commands: [String], thenShow path: String) throws -> String {
      let text = (commands + ["show " + path]).joined(separator: "\n") + "\n"
      input.fileHandleForWriting.write(Data(text.utf8))
      while true {
        let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n")
        if let line = lines.first(where: { $0.hasPrefix(path + " = ") }) {
          buffer = Data()
          return String(line.dropFirst(path.count + 3))
        }
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
        buffer.append(chunk)
      }
    }

    var done = false

    /// Idempotent: a test may quit early to look at what teardown left, and quit again in a defer.
    func quit() {
      guard !done else { return }
      done = true
      input.fileHandleForWriting.write(Data("quit\n".utf8))
      try? input.fileHandleForWriting.close()
      process.waitUntilExit()
      try? FileManager.default.removeItem(atPath: home)
    }
  }

  static func sh(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  @Test func theKernelAgreesWithBoxwalk() throws {
    let repl = try LiveRepl()
    defer { repl.quit() }
    let helper = try repl.send(
      [
        "box new web", "unshare uts,pid,mnt,ipc", "hostname lab-box", "rootfs busybox", "pivot-root",
        "run -d sleep 1000", "run -d sleep 2000", "mount tmpfs /mnt", "ipc mq new 0x4242",
      ], thenShow: "web.host_pid")
    #expect(Int(helper) != nil)
    // UTS: the box's name inside, the host's unchanged.
    #expect(try Self.sh("nsenter -t \(helper) -u hostname") == "lab-box\n")
    #expect(try Self.sh("hostname") != "lab-box\n")
    // PID: the sleeps are the helper's children, PIDs 1 and 2 in the box's namespace.
    let children = try Self.sh("cat /proc/\(helper)/task/\(helper)/children").split(separator: " ")
    let nspids = try children.map { try Self.sh("grep NSpid /proc/\($0)/status").split(separator: "\t").last ?? "" }
    #expect(nspids.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted() == ["1", "2"])
    // MNT: findmnt inside the box's mount namespace sees the tmpfs; the host's table does not.
    // (After pivot-root the host's findmnt is not in the box's root: the kernel's own
    // /proc/PID/mountinfo of the helper says the same from outside.)
    #expect(try Self.sh("grep ' /mnt ' /proc/\(helper)/mountinfo").contains(" - tmpfs "))
    #expect(try !Self.sh("findmnt -n -o FSTYPE /mnt").contains("tmpfs"))
    // IPC: ipcs inside the box's IPC namespace lists the queue; the host's ipcs does not.
    #expect(try Self.sh("nsenter -t \(helper) -i ipcs -q").contains("0x00004242"))
    #expect(try !Self.sh("ipcs -q").contains("0x00004242"))
  }

  /// The machine's network as ip(8) shows it, lifetimes cut (they count down on their own).
  static func machineNetwork() throws -> String {
    try sh("ip -o link; ip -o addr; ip route show table all; ip -6 route show table all; ip rule")
      .replacingOccurrences(of: #"(valid_lft|preferred_lft|expires) \S+"#, with: "$1 -", options: .regularExpression)
  }

  /// Networking through the REPL: iproute2 inside the box's and the host side's namespaces sees
  /// the links and addresses boxwalk printed, the host side is a helper that is not a box, and
  /// the machine's own links, addresses, routes and rules are the same before, during and after.
  @Test func theNetworkStaysInBoxwalksNamespaces() throws {
    let before = try Self.machineNetwork()
    let repl = try LiveRepl()
    defer { repl.quit() }
    let helper = try repl.send(
      [
        "box new web", "unshare net", "net bridge bwt-br0", "net addr host:bwt-br0 10.231.0.1/24",
        "net up host:bwt-br0",
        "net veth", "net addr eth0 10.231.0.2/24", "net up eth0", "net up host:veth-web", "net attach bwt-br0",
        "ping 10.231.0.1",
      ], thenShow: "web.host_pid")
    #expect(try Self.sh("nsenter -t \(helper) -n ip -o -4 addr show dev eth0").contains("inet 10.231.0.2/24"))
    // The host side: boxwalk's other helper, alone in a network namespace of its own.
    let children = try Self.sh("pgrep -P \(repl.process.processIdentifier) -x boxwalk-helper").split(separator: "\n")
    let hostSide = try #require(children.first { $0 != helper })
    #expect(try Self.sh("readlink /proc/\(hostSide)/ns/net") != Self.sh("readlink /proc/self/ns/net"))
    let links = try Self.sh("nsenter -t \(hostSide) -n ip -o link")
    #expect(links.contains("veth-web@if2") && links.contains("master bwt-br0"))
    #expect(try Self.sh("nsenter -t \(hostSide) -n ip -o -4 addr show dev bwt-br0").contains("inet 10.231.0.1/24"))
    #expect(try Self.sh("ip -o link show type veth") == "")
    #expect(try Self.machineNetwork() == before)
    repl.quit()
    #expect(try Self.machineNetwork() == before)
    #expect(try Self.sh("ip -o link show type veth") == "")
    #expect(try Self.sh("ps -o pid= -p \(hostSide) || true").trimmingCharacters(in: .whitespacesAndNewlines) == "")
  }
}
