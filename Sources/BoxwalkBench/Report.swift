/// Turns the result lines of one bench/run into BENCHMARKS.md: the machine, how to reproduce,
/// the targets of issue 10 with what was measured against each, and the tables behind them.
/// Every ratio compares figures from the same run.
struct Report {
  struct Row {
    var median: Double?
    var p25: Double?
    var p75: Double?
    var runs: Int
    var extra: [String: String]
  }

  let rows: [String: Row]
  let machine: [(String, String)]
  let analysis: String

  /// `results` may hold one line per case per round (bench/run --rounds): a case's rounds are
  /// merged into one row, the median of their medians (and of their quartiles), so a burst of
  /// load from elsewhere during one round moves the figure little.
  init(results: String, machine: String, analysis: String) {
    var rounds: [String: [Row]] = [:]
    var order: [String] = []
    for line in results.split(separator: "\n") {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard f.count >= 6 else { continue }
      var extra: [String: String] = [:]
      for kv in f.dropFirst(6) {
        if let eq = kv.firstIndex(of: "=") { extra[String(kv[..<eq])] = String(kv[kv.index(after: eq)...]) }
      }
      let key = f[0] + "/" + f[1]
      if rounds[key] == nil { order.append(key) }
      rounds[key, default: []].append(
        Row(median: Double(f[2]), p25: Double(f[3]), p75: Double(f[4]), runs: Int(f[5]) ?? 0, extra: extra))
    }
    var rows: [String: Row] = [:]
    for key in order { rows[key] = rounds[key].map(Self.merge) }
    self.rows = rows
    self.machine = machine.split(separator: "\n").compactMap { line in
      guard let tab = line.firstIndex(of: "\t") else { return nil }
      return (String(line[..<tab]), String(line[line.index(after: tab)...]))
    }
    self.analysis = analysis
  }

  static func merge(_ rounds: [Row]) -> Row {
    func middle(_ values: [Double]) -> Double? {
      var s = Samples()
      for v in values { s.add(v) }
      return values.isEmpty ? nil : s.median
    }
    var extra: [String: String] = [:]
    for key in Set(rounds.flatMap { $0.extra.keys }) {
      let values = rounds.compactMap { $0.extra[key] }
      let numbers = values.compactMap(Double.init)
      guard numbers.count == values.count, !numbers.isEmpty else {
        extra[key] = values.first
        continue
      }
      switch key {
      case "maxrss_kb": extra[key] = String(Int(numbers.max() ?? 0))
      case "nonzero_exits", "failures": extra[key] = String(Int(numbers.reduce(0, +)))
      case "facts_calls", "lines", "files": extra[key] = values.first
      default: extra[key] = middle(numbers).map(fixed) ?? values[0]
      }
    }
    return Row(
      median: middle(rounds.compactMap(\.median)), p25: middle(rounds.compactMap(\.p25)),
      p75: middle(rounds.compactMap(\.p75)), runs: rounds.reduce(0) { $0 + $1.runs }, extra: extra)
  }

  func row(_ group: String, _ name: String) -> Row? { rows[group + "/" + name] }
  func median(_ group: String, _ name: String) -> Double? { row(group, name)?.median }
  func info(_ key: String) -> String { machine.first { $0.0 == key }?.1 ?? "?" }

  /// The floor of a step: its kernel work plus reading the state back (a step prints its diff),
  /// which is the floor's "read" and, for the steps with network namespaces, "read: net"; and
  /// the durable ledger record before an on-disk directory, "ledger record" (StepCase.floorParts).
  func floor(_ step: String) -> Double? {
    let parts = StepCases.all.first { $0.name == step }?.floorParts ?? ["read"]
    guard let op = median("floor", step) else { return nil }
    var total = op
    for name in parts {
      guard let read = median("floor", name) else { return nil }
      total += read
    }
    return total
  }

  /// Issue 10: each step within 2x its floor plus 0.5 ms.
  func target(_ step: String) -> Double? { floor(step).map { 2 * $0 + 0.5 } }

  func markdown() -> String {
    var out: [String] = []
    out += header()
    out += targets()
    out += stepTable()
    out += rootlessTable()
    out += readTable()
    out += containerTable()
    out += replTable()
    out += scaleTable()
    out += ["## What the figures say", ""]
    out += analysis.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    return out.joined(separator: "\n") + "\n"
  }

  // MARK: sections

  func header() -> [String] {
    [
      "# Benchmarks",
      "",
      "Written by `bench/run` (issue 10); run by hand, never by CI, and no test asserts a timing.",
      "Figures are in milliseconds unless they say otherwise: each the median of at least 30 runs,",
      "and with several rounds the median of the rounds' medians. Every ratio compares figures",
      "measured in the same run on the same machine. Absolute times move with the machine and its",
      "load; ratios much less.",
      "",
      "## Machine and run",
      "",
      "| | |",
      "| --- | --- |",
    ] + machine.map { "| \($0.0) | \($0.1) |" } + [
      "",
      "## Reproduce",
      "",
      "```sh",
      "sudo bench/run                 # builds (swift build -c release), measures, writes BENCHMARKS.md",
      "sudo bench/run --runs 100 --rounds 5 --wait-idle 300 --out /tmp/b.md --raw /tmp/b.tsv",
      "# one part by hand, after swift build -c release:",
      "sudo .build/release/boxwalk-bench steps --backend real --only 'hostname,box new' --runs 30",
      "sudo .build/release/boxwalk-bench container --state-root /dev/shm/bw --lines 'box new c;unshare net;box rm c'",
      "gcc -O2 -static -o /tmp/floor bench/floor.c && sudo /tmp/floor all 30 IMAGE_DIR SCRATCH_DIR",
      "```",
      "",
      "- **boxwalk**: `.build/release/boxwalk-bench steps|reads|container --backend real` times",
      "  `Session.execute(line)`, what the REPL calls for a typed line (word splitting, the step on the",
      "  helper, reading the state back, the diff, the rendered lines written to a file descriptor),",
      "  with clock_gettime(CLOCK_MONOTONIC); each run gets a fresh box, set up and removed untimed. A",
      "  kernel wrapper splits the time into the step's kernel work (`perform`), reading the state back",
      "  (`facts`) and the rest (Lab: the state tree, diff and text).",
      "- **floor**: `bench/floor.c` (gcc -O2 -static) does the same kernel work with raw system calls",
      "  from one C process: the step's calls, and reading the same state boxwalk reads (every namespace",
      "  link, mountinfo, status, uid/gid maps, owners, IPC objects, and one socket round trip for what",
      "  only the inside can see; for the net steps also the rtnetlink dumps of the lab's two network",
      "  namespaces). A step's floor is its calls plus that read.",
      "- **shell**: the command in the step's `shell` line (unshare, nsenter + hostname/mount/ipcmk, cp,",
      "  a cgroupfs write), and `crun run` / `runc run`, are timed as whole processes by",
      "  `boxwalk-bench process` (posix_spawn to wait4).",
      "",
    ]
  }

  func targets() -> [String] {
    var lines = ["## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    // Steps.
    var met = 0, total = 0
    var misses: [String] = []
    for c in StepCases.all {
      guard let m = median("real", c.name), let t = target(c.name) else { continue }
      total += 1
      if m <= t { met += 1 } else { misses.append("\(c.name) \(ms(m)) > \(ms(t))") }
    }
    let stepText =
      "\(met) of \(total) step kinds" + (misses.isEmpty ? "" : "; missed: " + misses.joined(separator: ", "))
    lines.append("| each step within 2x its floor + 0.5 ms | \(stepText) | \(mark(misses.isEmpty && total > 0)) |")
    if let h = median("real", "hostname"), let t = target("hostname") {
      lines.append("| a hostname step about 1 ms, diff included | \(ms(h)) (target \(ms(t))) | \(mark(h <= t)) |")
    }
    if let r = median("real", "read: kernel facts()") {
      let show = median("real", "read: show b.hostname").map { "; `show` \(ms($0))" } ?? ""
      lines.append("| reading a box's state under 0.3 ms | facts() \(ms(r))\(show) | \(mark(r < 0.3)) |")
    }
    if let c = median("real", "container"), let crun = median("whole", "crun run"),
      let runc = median("whole", "runc run")
    {
      // The same with the state root on tmpfs, where most hosts have /run: said beside it.
      let t = median("real-tmpfs", "container")
      // And the least any tool pays that reads the state back after each line (containerTable).
      let floor = floorWithReads()
      func onTmpfs(_ other: Double) -> String {
        (t.map { "; state root on tmpfs \(ms($0)): \(ratio($0 / other))" } ?? "")
          + (floor.map { "; C floor with a state read per line \(ms($0)): \(ratio($0 / other))" } ?? "")
      }
      lines.append(
        "| whole container at most 1/2 of `crun run` | \(ms(c)) vs \(ms(crun)): \(ratio(c / crun))\(onTmpfs(crun)) "
          + "| \(mark(c <= crun / 2)) |")
      lines.append(
        "| whole container at most 1/6 of `runc run` | \(ms(c)) vs \(ms(runc)): \(ratio(c / runc))\(onTmpfs(runc)) "
          + "| \(mark(c <= runc / 6)) |")
    }
    for backend in ["sim", "real"] {
      if let s = median("repl", "start (\(backend)) (first line)") {
        lines.append("| REPL start to prompt under 50 ms (\(backend)) | \(ms(s)) | \(mark(s < 50)) |")
      }
    }
    if let rate = median("sim", "replay steps/s") {
      lines.append("| sim replay at least 20,000 steps/s | \(Int(rate)) steps/s | \(mark(rate >= 20_000)) |")
    }
    for (key, row) in rows.sorted(by: { $0.key < $1.key }) where key.hasPrefix("rss/") {
      if let kb = row.extra["maxrss_kb"].flatMap({ Double($0) }) {
        let mb = kb / 1024
        lines.append(
          "| REPL maximum RSS under 40 MB: \(key.dropFirst(4)) | \(one(mb)) MB | \(mark(mb < 40)) |")
      }
    }
    return lines + scaleTargets() + [""]
  }

  /// Issue 15's targets: a step costs what it touches, not the size of the lab; 1,000 boxes are
  /// built and torn down in seconds in little memory; a whole container, as a whole process,
  /// against `crun run` as a whole process.
  func scaleTargets() -> [String] {
    var lines: [String] = []
    for backend in ["sim", "real"] {
      for n in [100, 1000] {
        // The 1-box lab whose steps alternated with this one's (ScaleBench), else the 1-box row.
        guard let m = median(backend, "scale: hostname step, \(n) boxes"),
          let single = median(backend, "scale: hostname step, 1 box beside \(n)")
            ?? median(backend, "scale: hostname step, 1 boxes")
        else { continue }
        lines.append(
          "| a step with \(n) boxes within 1.2x of the step with 1 (\(backend)) | \(ms(m)) vs \(ms(single)): "
            + "\(ratio(m / single)) | \(mark(m / single <= 1.2)) |")
      }
    }
    if let build = median("real", "scale: build all 1000 boxes") {
      lines.append(
        "| 1,000 boxes (own uts, ipc, net) built in under 5 s (real) | \(ms(build)) ms | \(mark(build < 5000)) |")
    }
    if let down = median("real", "scale: teardown of 1000 boxes") {
      lines.append("| 1,000 boxes torn down by `quit` in under 5 s (real) | \(ms(down)) ms | \(mark(down < 5000)) |")
    }
    if let kb = median("real", "scale: REPL max RSS kB, 1000 boxes") {
      lines.append(
        "| REPL maximum RSS with 1,000 boxes under 200 MB | \(one(kb / 1024)) MB | \(mark(kb < 200 * 1024)) |")
    }
    if let whole = median("whole", "boxwalk --backend real < container"), let crun = median("whole", "crun run") {
      lines.append(
        "| whole container as a whole process at most 1.0x `crun run` | \(ms(whole)) vs \(ms(crun)): "
          + "\(ratio(whole / crun)) | \(mark(whole <= crun)) |")
    }
    return lines
  }

  func stepTable() -> [String] {
    var lines = [
      "## Each step kind",
      "",
      "boxwalk: median of `Session.execute` on the real kernel, split into the step's kernel work,",
      "reading the state back, and Lab (tree, diff, text). floor: the raw calls, then calls + state read.",
      "target: 2 x (floor + read) + 0.5 ms; the read of the steps with network namespaces includes",
      "their rtnetlink dumps, and rootfs and overlay add the durable ledger record (write, fsync,",
      "rename) that boxwalk makes before a directory that outlives a machine crash.",
      "shell: the step's shell equivalent as a whole process.",
      "sim: the same line on the simulator (Lab's own cost, no kernel).",
      "",
      "| step | boxwalk | perform / facts / Lab | floor: calls | + read (+ ledger) | boxwalk / floor | target | met | shell | shell / boxwalk | sim |",
      "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for c in StepCases.all {
      guard let r = row("real", c.name), let m = r.median else {
        let note = row("real", c.name)?.extra["note"] ?? "not measured"
        lines.append("| \(c.name) | \(note) | | | | | | | | | |")
        continue
      }
      let split = [r.extra["perform"], r.extra["facts"], r.extra["lab"]].map { $0.flatMap(Double.init).map(ms) ?? "-" }
        .joined(separator: " / ")
      let op = median("floor", c.name)
      let f = floor(c.name)
      let t = target(c.name)
      let shell = median("shell", c.name)
      let sim = median("sim", c.name)
      lines.append(
        "| \(c.name) | \(ms(m)) | \(split) | \(op.map(ms) ?? "-") | \(f.map(ms) ?? "-") | \(f.map { ratio(m / $0) } ?? "-") "
          + "| \(t.map(ms) ?? "-") | \(t.map { mark(m <= $0) } ?? "-") | \(shell.map(ms) ?? "-") "
          + "| \(shell.map { ratio($0 / m) } ?? "-") | \(sim.map(ms) ?? "-") |")
    }
    lines.append("")
    let tmpfs = ["box new", "box rm", "rootfs busybox", "overlay of two layers", "pivot-root"].compactMap {
      name -> String? in
      guard let a = median("real", name), let b = median("real-tmpfs", name) else { return nil }
      return
        "| \(name) | \(ms(a)) | \(ms(b)) | \(median("floor", name).map(ms) ?? "-") | \(median("floor-tmpfs", name).map(ms) ?? "-") |"
    }
    if !tmpfs.isEmpty {
      lines +=
        [
          "Where the session directory lives matters on this machine: its /run is \(info("run_fs")), not the",
          "tmpfs most distributions mount there, so the ledger's fsync before a scratch directory is made,",
          "the overlay's directories and their removal hit the disk. The same steps with the state root",
          "on tmpfs (/dev/shm), and the floor on each:",
          "",
          "| step | boxwalk, /run | boxwalk, tmpfs | floor, /run | floor, tmpfs |",
          "| --- | ---: | ---: | ---: | ---: |",
        ] + tmpfs + [""]
    }
    return lines
  }

  func readTable() -> [String] {
    var lines = [
      "## Reading a box's state",
      "",
      "One box with its own uts, ipc, mnt and pid namespaces and one process.",
      "",
      "| read | median | p25 - p75 |",
      "| --- | ---: | --- |",
    ]
    for (group, name, label) in [
      ("real", "read: kernel facts()", "boxwalk: kernel facts() (host + box)"),
      ("real", "read: show b.hostname", "boxwalk: `show b.hostname` (facts, tree, lookup, text)"),
      ("real", "read: state", "boxwalk: `state` (facts, tree, every path printed)"),
      ("floor", "read", "floor: the same reads in C"),
      ("floor", "read: net", "floor: + the rtnetlink dumps of a host side and a box (steps with network namespaces)"),
      ("floor", "ledger record", "floor: the ledger record before an on-disk directory (write, fsync, rename), /run"),
      ("floor-tmpfs", "ledger record", "floor: the same ledger record on tmpfs"),
      ("shell", "read: lsns", "shell: `lsns --task PID`"),
      ("shell", "read: findmnt", "shell: `findmnt --task PID`"),
    ] {
      guard let r = row(group, name), let m = r.median else { continue }
      lines.append("| \(label) | \(ms(m)) | \(range(r)) |")
    }
    return lines + [""]
  }

  /// What any tool pays at least that runs the whole container and shows the state after each
  /// line, as boxwalk does: the C floor of the container, of its cgroup (made, joined, limited),
  /// of the ledger record before the root filesystem's directories and of one state read
  /// per line. Computed from the floors, not timed.
  func floorWithReads() -> Double? {
    guard let container = median("floor", "container"), let read = median("floor", "read") else { return nil }
    let cgroup = (median("floor", "cgroup new") ?? 0) + (median("floor", "cgroup set") ?? 0)
    return container + cgroup + (median("floor", "ledger record") ?? 0) + Double(StepCases.container.count) * read
  }

  /// The same step kinds on the rootless backend, run as nobody, beside the real backend.
  func rootlessTable() -> [String] {
    let cases = StepCases.all.filter { row("rootless", $0.name) != nil }
    guard !cases.isEmpty else { return [] }
    var lines = [
      "## The rootless backend",
      "",
      "The same lines run by an unprivileged user (nobody) on `--backend rootless`: every box joins",
      "the session's own user namespace, held by an anchor helper. Cgroups, the lab's host side and",
      "maps of IDs the user does not own need root and are refused there, so they are not measured.",
      "",
      "| step | rootless | perform / facts / Lab | real | rootless / real |",
      "| --- | ---: | --- | ---: | ---: |",
    ]
    for c in cases {
      guard let r = row("rootless", c.name), let m = r.median else {
        lines.append("| \(c.name) | \(row("rootless", c.name)?.extra["note"] ?? "not measured") | | | |")
        continue
      }
      let split = [r.extra["perform"], r.extra["facts"], r.extra["lab"]].map { $0.flatMap(Double.init).map(ms) ?? "-" }
        .joined(separator: " / ")
      let real = median("real", c.name)
      lines.append(
        "| \(c.name) | \(ms(m)) | \(split) | \(real.map(ms) ?? "-") | \(real.map { ratio(m / $0) } ?? "-") |")
    }
    return lines + [""]
  }

  func containerTable() -> [String] {
    var lines = [
      "## A whole container from nothing",
      "",
      "boxwalk types: `" + StepCases.container.joined(separator: "`, `") + "`.",
      "crun and runc run the same busybox root filesystem with the same six namespaces, /proc, a",
      "pids limit of 64 in a cgroup (cgroupfs driver) and /bin/true; boxwalk's lines make the same",
      "cgroup. The C floor mounts the same overlay of busybox; it has no cgroup and no ledger, which",
      "the computed row adds from the `cgroup new`, `cgroup set` and `ledger record` floors.",
      "",
      "| | median | p25 - p75 | boxwalk / this |",
      "| --- | ---: | --- | ---: |",
    ]
    let boxwalk = median("real", "container")
    for (group, name, label) in [
      ("real", "container", "boxwalk, typed into a running REPL (sum of the lines)"),
      ("real-tmpfs", "container", "boxwalk, the same with the state root on tmpfs"),
      ("whole", "boxwalk --backend real < container", "boxwalk as a whole process: start, the lines, exit"),
      ("floor", "container", "floor: the same kernel work in C, one process"),
      ("floor-tmpfs", "container", "floor, with the overlay's directories on tmpfs"),
      ("whole", "crun run", "`crun run` (in a mount namespace without cgroup2)"),
      ("whole", "runc run", "`runc run`"),
      ("whole", "crun run (box export)", "`crun run` of the bundle `box export` wrote of the same box"),
      ("whole", "runc run (box export)", "`runc run` of the bundle `box export` wrote of the same box"),
    ] {
      guard let r = row(group, name), let m = r.median else { continue }
      lines.append("| \(label)\(failures(r)) | \(ms(m)) | \(range(r)) | \(boxwalk.map { ratio($0 / m) } ?? "-") |")
      // What any tool pays that shows the state after every line, as boxwalk does: the kernel
      // work plus one read of the state per line, both at their C floor. Computed, not timed.
      if group == "floor", name == "container", let total = floorWithReads(), let read = median("floor", "read") {
        lines.append(
          "| floor + its cgroup + a ledger record + one state read per line (\(StepCases.container.count) x \(ms(read)), computed) "
            + "| \(ms(total)) | - | \(boxwalk.map { ratio($0 / total) } ?? "-") |")
      }
    }
    lines += [
      "", "boxwalk's lines one by one, with the split of each into the step's kernel work, reading the",
      "state back and Lab (state root on tmpfs):", "",
      "| line | /run | tmpfs | perform / facts / Lab (tmpfs) |", "| --- | ---: | ---: | --- |",
    ]
    for line in StepCases.container + [""] {
      let name = line.isEmpty ? "container" : "container: " + line
      let split = row("real-tmpfs", name).map { r in
        [r.extra["perform"], r.extra["facts"], r.extra["lab"]].map { $0.flatMap(Double.init).map(ms) ?? "-" }
          .joined(separator: " / ")
      }
      lines.append(
        "| \(line.isEmpty ? "all" : "`" + line + "`") | \(median("real", name).map(ms) ?? "-") "
          + "| \(median("real-tmpfs", name).map(ms) ?? "-") | \(split ?? "-") |")
    }
    return lines + [""]
  }

  func replTable() -> [String] {
    var lines = ["## The REPL", "", "| | median | p25 - p75 |", "| --- | ---: | --- |"]
    for (group, name, label) in [
      ("repl", "start (sim) (first line)", "start to prompt, sim (exec to the first line, stdin a pipe)"),
      ("repl", "start (sim)", "start to exit at end of input, sim"),
      ("repl", "start (real) (first line)", "start to prompt, real"),
      ("repl", "start (real)", "start to exit at end of input, real"),
      ("repl", "piped 100-step session (sim)", "a piped 100-step session, sim, whole process"),
    ] {
      guard let r = row(group, name), let m = r.median else { continue }
      lines.append("| \(label)\(failures(r)) | \(ms(m)) | \(range(r)) |")
    }
    if let r = row("sim", "replay steps/s"), let m = r.median {
      let files = r.extra["files"] ?? "?"
      let failures = r.extra["failures"] ?? "?"
      lines.append(
        "| transcript replay on sim (\(files) transcripts, golden matching included; \(failures) failing) | \(Int(m)) steps/s | \(Int(r.p25 ?? 0)) - \(Int(r.p75 ?? 0)) |"
      )
    }
    for (key, r) in rows.sorted(by: { $0.key < $1.key }) where key.hasPrefix("rss/") {
      let mb = (r.extra["maxrss_kb"].flatMap(Double.init) ?? 0) / 1024
      lines.append("| maximum RSS, \(key.dropFirst(4)) | \(one(mb)) MB (time \(r.median.map(ms) ?? "-") ms) | |")
    }
    lines += [
      "",
      "The curriculum is every command of every transcript (each transcript's boxes removed after",
      "it), then every lesson walked with `next`, `solution` and `check`; its runs exit 1 because",
      "transcripts show mistakes on purpose (`hostname` before `unshare uts`, ...).",
    ]
    return lines + [""]
  }

  /// Issue 15: a `hostname` step in the last box of a lab of 1, 10, 100 and 1,000 boxes, each
  /// with its own uts, ipc and net namespace (`boxwalk-bench scale`), and what building and
  /// tearing down such a lab costs.
  func scaleTable() -> [String] {
    let sizes = [1, 10, 100, 1000].filter { n in
      ["sim", "real"].contains { row($0, "scale: hostname step, \(n) boxes") != nil }
    }
    guard !sizes.isEmpty else { return [] }
    var lines = [
      "## Scale: a step in a lab of N boxes", "",
      "| boxes | sim: `hostname` step | real: `hostname` step | real: the same in the first box | real: build (`box new` + `unshare uts,ipc,net` each) | real: teardown (`quit`) | REPL max RSS (real) | helper RSS (median) |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in sizes {
      func step(_ g: String) -> String { median(g, "scale: hostname step, \(n) boxes").map { ms($0) + " ms" } ?? "-" }
      let build = median("real", "scale: build all \(n) boxes").map { ms($0) + " ms" } ?? "-"
      let down = median("real", "scale: teardown of \(n) boxes").map { ms($0) + " ms" } ?? "-"
      let rss = median("real", "scale: REPL max RSS kB, \(n) boxes").map { one($0 / 1024) + " MB" } ?? "-"
      let helper = median("real", "scale: helper RSS kB, \(n) boxes").map { one($0 / 1024) + " MB" } ?? "-"
      let first = median("real", "scale: hostname step in the first box, \(n) boxes").map { ms($0) + " ms" } ?? "-"
      lines.append("| \(n) | \(step("sim")) | \(step("real")) | \(first) | \(build) | \(down) | \(rss) | \(helper) |")
    }
    return lines + [
      "",
      "Each figure is one session (`boxwalk-bench scale`): the step is the median of its `hostname`",
      "steps in the last box, the whole `Session.execute` (kernel work, read-back, tree, diff, text);",
      "then the same steps in the first box, the oldest (bench/analysis.md, \"Scale\").",
      "",
    ]
  }

  // MARK: formatting

  func ms(_ v: Double) -> String {
    v >= 100 ? String(Int(v.rounded())) : v >= 10 ? one(v) : two(v)
  }
  func one(_ v: Double) -> String {
    let t = Int((v * 10).rounded())
    return "\(t / 10).\(t % 10)"
  }
  func two(_ v: Double) -> String {
    let t = Int((v * 100).rounded())
    let f = t % 100
    return "\(t / 100)." + (f < 10 ? "0" : "") + "\(f)"
  }
  func ratio(_ v: Double) -> String { (v >= 10 ? one(v) : two(v)) + "x" }
  func mark(_ ok: Bool) -> String { ok ? "yes" : "**no**" }
  func range(_ r: Row) -> String { "\(r.p25.map(ms) ?? "-") - \(r.p75.map(ms) ?? "-")" }

  /// A whole-process figure whose process failed is not a figure: say so beside it.
  func failures(_ r: Row) -> String {
    guard let n = r.extra["nonzero_exits"].flatMap({ Int($0) }), n > 0 else { return "" }
    return " (**\(n) runs exited non-zero**)"
  }
}
