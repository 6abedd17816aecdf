import Glibc
import Kernel
import Lab

/// Step kinds timed from the REPL's side: `Session.execute(line)`, exactly what the REPL calls for
/// a typed line (word splitting, the step, reading the state back, the diff, the rendered lines),
/// plus writing those lines to /dev/null as the REPL writes them to the terminal.
struct StepBench {
  let session: Session
  let timing: TimingKernel
  let group: String
  let runs: Int
  /// Untimed runs first: the first `box new` maps the helper binary, the first `rootfs` builds
  /// the image.
  let warmup = 3
  private let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)

  init(kernel: any Kernel, group: String, runs: Int) throws {
    timing = TimingKernel(kernel)
    session = try Session(kernel: timing)
    self.group = group
    self.runs = runs
  }

  enum Outcome {
    case ok([String])
    case failed(String, [String])
  }

  /// Runs one line; a failed line is an error of the benchmark.
  func execute(_ line: String) -> Outcome {
    let failuresBefore = session.failures
    let out = session.execute(line)
    return session.failures == failuresBefore ? .ok(out) : .failed(line, out)
  }

  /// As the REPL does: the rendered lines go to a file descriptor.
  func print(_ lines: [String]) {
    var text = lines.joined(separator: "\n")
    text += "\n"
    _ = text.withCString { write(devNull, $0, strlen($0)) }
  }

  func removeBoxes() {
    for name in session.boxNames { _ = session.execute("box rm " + name) }
  }

  func measure(_ c: StepCase) {
    var total = Samples(), perform = Samples(), facts = Samples(), lab = Samples()
    var factsCalls = 0
    var outputLines = 0
    for line in c.once {
      if case .failed(let text, let out) = execute(line) {
        removeBoxes()
        return reportMissing(group, c.name, "`\(text)` (once, before the runs) failed: \(out.first ?? "")")
      }
    }
    for run in 0..<(runs + warmup) {
      defer { removeBoxes() }
      for line in c.setup {
        if case .failed(let text, let out) = execute(line) {
          return reportMissing(group, c.name, "setup `\(text)` failed: \(out.first ?? "")")
        }
      }
      timing.reset()
      var outcome = Outcome.ok([])
      let ms = milliseconds {
        outcome = execute(c.line)
        if case .ok(let lines) = outcome { print(lines) }
      }
      switch outcome {
      case .ok(let lines): outputLines = lines.count
      case .failed(let text, let out): return reportMissing(group, c.name, "`\(text)` failed: \(out.first ?? "")")
      }
      guard run >= warmup else { continue }
      total.add(ms)
      perform.add(timing.performMilliseconds)
      facts.add(timing.factsMilliseconds)
      lab.add(ms - timing.performMilliseconds - timing.factsMilliseconds)
      factsCalls = timing.factsCalls
    }
    report(
      group, c.name, total,
      [
        ("perform", fixed(perform.median)), ("facts", fixed(facts.median)), ("facts_calls", String(factsCalls)),
        ("lab", fixed(lab.median)), ("lines", String(outputLines)),
      ])
  }

  /// Reading a box's state: kernel.facts() alone, and `show` and `state` as typed, on one box
  /// with its own uts, ipc, mnt and pid namespaces and one background process.
  func measureReads() {
    let setup = ["box new b", "unshare uts,ipc,mnt,pid", "hostname lab-box", "run -d sleep 1000"]
    for line in setup {
      if case .failed(let text, let out) = execute(line) {
        return reportMissing(group, "read", "setup `\(text)` failed: \(out.first ?? "")")
      }
    }
    defer { removeBoxes() }
    let reads = max(runs, 200)
    var facts = Samples()
    for _ in 0..<reads + warmup {
      let ms = milliseconds { _ = try? timing.inner.facts() }
      facts.add(ms)
    }
    facts.values.removeFirst(warmup)
    report(group, "read: kernel facts()", facts)
    for line in ["show b.hostname", "state"] {
      var samples = Samples()
      for _ in 0..<reads + warmup {
        let ms = milliseconds { if case .ok(let lines) = execute(line) { print(lines) } }
        samples.add(ms)
      }
      samples.values.removeFirst(warmup)
      report(group, "read: " + line, samples)
    }
  }

  /// A whole container, every line as typed; one sample is the sum of the lines. `lines` and
  /// `name` replace the container of StepCases, to time any sequence of lines the same way.
  func measureContainer(_ lines: [String] = StepCases.container, name: String = "container") {
    var total = Samples(), totalPerform = Samples(), totalFacts = Samples()
    var perLine = [Samples](repeating: Samples(), count: lines.count)
    var perform = perLine, facts = perLine
    for run in 0..<(runs + warmup) {
      var sum = 0.0, sumPerform = 0.0, sumFacts = 0.0
      for (i, line) in lines.enumerated() {
        var outcome = Outcome.ok([])
        timing.reset()
        let ms = milliseconds {
          outcome = execute(line)
          if case .ok(let lines) = outcome { print(lines) }
        }
        if case .failed(let text, let out) = outcome {
          removeBoxes()
          return reportMissing(group, name, "`\(text)` failed: \(out.first ?? "")")
        }
        sum += ms
        sumPerform += timing.performMilliseconds
        sumFacts += timing.factsMilliseconds
        if run >= warmup {
          perLine[i].add(ms)
          perform[i].add(timing.performMilliseconds)
          facts[i].add(timing.factsMilliseconds)
        }
      }
      if run >= warmup {
        total.add(sum)
        totalPerform.add(sumPerform)
        totalFacts.add(sumFacts)
      }
    }
    func split(_ t: Samples, _ p: Samples, _ f: Samples) -> [(String, String)] {
      [("perform", fixed(p.median)), ("facts", fixed(f.median)), ("lab", fixed(t.median - p.median - f.median))]
    }
    report(group, name, total, split(total, totalPerform, totalFacts))
    for (i, line) in lines.enumerated() {
      report(group, name + ": " + line, perLine[i], split(perLine[i], perform[i], facts[i]))
    }
  }
}
