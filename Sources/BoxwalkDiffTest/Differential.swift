import Glibc
import Lab

/// Runs one list of commands on two backends and says where, and how, they first print
/// different text.
struct Differential {
  struct Options {
    var boxwalk: String
    var scratch: String
    var timeout: Double = 30
    var backends: (String, String) = ("sim", "real")
  }

  /// What one backend printed, step by step, and how its REPL ended.
  struct Run {
    var backend: String
    var steps: [ReplProcess.Step] = []
    /// nil when every command ran and the REPL exited on its own.
    var stopped: String?
    var exitStatus: Int32?
  }

  /// The first step at which the two runs differ, and its class: the command's verb and the
  /// first line that differs, with numbers written N, so that two sessions that go wrong the
  /// same way have the same class whatever boxes and labels they used.
  struct Divergence {
    var step: Int
    var command: String
    var expected: [String]
    var actual: [String]
    var klass: String
  }

  let options: Options

  var template: String { options.scratch + "/template" }

  /// Builds the template image store (busybox only), once per scratch directory.
  func prepareTemplate() {
    guard access(template, F_OK) != 0 else { return }
    mkdir(options.scratch, 0o755)
    let building = options.scratch + "/template.new"
    Shell.removeTree(building)
    Shell.removeTree(options.scratch + "/cwd")
    mkdir(options.scratch + "/cwd", 0o755)
    guard
      let process = try? ReplProcess(
        executable: options.boxwalk, backend: "real", directory: options.scratch + "/cwd",
        environment: ["BOXWALK_HOME": building])
    else { return }
    for command in ["box new t", "unshare mnt", "overlay busybox"] { _ = process.run(command, timeout: 120) }
    _ = process.finish(timeout: 60)
    rename(building, template)
  }

  /// Runs `commands` in a fresh REPL of `backend`. `slot` names the working directory and
  /// image store the REPL gets (scratch/cwd-SLOT, scratch/home-SLOT): REPLs that run at the same
  /// time (a simulated session beside a real one) must not share them, since each run starts by
  /// emptying its own.
  func run(_ commands: [String], on backend: String, slot: String? = nil) -> Run {
    var result = Run(backend: backend)
    let suffix = "-" + (slot ?? backend)
    let cwd = options.scratch + "/cwd" + suffix
    let home = options.scratch + "/home" + suffix
    Shell.removeTree(cwd)
    Shell.removeTree(home)
    mkdir(options.scratch, 0o755)
    mkdir(cwd, 0o755)
    mkdir(home, 0o755)
    let environment = [
      // A throwaway image store: one session's commits and pushes never reach the next, and the
      // learner's own store is never touched.
      "BOXWALK_HOME": home + "/images",
      "XDG_STATE_HOME": home + "/state",
      "XDG_DATA_HOME": home + "/data",
      "HOME": home,
    ]
    // The real backend builds the busybox image from busybox-static the first time a store
    // needs it (seconds); a copy of a store that already has it makes every session start the
    // same way without paying for that each time.
    if backend != "sim", access(template, F_OK) == 0 {
      Shell.run(["/bin/cp", "-a", template, home + "/images"])
    }
    let process: ReplProcess
    do {
      process = try ReplProcess(
        executable: options.boxwalk, backend: backend, directory: cwd, environment: environment)
    } catch {
      result.stopped = "could not start: \(error)"
      return result
    }
    for (i, command) in commands.enumerated() {
      guard let step = process.run(command, timeout: options.timeout) else {
        if process.eof {
          result.stopped = "the REPL ended at step \(i + 1)"
          break
        }
        result.stopped = "step \(i + 1) (\(command)) did not finish within \(Int(options.timeout)) s"
        process.kill()
        if backend != "sim" { Shell.run([options.boxwalk, "cleanup"]) }
        return result
      }
      result.steps.append(step)
    }
    result.exitStatus = process.finish(timeout: options.timeout)
    if result.exitStatus == nil {
      result.stopped = "teardown at end of input did not finish within \(Int(options.timeout)) s"
      process.kill()
      if backend != "sim" { Shell.run([options.boxwalk, "cleanup"]) }
    }
    return result
  }

  /// Compares the runs step by step, with the transcript matcher's normalisation; nil when
  /// they agree. `expected` is the oracle (the real kernel), `actual` the one under test.
  static func compare(expected: Run, actual: Run, commands: [String]) -> Divergence? {
    let n = min(expected.steps.count, actual.steps.count)
    for i in 0..<n {
      let e = expected.steps[i]
      let a = actual.steps[i]
      let el = TranscriptComparison.comparable(e.output)
      let al = TranscriptComparison.comparable(a.output)
      if e.prompt != a.prompt || el != al {
        var j = 0
        while j < el.count, j < al.count, el[j] == al[j] { j += 1 }
        let first = j < el.count ? el[j] : "(nothing)"
        let second = j < al.count ? al[j] : "(nothing)"
        let klass =
          e.prompt != a.prompt
          ? "\(verb(commands[i])): prompt \(e.prompt) vs \(a.prompt)"
          : "\(verb(commands[i])): \(shape(first)) <> \(shape(second))"
        return Divergence(step: i, command: commands[i], expected: el, actual: al, klass: klass)
      }
    }
    if expected.stopped != actual.stopped || expected.steps.count != actual.steps.count {
      let i = n
      let command = i < commands.count ? commands[i] : "(end of input)"
      let klass =
        "\(verb(command)): \(expected.backend) \(shape(expected.stopped ?? "ran")) <> "
        + "\(actual.backend) \(shape(actual.stopped ?? "ran"))"
      return Divergence(
        step: i, command: command, expected: [expected.stopped ?? "ran"], actual: [actual.stopped ?? "ran"],
        klass: klass)
    }
    return nil
  }

  /// The command's name as the command table spells it: `net addr`, `cgroup set`, `mount`.
  static func verb(_ command: String) -> String {
    let words = command.split(separator: " ").map(String.init)
    guard let first = words.first else { return "(empty)" }
    if words.count > 1, ["box", "net", "image", "cgroup", "ipc", "layer", "stress", "map"].contains(first) {
      let second = words[1]
      if second.allSatisfy({ $0.isLetter }) && second.count < 12 { return first + " " + second }
    }
    if first == "run", words.count > 1 { return words[1] == "-d" ? "run -d" : "run" }
    return first
  }

  /// A line with every run of digits written N and anything after 90 characters cut.
  static func shape(_ line: String) -> String {
    var out = ""
    var inDigits = false
    for c in line.trimmingLeadingSpaces() {
      if c.isASCII && c.isNumber {
        if !inDigits { out.append("N") }
        inDigits = true
      } else {
        out.append(c)
        inDigits = false
      }
    }
    return out.count > 90 ? String(out.prefix(90)) + "..." : out
  }
}

extension String {
  func trimmingLeadingSpaces() -> Substring { drop { $0 == " " } }
}

/// The few host programs the tester runs itself.
enum Shell {
  @discardableResult
  static func run(_ argv: [String], capture: Bool = false) -> (status: Int32, output: String) {
    var fds: [Int32] = [0, 0]
    var pid: pid_t = 0
    let rc = SpawnLock.shared.locked { () -> Int32 in
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      if capture {
        _ = pipeCloseOnExec(&fds)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
      } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
      }
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
      let cArgs = argv.map { strdup($0) } + [nil]
      defer { cArgs.forEach { free($0) } }
      let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
      if capture { close(fds[1]) }
      return rc
    }
    guard rc == 0 else {
      if capture { close(fds[0]) }
      return (127, "")
    }
    var bytes: [UInt8] = []
    if capture {
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += chunk[..<n]
      }
      close(fds[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return ((status >> 8) & 0xff, String(decoding: bytes, as: UTF8.self))
  }

  static func removeTree(_ path: String) {
    guard access(path, F_OK) == 0 else { return }
    run(["/bin/rm", "-rf", "--one-file-system", path])
  }
}

/// pipe(2), both ends close-on-exec (posix_spawn's dup2 actions clear the flag on the copies).
/// Call it holding `SpawnLock.shared`, as every posix_spawn of the tester does: the flag is set
/// a moment after pipe(2) returns, and a process that another thread (SimPool) spawned in that
/// moment would inherit the pipe and keep it open, so that its REPL never saw end of input.
/// (pipe2(2) with O_CLOEXEC closes the gap in one call, but Swift's Glibc module does not
/// export it.)
func pipeCloseOnExec(_ fds: inout [Int32]) -> Int32 {
  guard pipe(&fds) == 0 else { return -1 }
  for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
  return 0
}

/// Makes creating a pipe and spawning the process that gets one end a single step as seen from
/// the tester's other threads.
final class SpawnLock: @unchecked Sendable {
  static let shared = SpawnLock()
  private var mutex = pthread_mutex_t()
  private init() { pthread_mutex_init(&mutex, nil) }

  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return try body()
  }
}

/// One line to standard output, written at once: the progress of a long run shows as it
/// happens, also through a pipe.
func say(_ text: String = "") {
  var bytes = Array((text + "\n").utf8)
  var done = 0
  while done < bytes.count {
    let n = bytes.withUnsafeMutableBytes { b in b.baseAddress.map { write(1, $0 + done, b.count - done) } ?? 0 }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return }
    done += n
  }
  bytes.removeAll()
}
