import Glibc

/// One `boxwalk --backend B` REPL driven through pipes, as a learner's piped session is: the
/// tester writes one command, then a comment line as a marker, and reads until the REPL echoes
/// the marker. With standard input not a terminal, the REPL echoes every line after its prompt
/// before running it, and flushes after every step (docs/transcripts.md), so the lines between
/// the two echoes are exactly what the command printed, and the marker's echo carries the prompt
/// the next command will see.
///
/// A separate process per session, rather than two kernels in this one: a session that hangs
/// (a bug of the real backend) is killed after a timeout without taking the tester with it, and
/// the real session tears down exactly as a learner's does, at end of input.
final class ReplProcess {
  static let marker = "# difftest-sync"

  struct Step {
    var prompt: String
    var command: String
    var output: [String]
  }

  enum Outcome: Equatable {
    case finished(Int32)
    case timedOut(step: Int)
    case ended(step: Int)
  }

  let pid: pid_t
  /// -1 once closed: a descriptor is closed exactly once. Closing a number twice is harmless
  /// only while nothing else opens files: with simulated sessions on other threads (SimPool),
  /// the number may already name another REPL's pipe, and the second close(2) would cut that
  /// REPL's input.
  private var input: Int32
  private let output: Int32
  private var buffer: [UInt8] = []
  /// Whether the REPL closed its output (it exited, or `quit` ended it).
  private(set) var eof = false
  private(set) var prompt = "boxwalk> "

  /// Starts `executable --backend backend` in `directory`, with `environment` added to this
  /// process's own, standard error merged into standard output.
  init(executable: String, backend: String, directory: String, environment: [String: String]) throws {
    var toChild: [Int32] = [0, 0]
    var fromChild: [Int32] = [0, 0]
    var child: pid_t = 0
    let rc = try SpawnLock.shared.locked { () throws -> Int32 in
      guard pipeCloseOnExec(&toChild) == 0, pipeCloseOnExec(&fromChild) == 0 else {
        throw DiffTestError("pipe: \(String(cString: strerror(errno)))")
      }
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
      posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
      posix_spawn_file_actions_adddup2(&actions, fromChild[1], 2)
      // env(1) -C: the child's working directory (a relative `oci:shelf` registry lives there).
      var argv = ["/usr/bin/env", "-C", directory]
      for (key, value) in environment.sorted(by: { $0.key < $1.key }) { argv.append("\(key)=\(value)") }
      argv += [executable, "--backend", backend]
      let cArgs = argv.map { strdup($0) } + [nil]
      defer { cArgs.forEach { free($0) } }
      let rc = posix_spawn(&child, "/usr/bin/env", &actions, nil, cArgs, environ)
      close(toChild[0])
      close(fromChild[1])
      return rc
    }
    guard rc == 0 else {
      close(toChild[1])
      close(fromChild[0])
      throw DiffTestError("posix_spawn \(executable): \(String(cString: strerror(rc)))")
    }
    pid = child
    input = toChild[1]
    output = fromChild[0]
  }

  deinit {
    closeInput()
    close(output)
  }

  private func closeInput() {
    guard input >= 0 else { return }
    close(input)
    input = -1
  }

  /// Runs one command; nil when the REPL did not answer within `timeout` seconds or ended.
  func run(_ command: String, timeout: Double) -> Step? {
    let before = prompt
    guard write(command + "\n" + Self.marker + "\n") else { return nil }
    var lines: [String] = []
    var sawEcho = false
    let deadline = now() + timeout
    while true {
      guard let line = readLine(deadline: deadline) else { return nil }
      if !sawEcho {
        // Lines before the command's echo: the backend line at start-up, which names the
        // backend and so differs by design; it is not part of any command's output.
        if line == before + command || line.hasPrefix("boxwalk") && line.hasSuffix("> " + command) { sawEcho = true }
        continue
      }
      if line.hasSuffix("> " + Self.marker), line.hasPrefix("boxwalk") {
        prompt = String(line.dropLast(Self.marker.count))
        return Step(prompt: before, command: command, output: lines)
      }
      lines.append(line)
    }
  }

  /// Closes standard input (the REPL tears down at end of input) and waits for it to exit.
  func finish(timeout: Double) -> Int32? {
    closeInput()
    let deadline = now() + timeout
    while readLine(deadline: deadline) != nil {}
    while now() < deadline {
      var status: Int32 = 0
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
      usleep(20_000)
    }
    return nil
  }

  /// Kills the REPL (SIGKILL; its helpers die with it, by their parent-death signal).
  func kill() {
    _ = Glibc.kill(pid, SIGKILL)
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
  }

  private func write(_ text: String) -> Bool {
    guard input >= 0 else { return false }
    var bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeMutableBytes { b in
        b.baseAddress.map { Glibc.write(input, $0 + done, b.count - done) } ?? 0
      }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      done += n
    }
    bytes.removeAll()
    return true
  }

  private func readLine(deadline: Double) -> String? {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      if eof {
        guard !buffer.isEmpty else { return nil }
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
      }
      let left = deadline - now()
      if left <= 0 { return nil }
      var pfd = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
      let r = poll(&pfd, 1, Int32(min(left, 1) * 1000) + 1)
      if r < 0 && errno == EINTR { continue }
      if r <= 0 { continue }
      var chunk = [UInt8](repeating: 0, count: 65536)
      let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        eof = true
        continue
      }
      buffer += chunk[..<n]
    }
  }
}

func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct DiffTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
