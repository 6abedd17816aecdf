import Foundation
import Glibc
import Testing

@testable import LinuxBackend

extension Trait where Self == ConditionTrait {
  /// The real backend spawns helpers and unshares namespaces: root only (a named trait).
  static var requiresRoot: Self {
    .enabled(if: geteuid() == 0, "needs root: the real backend creates namespaces")
  }
}

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
  let path: String

  init() throws {
    var template = Array("/tmp/boxwalk-test-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
      throw POSIXError(.init(rawValue: errno) ?? .EIO)
    }
    path = String(cString: made)
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  func entries(_ sub: String = "") -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path + sub)) ?? []).sorted()
  }

  func write(_ relative: String, _ text: String) throws {
    let full = path + "/" + relative
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: full, atomically: false, encoding: .utf8)
  }
}

/// A child process this test started: its pid, to end it by pid.
struct TestChild {
  let pid: pid_t

  /// posix_spawn(3) `argv` with stdout captured; returns it when the child exits.
  static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
    var pipeFDs: [Int32] = [-1, -1]
    guard pipe(&pipeFDs) == 0 else { throw POSIXError(.EIO) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    let child = try spawn(argv, actions: &actions)
    close(pipeFDs[1])
    var output = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(pipeFDs[0], &buffer, buffer.count)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      output.append(contentsOf: buffer[0..<n])
    }
    close(pipeFDs[0])
    return (child.wait(), String(decoding: output, as: UTF8.self))
  }

  /// Start `argv` in the background.
  static func start(_ argv: [String]) throws -> TestChild {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    return try spawn(argv, actions: &actions)
  }

  private static func spawn(_ argv: [String], actions: inout posix_spawn_file_actions_t) throws -> TestChild {
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
    guard rc == 0 else { throw POSIXError(.init(rawValue: rc) ?? .EIO) }
    return TestChild(pid: pid)
  }

  /// A `sleep 60` child and its start time, for ledger records that must name a live process;
  /// killed and reaped when `body` returns, whatever happens in it.
  static func withSleeper<T>(_ body: (TestChild, UInt64) throws -> T) throws -> T {
    let sleeper = try start(["sleep", "60"])
    defer {
      sleeper.kill()
      sleeper.wait()
    }
    let started = try #require(startTime(of: sleeper.pid))
    return try body(sleeper, started)
  }

  /// Is it still running (not exited, not a zombie)?
  var isRunning: Bool {
    guard let identity = ProcFS(root: "/proc").identity(String(pid)) else { return false }
    return identity.state != "Z"
  }

  func kill() { _ = Glibc.kill(pid, SIGKILL) }

  @discardableResult
  func wait() -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
  }
}

/// The start time of a process (field 22 of /proc/PID/stat).
func startTime(of pid: pid_t) -> UInt64? { ProcFS(root: "/proc").identity(String(pid))?.startTime }

/// readlink(2) of a /proc namespace file, e.g. "uts:[4026531838]"; nil when unreadable.
func namespaceLink(_ path: String) -> String? { SmallFiles.readLink(path) }

/// uname(2) nodename of this process: the machine's hostname, which tests must never change.
func hostHostname() -> String {
  var names = utsname()
  _ = uname(&names)
  return withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}
