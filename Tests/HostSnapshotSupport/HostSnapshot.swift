// The host snapshot (scripts/host-snapshot prints the same): everything boxwalk must never change
// on the machine, read with independent tools and files (iproute2, proc(5), sysfs), never with
// boxwalk's own code, so a bug in boxwalk cannot hide itself from the check meant to catch it.
//
// The test-support target HostSnapshotSupport, shared by CLITests and LinuxBackendTests (each
// `import HostSnapshotSupport`). It imports only Foundation, Glibc and Testing, and names nothing
// of boxwalk's own, so the check cannot share a bug with the code it checks.
//
// Use it two ways:
//   @Suite(.hostUnchanged) struct MyRootTests { ... }       every test case: snapshot before == after
//   try await withHostUnchanged { before in ... }           one block, with the "before" in hand
// Both hold HostSnapshotLock while they run, so no two host-changing test cases interleave (one
// test's helper would otherwise show up as another test's leak): every suite that runs the real
// backend, or starts `boxwalk` as root (which picks the real backend), must carry `.hostUnchanged`.
// Objects of *other* live boxwalk sessions on the machine (a learner's REPL, another test run) are
// left out of the snapshot; leftovers whose owner is gone are counted, whoever made them.
//
// Adding a capability (run, mount, cgroups, net, ipc...)? Add what it can leak to `HostSnapshot.probes`
// below, one probe per kind of host object, read the way an administrator would look for it.
import Foundation
import Glibc
import Testing

/// What the host looks like, section by section. Two snapshots are equal when the host is the same
/// as far as boxwalk could ever have touched it.
package struct HostSnapshot: Equatable, Sendable, CustomStringConvertible {
  package struct Section: Equatable, Sendable {
    package let name: String
    package let lines: [String]
  }

  package let sections: [Section]

  /// One probe per kind of host object. Each returns stable, sorted lines: values that change on
  /// their own (address lifetimes, packet counters) are cut out, so equal means "nothing changed".
  ///
  /// New capabilities plug in here: `run` adds nothing (box processes die with their pid
  /// namespace, and `helpers` already lists what boxwalk starts); `mount` is covered by
  /// `mountinfo`; `ipc` by `sysvipc` and `posixmq`; `cgroup` by `cgroups`; `net` by `links`, `addresses`, `routes`, `rules`, `netns`,
  /// `firewall` and `sysctl`. A new kind of object needs a new probe.
  package static let probes: [(name: String, read: @Sendable () -> [String])] = [
    ("mountinfo", mountTable),
    ("netns", { listTree("/run/netns") }),
    ("links", { tool(["ip", "-o", "link", "show"]) }),
    ("addresses", { tool(["ip", "-o", "addr", "show"]).map(withoutAddressLifetimes) }),
    ("routes", routes),
    ("rules", { tool(["ip", "-4", "rule", "show"]) + tool(["ip", "-6", "rule", "show"]) }),
    ("firewall", firewall),
    ("sysctl", forwardingSysctls),
    ("uts", utsNames),
    ("sysvipc", sysvIPC),
    ("posixmq", posixQueues),
    ("cgroups", boxwalkCgroups),
    ("helpers", helperProcesses),
    ("state", boxwalkState),
  ]

  /// Runs every probe, several at once (most of the time is spent waiting for `ip` to start).
  package static func take() -> HostSnapshot {
    final class Slots: @unchecked Sendable {  // each index is written by one iteration only
      var lines: [[String]]
      init(_ count: Int) { lines = Array(repeating: [], count: count) }
    }
    let slots = Slots(probes.count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: probes.count) { i in
      let result = probes[i].read().sorted()
      lock.withLock { slots.lines[i] = result }
    }
    return HostSnapshot(sections: probes.indices.map { Section(name: probes[$0].name, lines: slots.lines[$0]) })
  }

  package func section(_ name: String) -> [String] { sections.first { $0.name == name }?.lines ?? [] }

  /// The same snapshot without some sections, for "only the ledger differs" checks.
  package func excluding(_ names: Set<String>) -> HostSnapshot {
    HostSnapshot(sections: sections.filter { !names.contains($0.name) })
  }

  /// `- section: line` for what `before` had and this one lacks, `+ section: line` for the reverse.
  package func differences(from before: HostSnapshot) -> [String] {
    var out: [String] = []
    for section in sections {
      let old = before.section(section.name)
      out += old.filter { !section.lines.contains($0) }.map { "- \(section.name): \($0)" }
      out += section.lines.filter { !old.contains($0) }.map { "+ \(section.name): \($0)" }
    }
    return out
  }

  package var description: String {
    sections.flatMap { s in ["[\(s.name)]"] + s.lines.map { "  " + $0 } }.joined(separator: "\n")
  }

  /// Equal, except that leftovers of sessions whose owner was already gone may have been cleaned
  /// up meanwhile: removing them is `boxwalk cleanup`'s job, and a test that starts a REPL
  /// runs it. Anything new, and anything else that disappeared, is a change.
  package func isUnchanged(from before: HostSnapshot) -> Bool {
    differences(from: before).allSatisfy { $0.hasPrefix("- ") && $0.hasSuffix(" (owner gone)") }
  }

  /// Takes snapshots until one equals `expected`, for at most `seconds`. The kernel finishes some
  /// teardown after the last process of a namespace is gone (a dying network namespace takes its
  /// veths with it from a workqueue, network_namespaces(7)), and a process killed by
  /// PR_SET_PDEATHSIG takes a moment to be reaped. This is a settle window, not a timing test: the
  /// check fails only if the host never returns to `expected`.
  package static func settled(towards expected: HostSnapshot, seconds: Double = 5) -> HostSnapshot {
    var now = take()
    var waited = 0.0
    while !now.isUnchanged(from: expected) && waited < seconds {
      usleep(50_000)
      waited += 0.05
      now = take()
    }
    return now
  }

  // MARK: - Probes

  /// PID 1's mount table: the host's, whatever namespace this test runs in. Some VMs and sandboxes
  /// refuse even root access to /proc/1/* (proc(5): ptrace access mode checks, and PID 1 may be
  /// special to the hypervisor's init). Then the test process's own table stands in: boxwalk never
  /// mounts in the namespace it runs in (all namespace work is in the helpers), and the tests run
  /// in the host's mount namespace, so a mount leaking out of a box would show up there too.
  package static func mountTable() -> [String] {
    if let text = try? String(contentsOfFile: "/proc/1/mountinfo", encoding: .utf8), !text.isEmpty {
      return lines(text)
    }
    return ["(read from /proc/self/mountinfo: /proc/1/mountinfo is not readable here)"]
      + lines(readText("/proc/self/mountinfo"))
  }

  /// Every routing table, both families (ip-route(8)).
  package static func routes() -> [String] {
    (tool(["ip", "-4", "route", "show", "table", "all"]) + tool(["ip", "-6", "route", "show", "table", "all"]))
      .map(withoutExpiry)
  }

  /// The host's names (uts_namespaces(7)): no test may ever change them.
  package static func utsNames() -> [String] {
    ["hostname " + readText("/proc/sys/kernel/hostname"), "domainname " + readText("/proc/sys/kernel/domainname")]
  }

  /// ip-address(8) prints lifetimes that count down for DHCP and SLAAC addresses.
  package static func withoutAddressLifetimes(_ line: String) -> String {
    line.replacing(/valid_lft \S+ preferred_lft \S+/, with: "")
  }

  /// Routes learned from router advertisements carry `expires NNNsec`, which counts down.
  package static func withoutExpiry(_ line: String) -> String {
    line.replacing(/expires \S+/, with: "")
  }

  /// The packet filter, as a hash of each ruleset (nft(8), iptables-save(8)) with packet and byte
  /// counters removed, plus the legacy tables the kernel has loaded. A tool that is not installed
  /// is a stable line of its own.
  package static func firewall() -> [String] {
    var out: [String] = []
    for argv in [["nft", "list", "ruleset"], ["iptables-save"], ["ip6tables-save"]] {
      guard let result = run(argv) else {
        out.append("\(argv[0]): not installed")
        continue
      }
      let rules = lines(result.output)
        .filter { !$0.hasPrefix("#") }
        .map { $0.replacing(/\[\d+:\d+\]/, with: "").replacing(/counter packets \d+ bytes \d+/, with: "counter") }
      out.append(
        "\(argv[0]): exit \(result.status), \(rules.count) lines, fnv1a64 \(fnv1a64(rules.joined(separator: "\n")))")
    }
    for file in ["/proc/net/ip_tables_names", "/proc/net/ip6_tables_names"] {
      out += lines(readText(file)).map { "\(file): \($0)" }
    }
    return out
  }

  /// The switches that turn a host into a router; labs like to flip them.
  package static func forwardingSysctls() -> [String] {
    [
      "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/all/forwarding",
      "/proc/sys/net/ipv6/conf/all/forwarding", "/proc/sys/net/bridge/bridge-nf-call-iptables",
    ].compactMap { path in
      FileManager.default.fileExists(atPath: path) ? "\(path) = \(readText(path))" : nil
    }
  }

  /// System V IPC objects (sysvipc(7)): key and id of each message queue, semaphore set and shared
  /// memory segment. Times and attach counts change on their own and are left out.
  package static func sysvIPC() -> [String] {
    ["msg", "sem", "shm"].flatMap { kind in
      lines(readText("/proc/sysvipc/" + kind)).dropFirst().map { row in
        let fields = row.split(separator: " ")
        return "\(kind) key \(fields.first ?? "?") id \(fields.dropFirst().first ?? "?")"
      }
    }
  }

  /// POSIX message queues of the host's IPC namespace (mq_overview(7)): the files of its mqueue
  /// file system. The host need not have it mounted, so it is mounted where only this probe sees
  /// it: in a new mount namespace of unshare(1), private, which dies with the shell.
  package static func posixQueues() -> [String] {
    let script = "mount -t tmpfs none /mnt && mkdir /mnt/q && mount -t mqueue none /mnt/q && ls /mnt/q"
    return tool(["unshare", "--mount", "--propagation", "private", "sh", "-c", script]).map { "queue " + $0 }
  }

  /// Every directory under a `boxwalk` directory at the root of each cgroup hierarchy
  /// (docs/security.md, "Where sessions live"). On a v1 or hybrid host each controller is its own
  /// hierarchy under /sys/fs/cgroup (cgroups(7)); on v2 the root itself is the hierarchy.
  /// Directories of another live process's session are left out (see `owner(ofSession:)`).
  package static func boxwalkCgroups() -> [String] {
    let base = "/sys/fs/cgroup"
    var roots = [base]
    roots += ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).map { base + "/" + $0 }
    var out: [String] = []
    for root in roots where isDirectory(root + "/boxwalk") {
      out.append(root + "/boxwalk")
      for relative in listTree(root + "/boxwalk", directoriesOnly: true) {
        let session = String(relative.split(separator: "/").first ?? "")
        guard let tag = owner(ofSession: session) else { continue }
        out.append(root + "/boxwalk/" + relative + tag)
      }
    }
    return out
  }

  /// What is under /run/boxwalk (the real backend's state root; docs/security.md): session
  /// directories and their ledgers. Another live process's session is left out.
  package static func boxwalkState() -> [String] {
    listTree("/run/boxwalk").compactMap { relative in
      let session = String(relative.split(separator: "/").first ?? "")
      return owner(ofSession: session).map { relative + $0 }
    }
  }

  // MARK: - Whose is it?

  /// This machine may run other boxwalk sessions while the tests run (a learner's REPL, another
  /// `swift test`). Their live objects come and go and are not this process's business, so the
  /// probes leave them out: an object counts when it belongs to this test process or to a process
  /// it started, or when its owner is gone (a leftover is a leak, whoever made it). nil means
  /// "another live process's: leave it out"; otherwise a tag for the line, so that an object
  /// whose owner died during the test shows up as a change.
  ///
  /// A session is named `PID-STARTTIME[-N]` after the boxwalk process that owns it (Ledger.swift).
  package static func owner(ofSession name: String) -> String? {
    let parts = name.split(separator: "-")
    guard parts.count >= 2, let pid = Int32(parts[0]) else { return "" }  // not a session name
    guard let fields = statFields(String(pid)), fields[19] == String(parts[1]), fields[0] != "Z" else {
      return " (owner gone)"
    }
    return isThisProcessOrDescendant(pid) ? "" : nil
  }

  /// Whether `pid` is above this test process (its parent, grandparent, ...).
  package static func isAncestorOfThisProcess(_ pid: Int32) -> Bool {
    var cursor = getppid()
    for _ in 0..<64 {
      if cursor == pid { return true }
      guard cursor > 1, let fields = statFields(String(cursor)), let parent = Int32(fields[1]) else { return false }
      cursor = parent
    }
    return false
  }

  /// Whether `pid` is this test process or below it, by walking parent PIDs (proc(5), field 4).
  package static func isThisProcessOrDescendant(_ pid: Int32) -> Bool {
    var cursor = pid
    for _ in 0..<64 {  // deeper than any tree here; a bound in case of a race with exits
      if cursor == getpid() { return true }
      guard cursor > 1, let fields = statFields(String(cursor)), let parent = Int32(fields[1]) else { return false }
      cursor = parent
    }
    return false
  }

  /// Processes called boxwalk-helper (proc(5): /proc/PID/comm), with their start time (field 22
  /// of /proc/PID/stat) so that a new helper with a recycled PID is still a difference, and their
  /// parent, which says whose helper it is.
  ///
  /// Left out: helpers of another live process tree (see `owner(ofSession:)`), and dead helpers
  /// no one has reaped yet when their boxwalk is gone too. When boxwalk itself died (SIGKILL)
  /// its helpers are orphans that PID 1 (or a subreaper, prctl(2) PR_SET_CHILD_SUBREAPER) reaps
  /// whenever it gets round to it: as zombies they hold no namespace any more (a process leaves its
  /// namespaces as it exits) and are not boxwalk's leak. A live orphan is listed: its boxwalk died
  /// and PR_SET_PDEATHSIG did not kill it. A zombie whose parent is this test process or a live
  /// boxwalk is listed: someone forgot waitpid(2).
  package static func helperProcesses() -> [String] {
    let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int($0) != nil }
    return pids.compactMap { pid in
      guard readText("/proc/\(pid)/comm") == "boxwalk-helper", let fields = statFields(pid),
        let parent = Int32(fields[1])
      else { return nil }
      let (state, start) = (fields[0], fields[19])
      let parentName = readText("/proc/\(parent)/comm")
      // Orphans are reparented to PID 1, or to the nearest subreaper above this process.
      let orphan = parent == 1 || isAncestorOfThisProcess(parent)
      if state == "Z" && orphan { return nil }
      if !orphan && !isThisProcessOrDescendant(parent) { return nil }
      return "boxwalk-helper pid \(pid) start \(start) parent \(parent) (\(parentName))"
        + (state == "Z" ? " zombie" : "")
    }
  }

  // MARK: - Reading

  /// The fields of /proc/PID/stat after the command name, so fields[0] is field 3 (state),
  /// fields[1] field 4 (parent PID) and fields[19] field 22 (start time). The name is in
  /// parentheses and may itself hold spaces and ')', so counting starts after the last ')'.
  package static func statFields(_ pid: String) -> [String]? {
    let stat = readText("/proc/\(pid)/stat")
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
    return fields.count > 19 ? fields : nil
  }

  package static func readText(_ path: String) -> String {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  package static func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  package static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
  }

  /// Paths under `root`, relative to it, `dir/` for directories. Symlinks are listed, not followed.
  package static func listTree(_ root: String, directoriesOnly: Bool = false) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [String] = []
    while let relative = walker.nextObject() as? String {
      var info = stat()
      guard lstat(root + "/" + relative, &info) == 0 else { continue }
      let isDir = info.st_mode & S_IFMT == S_IFDIR
      if directoriesOnly && !isDir { continue }
      out.append(relative + (isDir && !directoriesOnly ? "/" : ""))
    }
    return out
  }

  /// The lines a tool prints, or one line saying it is not installed.
  package static func tool(_ argv: [String]) -> [String] {
    guard let result = run(argv) else { return ["\(argv[0]): not installed"] }
    return lines(result.output)
  }

  /// posix_spawnp(3) `argv` with standard output captured and standard error discarded; nil when the
  /// program is not installed.
  package static func run(_ argv: [String]) -> (status: Int32, output: String)? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    // Close-on-exec at once: a program another test spawns meanwhile must not inherit the write
    // end, or this read would wait for that program to exit.
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
    close(fds[1])
    guard rc == 0 else {
      close(fds[0])
      return nil
    }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = read(fds[0], &buffer, buffer.count)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      data += buffer[0..<n]
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    if exitStatus == 127 { return nil }  // the shell convention posix_spawnp follows for "not found"
    return (exitStatus, String(decoding: data, as: UTF8.self))
  }

  /// FNV-1a, 64 bits: a short, stable fingerprint of a ruleset (not a security hash; it only has to
  /// change when the text does, and Foundation on Linux has no SHA-256).
  package static func fnv1a64(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return String(hash, radix: 16)
  }
}

/// Serialises every test case that may change the host, across suites, test targets and even
/// concurrent `swift test` processes built from this checkout: flock(2) on the package root
/// directory. flock works on a directory (no lock file to leave behind), belongs to the open file
/// description (so two opens in one process exclude each other), and the kernel drops it when the
/// process dies. Waiting polls with LOCK_NB and `Task.sleep`, so a waiting test never blocks a
/// thread of Swift's small cooperative pool while the holder needs one.
package enum HostSnapshotLock {
  @TaskLocal package static var isHeld = false

  package static let packageRoot: String = {
    // Tests/<Target>/HostSnapshot.swift -> the package root.
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  package static func withLock<T>(_ body: () async throws -> T) async throws -> T {
    if isHeld { return try await body() }
    let fd = open(packageRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return try await $isHeld.withValue(true) { try await body() } }
    defer { close(fd) }  // closing the descriptor releases the lock
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      try await Task.sleep(nanoseconds: 10_000_000)
    }
    return try await $isHeld.withValue(true) { try await body() }
  }
}

/// Runs `body` holding the host lock and records an issue if the host snapshot after it differs
/// from the one before (after a settle window). `body` gets the "before" snapshot, for checks of
/// its own in between. Not root: nothing here can change the host, so `body` just runs.
@discardableResult
package func withHostUnchanged<T>(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: (HostSnapshot) async throws -> T
) async throws -> T {
  guard geteuid() == 0 else { return try await body(HostSnapshot(sections: [])) }
  return try await HostSnapshotLock.withLock {
    let start = Date()
    defer { HostLockTimings.record(Date().timeIntervalSince(start), sourceLocation) }
    let before = HostSnapshot.take()
    let result: Result<T, any Error>
    do {
      result = .success(try await body(before))
    } catch {
      result = .failure(error)
    }
    let after = HostSnapshot.settled(towards: before)
    if !after.isUnchanged(from: before) {
      Issue.record(
        Comment(rawValue: "the host changed:\n" + after.differences(from: before).joined(separator: "\n")),
        sourceLocation: sourceLocation)
    }
    return try result.get()
  }
}

/// How long each test case held the host lock, snapshots included, one line per case appended to
/// the file BOXWALK_TEST_TIMINGS names (seconds, a tab, the test's source location). The cases
/// that hold the lock run one at a time, so their sum is most of the suite's length as root;
/// scripts/test prints the largest. Nothing is written when the variable is unset.
package enum HostLockTimings {
  static let lock = NSLock()

  package static func record(_ seconds: Double, _ location: SourceLocation) {
    guard let path = ProcessInfo.processInfo.environment["BOXWALK_TEST_TIMINGS"], !path.isEmpty else { return }
    let line = String(format: "%.2f", seconds) + "\t\(location.fileName):\(location.line)\n"
    lock.withLock {
      let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
      guard fd >= 0 else { return }
      _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
      close(fd)
    }
  }
}

/// `.hostUnchanged` on a suite or test: every test case runs under `withHostUnchanged`.
package struct HostUnchangedTrait: SuiteTrait, TestTrait, TestScoping {
  package var isRecursive: Bool { true }

  /// Test cases only: a suite holding the lock while its own tests wait for it would deadlock.
  package func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

  package func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    try await withHostUnchanged(sourceLocation: test.sourceLocation) { _ in try await function() }
  }
}

extension Trait where Self == HostUnchangedTrait {
  /// The host snapshot is the same before and after each test case.
  package static var hostUnchanged: Self { Self() }
}
