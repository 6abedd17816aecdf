// boxwalk-bench: the measuring half of bench/run (issue 10). Run by hand, never by CI or tests.
//
//   boxwalk-bench steps --backend real|rootless|sim [--runs N] [--only NAME,...] [--state-root DIR]
//   boxwalk-bench reads --backend real|sim [--runs N] [--state-root DIR]
//   boxwalk-bench container [--runs N] [--state-root DIR] [--lines 'LINE;LINE;...' --name NAME]
//   boxwalk-bench scale --backend real|sim [--boxes N] [--steps S] [--unshare KINDS] [--state-root DIR]
//   boxwalk-bench replay [--seconds S] [--rounds R] TRANSCRIPT...
//   boxwalk-bench session100                      (prints a 100-line session for the REPL)
//   boxwalk-bench curriculum [--lessons DIR] TRANSCRIPT...   (prints the whole curriculum)
//   boxwalk-bench process --group G --name NAME [--runs N] [--stdin FILE] [--prepare SHELL] [--first-line] -- ARGV...
//   boxwalk-bench report RESULTS.tsv MACHINE.txt ANALYSIS.md   (prints BENCHMARKS.md)
//   boxwalk-bench digest [--runs N] [--busybox PATH]   (SHA-256: the busybox layer, 64 MiB, small inputs)
//
// Every measurement prints one tab-separated line (Stopwatch.swift); bench/run collects them.
import Glibc
import Kernel
import Lab
import LinuxBackend
import Simulator

struct Arguments {
  var options: [String: String] = [:]
  var flags: Set<String> = []
  var positional: [String] = []
  /// Everything after `--`.
  var command: [String] = []

  init(_ words: [String]) {
    var i = 0
    while i < words.count {
      let w = words[i]
      if w == "--" {
        command = Array(words[(i + 1)...])
        break
      }
      if w.hasPrefix("--") {
        if ["--first-line"].contains(w) {
          flags.insert(w)
        } else if i + 1 < words.count {
          options[w] = words[i + 1]
          i += 1
        }
      } else {
        positional.append(w)
      }
      i += 1
    }
  }

  func int(_ name: String, _ fallback: Int) -> Int { options[name].flatMap { Int($0) } ?? fallback }
  func double(_ name: String, _ fallback: Double) -> Double { options[name].flatMap { Double($0) } ?? fallback }
}

func makeKernel(_ backend: String?, stateRoot: String?) throws -> any Kernel {
  switch backend ?? "real" {
  case "sim": return SimulatedKernel()
  // The rootless backend, for an unprivileged user (bench/run runs it as nobody): its state under
  // $XDG_RUNTIME_DIR unless --state-root says otherwise, and a throwaway image store too.
  case "rootless": return try LinuxKernel(stateRoot: stateRoot, ephemeralImages: true, rootless: true)
  // An image store of the session's own, removed with it: the cases commit images (bench-lower)
  // that must not stay in the learner's store at /var/lib/boxwalk.
  default: return try LinuxKernel(stateRoot: stateRoot ?? "/run/boxwalk", ephemeralImages: true)
  }
}

func lessonsIn(_ directory: String) -> [(id: String, steps: Int)] {
  let names = (try? SmallFiles.list(directory)) ?? []
  return names.filter { $0.hasSuffix(".md") }.sorted().compactMap { name in
    guard let text = SimBench.readText(directory + "/" + name) else { return nil }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let id = lines.first(where: { $0.hasPrefix("id:") })?.dropFirst(3).trimmingSpaces() else { return nil }
    return (id, lines.filter { $0.hasPrefix("## ") }.count)
  }
}

extension Substring {
  func trimmingSpaces() -> String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}

/// `steps`, `reads` and `container`: one lab session on the backend, measured step by step
/// (each of StepCases, or those `--only` names), reading the state back, or building a whole
/// container (the default sequence, or the `--lines` given); the session is closed after.
func measureSteps(_ mode: String, _ args: Arguments) throws {
  let backend = args.options["--backend"] ?? "real"
  let group = args.options["--group"] ?? backend
  let bench = try StepBench(
    kernel: try makeKernel(backend, stateRoot: args.options["--state-root"]), group: group,
    runs: args.int("--runs", 30))
  defer { bench.session.close() }
  if mode == "reads" {
    bench.measureReads()
  } else if mode == "container" {
    if let lines = args.options["--lines"] {
      let list = lines.split(separator: ";").map { String($0.drop { $0 == " " }) }
      bench.measureContainer(list, name: args.options["--name"] ?? "sequence")
    } else {
      bench.measureContainer()
    }
  } else {
    let only = args.options["--only"].map { $0.split(separator: ",").map(String.init) }
    for c in StepCases.all where only.map({ $0.contains(c.name) }) ?? true {
      say("  \(group): \(c.name)")
      bench.measure(c)
    }
  }
}

/// `process`: a whole program run `--runs` times (after two warm-up runs), its wall time, its
/// time to the first line of output with `--first-line`, its peak resident set (ru_maxrss of the
/// rusage wait4(2) fills in) and how many runs exited non-zero; `--prepare` runs a shell line
/// before each.
func measureProcess(_ name: String, _ args: Arguments) throws {
  var wall = Samples(), firstLine = Samples()
  var rss = 0
  var failed = 0
  let runs = args.int("--runs", 30)
  for run in 0..<runs + 2 {
    if let prepare = args.options["--prepare"] { _ = try ProcessRuns.run(["/bin/sh", "-c", prepare]) }
    let r = try ProcessRuns.run(
      args.command, stdinPath: args.options["--stdin"], firstLine: args.flags.contains("--first-line"))
    if r.status != 0 { failed += 1 }
    guard run >= 2 else { continue }
    wall.add(r.milliseconds)
    if let f = r.firstLineMilliseconds { firstLine.add(f) }
    rss = max(rss, r.maxRSSKilobytes)
  }
  let group = args.options["--group"] ?? "process"
  let extra = [("maxrss_kb", String(rss)), ("nonzero_exits", String(failed))]
  if args.flags.contains("--first-line") { report(group, name + " (first line)", firstLine, extra) }
  report(group, name, wall, extra)
}

func main() -> Int32 {
  // Output piped into `head` must not kill the bench before its session's teardown (boxes,
  // cgroups and the session directory): with SIGPIPE ignored, a write to a closed pipe fails with
  // EPIPE instead, and the bench carries on to close the session.
  signal(SIGPIPE, SIG_IGN)
  let words = Array(CommandLine.arguments.dropFirst())
  guard let mode = words.first else {
    say("usage: boxwalk-bench steps|reads|container|replay|session100|curriculum|process ...")
    return 2
  }
  let args = Arguments(Array(words.dropFirst()))
  do {
    switch mode {
    case "steps", "reads", "container":
      try measureSteps(mode, args)
    case "scale":
      let backend = args.options["--backend"] ?? "real"
      let boxes = args.int("--boxes", 100)
      try ScaleBench.run(
        kernel: try makeKernel(backend, stateRoot: args.options["--state-root"]),
        reference: boxes > 1 ? try makeKernel(backend, stateRoot: args.options["--state-root"]) : nil,
        group: args.options["--group"] ?? backend, boxes: boxes, steps: args.int("--steps", 100),
        unshare: args.options["--unshare"] ?? "uts,ipc,net")
    case "replay":
      SimBench.replay(args.positional, seconds: args.double("--seconds", 1), rounds: args.int("--rounds", 5))
    case "digest":
      return DigestBench.run(busybox: args.options["--busybox"] ?? "/bin/busybox", runs: args.int("--runs", 30))
    case "session100":
      for line in SimBench.session100() { emit(line) }
    case "curriculum":
      let lessons = args.options["--lessons"].map(lessonsIn) ?? []
      for line in SimBench.curriculum(transcripts: args.positional, lessons: lessons) { emit(line) }
    case "process":
      guard !args.command.isEmpty, let name = args.options["--name"] else {
        say("process needs --name NAME -- ARGV...")
        return 2
      }
      try measureProcess(name, args)
    case "report":
      guard args.positional.count == 3 else {
        say("report RESULTS.tsv MACHINE.txt ANALYSIS.md")
        return 2
      }
      let text = Report(
        results: SimBench.readText(args.positional[0]) ?? "", machine: SimBench.readText(args.positional[1]) ?? "",
        analysis: SimBench.readText(args.positional[2]) ?? ""
      ).markdown()
      _ = text.withCString { write(1, $0, strlen($0)) }
    default:
      say("unknown mode \(mode)")
      return 2
    }
  } catch {
    say("boxwalk-bench: \(error)")
    return 1
  }
  return 0
}

exit(main())
