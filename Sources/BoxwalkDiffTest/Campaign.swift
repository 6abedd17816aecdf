import Glibc
import Lab

/// A run of many sessions: generate, run on both backends, compare, shrink what differs, write
/// it out, count.
struct Campaign {
  let args: Arguments
  let differential: Differential
  var sessions = 0
  var commands = 0
  var divergent = 0
  /// Divergent sessions per class, and the transcript written for the class.
  var classes: [String: (count: Int, seeds: [UInt64], file: String?)] = [:]
  var classOrder: [String] = []
  var flaky = 0
  var hostBaseline: String?
  var hostDirty = false
  var written = 0
  /// Seconds spent waiting for the real-kernel lock while others held it: part of a run's time
  /// that says nothing about how fast the tester is.
  var lockWait = 0.0
  /// The rootless leg (RootlessUser): on, and its counts.
  var rootless = false
  var rootlessSessions = 0
  var rootlessCommands = 0
  var rootlessPartial = 0
  var rootlessSkipped = 0
  var rootlessDivergent = 0
  /// --rootless was given and the leg could not run: the run fails.
  var rootlessFailed = false

  init(args: Arguments) {
    self.args = args
    differential = Differential(
      options: .init(boxwalk: args.boxwalk, scratch: args.scratch, timeout: args.timeout))
  }

  /// Runs every seed: in batches of `--batch` sessions when `--lock` is given, each batch
  /// under the real-kernel lock, which is released between batches so that other users of the
  /// real kernel on this machine get their turn. The host is compared with its state at the
  /// start of the batch, taken under the lock (what others did between batches is theirs),
  /// after every session or only at the end of the batch (`--host-check`), that is at a point
  /// where none of this run's REPLs is alive.
  mutating func runSeeds() -> Int32 {
    let start = now()
    let seeds = Array(args.seeds)
    // --without drops commands after generating, so every other command of the seed stays.
    let sessions = seeds.map {
      SessionGenerator.session(seed: $0, minCommands: args.minCommands, maxCommands: args.maxCommands)
        .filter { !args.without.contains(Differential.verb($0)) }
    }
    let batch = args.batch > 0 ? args.batch : max(seeds.count, 1)
    // --jobs N: N - 1 threads run the simulated sessions ahead, beside the real ones.
    let pool =
      args.jobs > 1
      ? SimPool(differential: differential, sessions: sessions, workers: args.jobs - 1, window: 2 * batch) : nil
    var lock = args.lock.map(RealKernelLock.init(path:))
    var index = 0
    batches: while index < seeds.count {
      let end = min(index + batch, seeds.count)
      // One job: the simulated half of the batch first, outside the lock.
      var simulated: [Int: Differential.Run] = [:]
      if pool == nil {
        for i in index..<end { simulated[i] = differential.run(sessions[i], on: "sim") }
      }
      let waitStart = now()
      do {
        try lock?.acquire()
        lockWait += now() - waitStart
      } catch {
        say("error: \(error)")
        return 2
      }
      hostBaseline = settledSnapshot()
      for i in index..<end {
        // Every session was simulated before its batch (by the pool or above).
        guard let sim = pool?.take(i) ?? simulated.removeValue(forKey: i) else { continue }
        _ = runOne(sessions[i], seed: seeds[i], simulated: sim)
        if hostDirty { break batches }
      }
      if !args.checkEverySession, !checkHost(after: "seeds \(seeds[index])..\(seeds[end - 1])") { break }
      lock?.release()
      index = end
    }
    lock?.release()
    printSummary(seconds: now() - start)
    return hostDirty || rootlessFailed ? 1 : (divergent + rootlessDivergent == 0 ? 0 : 1)
  }

  /// Runs one session; false when it diverged (or left the host changed). `simulated` is the
  /// session's simulated run when it was made ahead (SimPool); else it runs here. With the
  /// rootless leg on, the session's comparable prefix (RootlessUser) then runs on rootless as
  /// nobody and is compared with the same simulated run.
  mutating func runOne(_ session: [String], seed: UInt64?, simulated: Differential.Run? = nil) -> Bool {
    if hostBaseline == nil { hostBaseline = settledSnapshot() }
    differential.prepareTemplate()
    sessions += 1
    commands += session.count
    let name = seed.map { "seed \($0)" } ?? "session"
    let (divergence, _, sim) = compare(session, simulated: simulated, leg: .real)
    if args.checkEverySession, !checkHost(after: name) { return false }
    var same = true
    if let divergence {
      same = false
      found(divergence, in: session, seed: seed, leg: .real, name: name)
      if hostDirty { return false }
    } else {
      say("\(name): \(session.count) commands, same text on sim and real")
    }
    guard rootless, rootlessReady() else { return same }
    let prefix = RootlessUser.comparablePrefix(session)
    // Where the simulator already differs from the kernel, the rootless run would only say it
    // again: the prefix stops before that step.
    let upTo = min(prefix, divergence?.step ?? prefix)
    guard upTo > 0 else {
      rootlessSkipped += 1
      return same
    }
    let part = Array(session.prefix(upTo))
    rootlessSessions += 1
    rootlessCommands += part.count
    if upTo < session.count { rootlessPartial += 1 }
    let (d, _, _) = compare(part, simulated: sim.truncated(to: upTo), leg: .rootless)
    if args.checkEverySession, !checkHost(after: "\(name) (rootless)") { return false }
    guard let d else {
      say("\(name): \(part.count) commands, same text on sim and rootless")
      return same
    }
    found(d, in: part, seed: seed, leg: .rootless, name: name)
    return false
  }

  /// Makes the rootless leg's area on first use (under the lock: it runs a rootless REPL);
  /// false, with the leg turned off, when that fails.
  mutating func rootlessReady() -> Bool {
    guard let why = RootlessUser.prepare(scratch: args.scratch, boxwalk: args.boxwalk, timeout: max(args.timeout, 120))
    else { return true }
    say("note: the rootless leg is off: \(why)")
    rootless = false
    if args.rootless == true { rootlessFailed = true }
    return false
  }

  /// Counts a divergence in its class and, for the first session of a class, shrinks it,
  /// confirms it twice and writes it out.
  mutating func found(
    _ divergence: Differential.Divergence, in session: [String], seed: UInt64?, leg: Leg, name: String
  ) {
    let other = leg == .real ? "real" : "rootless"
    if leg == .real { divergent += 1 } else { rootlessDivergent += 1 }
    say(
      "\(name): \(session.count) commands, differs from \(other) at step \(divergence.step + 1) `\(divergence.command)`: \(divergence.klass)"
    )
    if var known = classes[divergence.klass] {
      known.count += 1
      if let seed { known.seeds.append(seed) }
      classes[divergence.klass] = known
      return
    }
    classOrder.append(divergence.klass)
    classes[divergence.klass] = (1, seed.map { [$0] } ?? [], nil)
    guard args.shrink else { return }
    let minimal = shrink(session, klass: divergence.klass, leg: leg)
    // Confirmed twice: the minimal session must diverge the same way on two more runs, or the
    // difference is a race, not a rule, and is reported as such.
    var confirmations: [(Differential.Divergence, Differential.Run)] = []
    for _ in 0..<2 {
      let (d, oracle, _) = compare(minimal, leg: leg)
      if let d, d.klass == divergence.klass { confirmations.append((d, oracle)) }
    }
    _ = checkHost(after: "\(name) (shrinking)")
    guard confirmations.count == 2, let (d, oracle) = confirmations.last else {
      flaky += 1
      say("  shrunk to \(minimal.count) commands, but it did not diverge the same way twice more: flaky")
      return
    }
    let file = write(minimal, divergence: d, oracle: oracle, seed: seed)
    classes[divergence.klass]?.file = file
    say("  shrunk to \(minimal.count) commands, confirmed twice: \(file ?? "(not written)")")
  }

  /// Which kernel a session's simulated run is compared with.
  enum Leg { case real, rootless }

  /// Runs on the leg's backend and on the simulator (the simulated run unless it is given);
  /// the divergence (the kernel as the oracle), the kernel's run and the simulated one.
  func compare(_ session: [String], simulated: Differential.Run? = nil, leg: Leg)
    -> (Differential.Divergence?, Differential.Run, Differential.Run)
  {
    let oracle = differential.run(session, on: leg == .real ? "real" : "rootless")
    let sim = simulated ?? differential.run(session, on: "sim")
    var divergence = Differential.compare(expected: oracle, actual: sim, commands: session)
    // A class of the rootless leg is its own: the same line may be right as root.
    if leg == .rootless, let klass = divergence?.klass { divergence?.klass = "rootless " + klass }
    return (divergence, oracle, sim)
  }

  /// Delta debugging (Zeller and Hildebrandt 2002, ddmin): drops chunks of commands, then single
  /// commands, for as long as the session still diverges in the same class. The commands after
  /// the diverging step cannot matter and go first.
  func shrink(_ session: [String], klass: String, leg: Leg) -> [String] {
    var budget = args.shrinkBudget
    func stillDiverges(_ candidate: [String]) -> Bool {
      guard budget > 0, !candidate.isEmpty else { return false }
      // A rootless candidate is compared only where the whole of it would be: cutting a
      // command can make a later one act from the lab's host side, which rootless refuses by
      // design (a `ping` once `box new` is cut).
      if leg == .rootless, RootlessUser.comparablePrefix(candidate) < candidate.count { return false }
      budget -= 1
      return compare(candidate, leg: leg).0?.klass == klass
    }
    var current = session
    if let d = compare(current, leg: leg).0, d.step + 1 < current.count {
      let cut = Array(current.prefix(d.step + 1))
      if stillDiverges(cut) { current = cut }
    }
    var n = 2
    while current.count >= 2 && budget > 0 {
      let chunk = (current.count + n - 1) / n
      var reduced = false
      var start = 0
      while start < current.count {
        let end = min(start + chunk, current.count)
        let complement = Array(current[..<start] + current[end...])
        if stillDiverges(complement) {
          current = complement
          n = max(n - 1, 2)
          reduced = true
          break
        }
        start = end
      }
      if !reduced {
        if n >= current.count { break }
        n = min(n * 2, current.count)
      }
    }
    return current
  }

  /// Writes the minimal session as a transcript recorded from the kernel's run (real, or
  /// rootless): it passes there and fails on sim until the simulator (or the backend) is fixed,
  /// when it moves to transcripts/regressions/.
  mutating func write(
    _ session: [String], divergence: Differential.Divergence, oracle real: Differential.Run, seed: UInt64?
  )
    -> String?
  {
    mkdir(args.out, 0o755)
    written += 1
    let slug = String(
      divergence.klass.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40)
    ).split(separator: "-").joined(separator: "-")
    let path = "\(args.out)/\(String(format2(written)))-\(slug).transcript"
    var lines = [
      "# Found by boxwalk-difftest\(seed.map { " (seed \($0))" } ?? ""), shrunk to \(session.count) commands and "
        + "confirmed twice.",
      "# Class: \(divergence.klass)",
      "# Recorded from the \(real.backend) backend. At step \(divergence.step + 1), `\(divergence.command)`, the simulator printed:",
    ]
    lines += divergence.actual.map { "#   " + $0 }
    lines.append("#backends sim, \(real.backend)")
    for step in real.steps {
      lines += TranscriptComparison.stepLines(prompt: step.prompt, command: step.command, output: step.output)
    }
    if real.steps.count < session.count {
      lines.append("# The \(real.backend) backend stopped here: \(real.stopped ?? "?")")
    }
    let text = lines.joined(separator: "\n") + "\n"
    guard let f = fopen(path, "w") else { return nil }
    fputs(text, f)
    fclose(f)
    return path
  }

  func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }

  /// The host before the first session, once it has settled: a session that ended just before
  /// this run (its helpers still dying, its directory still going) must not be taken for the
  /// host's normal state.
  func settledSnapshot() -> String? {
    var previous = snapshot()
    for _ in 0..<20 {
      usleep(500_000)
      let now = snapshot()
      if now == previous { return now }
      previous = now
    }
    return previous
  }

  func snapshot() -> String? {
    guard let script = args.hostSnapshot, access(script, X_OK) == 0 else { return nil }
    return Shell.run([script], capture: true).output
  }

  /// Between sessions: the host must be exactly as it was before the first one.
  mutating func checkHost(after name: String) -> Bool {
    guard let baseline = hostBaseline, var now = snapshot() else { return true }
    // A box's helper dies by its parent-death signal when the REPL exits, a moment after the
    // REPL itself: what is still there after a few seconds is a leak, not a race.
    for _ in 0..<10 where now != baseline {
      usleep(300_000)
      now = snapshot() ?? now
    }
    guard now != baseline else { return true }
    hostDirty = true
    say("FAIL: the host changed after \(name); stopping. Compare with scripts/host-snapshot:")
    let a = baseline.split(separator: "\n").map(String.init)
    let b = now.split(separator: "\n").map(String.init)
    for line in a where !b.contains(line) { say("  - \(line)") }
    for line in b where !a.contains(line) { say("  + \(line)") }
    return false
  }

  func printSummary(seconds: Double) {
    say("")
    say(
      "difftest: seeds \(args.seeds.lowerBound)..\(args.seeds.upperBound), \(sessions) sessions, \(commands) commands, "
        + "\(divergent) divergent sessions in \(classes.count) classes, \(flaky) flaky, \(Int(seconds)) s"
        + (args.lock == nil ? "" : " (\(Int(lockWait)) s of it waiting for the real-kernel lock)"))
    if rootless {
      say(
        "rootless leg: \(rootlessSessions) sessions compared on rootless as nobody (\(rootlessPartial) of them up to "
          + "their first command rootless does otherwise by design), \(rootlessCommands) commands, "
          + "\(rootlessDivergent) divergent; \(rootlessSkipped) sessions not compared (their first command is one)")
    }
    for klass in classOrder {
      guard let c = classes[klass] else { continue }
      let seeds = c.seeds.prefix(5).map(String.init).joined(separator: ",")
      say("  \(c.count)x  \(klass)  [seeds \(seeds)]" + (c.file.map { "  -> \($0)" } ?? ""))
    }
  }
}
