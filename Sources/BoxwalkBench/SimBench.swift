import Glibc
import Kernel
import Lab
import LinuxBackend
import Simulator

/// The simulator's side: transcript replay throughput and the inputs for whole-REPL runs.
enum SimBench {
  /// Makes simulated sessions for the transcript runner, offering every feature a transcript may
  /// require on sim (as `boxwalk test --backend sim` does).
  struct Factory: TranscriptSessionFactory {
    /// SimulatedKernel() models cgroup v2, so only `#if cgroup2` blocks apply (claiming both
    /// made 10-cgroups fail every replay on its v1 lines).
    func features(for backend: Backend) -> Set<String> { ["sim", "root", "overlay", "busybox", "cgroup2"] }
    func unavailableReason(for backend: Backend) -> String? { backend == .sim ? nil : "sim only" }
    func makeSession(backend: Backend) throws -> any TranscriptSession { try Session(kernel: SimulatedKernel()) }
  }

  static func loadTranscripts(_ paths: [String]) -> [TranscriptFile] {
    paths.compactMap { path in
      guard let text = readText(path) else { return nil }
      return try? TranscriptFile.parse(path: path, text: text)
    }
  }

  /// Steps per second: every transcript replayed on sim, golden matching included, again and
  /// again for at least `seconds`, `rounds` times; the median round.
  static func replay(_ paths: [String], seconds: Double, rounds: Int) {
    let files = loadTranscripts(paths)
    let runner = TranscriptRunner(factory: Factory())
    var rates = Samples()
    var failures = 0
    for _ in 0..<rounds {
      var steps = 0
      let start = monotonicNanoseconds()
      var elapsed = 0.0
      while elapsed < seconds {
        for file in files {
          let result = runner.run(file: file, backend: .sim)
          steps += result.steps.reduce(0) { $0 + executed($1.step.command) }
          if case .fail = result.outcome { failures += 1 }
        }
        elapsed = Double(monotonicNanoseconds() - start) / 1e9
      }
      rates.add(Double(steps) / elapsed)
    }
    report(
      "sim", "replay steps/s", rates,
      [("files", String(files.count)), ("failures", String(failures))])
  }

  /// The session commands a transcript line runs: `repeat N A ; B` runs 2N (13-many-boxes makes
  /// 200 boxes in one line; counted as one step it read as 41 steps/s).
  static func executed(_ command: String) -> Int {
    let words = command.split(separator: " ", maxSplits: 2)
    guard words.count == 3, words[0] == "repeat", let rounds = Int(words[1]) else { return 1 }
    return rounds * words[2].split(separator: ";").count
  }

  /// A 100-line session of the kinds a learner types, for piping into `boxwalk --backend sim`.
  static func session100() -> [String] {
    var lines: [String] = []
    var i = 0
    while lines.count < 100 {
      i += 1
      let b = "b\(i)"
      lines += [
        "box new \(b)", "unshare uts,ipc,mnt,pid", "hostname host-\(i)", "ns", "mount tmpfs /mnt", "run echo hi",
        "ipc mq new \(i)", "show \(b).hostname", "diff", "mounts", "ps", "box rm \(b)",
      ]
    }
    return Array(lines.prefix(100))
  }

  /// Every command of every transcript, each transcript's boxes removed after it, then every
  /// lesson walked through with its solutions: the curriculum, as lines for the REPL.
  static func curriculum(transcripts: [String], lessons: [(id: String, steps: Int)]) -> [String] {
    var lines: [String] = []
    for file in loadTranscripts(transcripts) {
      var boxes: [String] = []
      for step in file.allSteps {
        lines.append(step.command)
        let words = step.command.split(separator: " ").map(String.init)
        if words.count == 3, words[0] == "box", words[1] == "new" { boxes.append(words[2]) }
        if words.count == 3, words[0] == "box", words[1] == "rm" { boxes.removeAll { $0 == words[2] } }
      }
      lines += boxes.map { "box rm " + $0 }
    }
    for lesson in lessons {
      lines.append("lesson " + lesson.id)
      for _ in 0..<lesson.steps { lines += ["next", "solution", "check"] }
    }
    lines.append("quit")
    return lines
  }

  static func readText(_ path: String) -> String? { try? SmallFiles.readText(path) }
}
