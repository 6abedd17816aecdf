import Glibc
import Kernel
import Lab

/// Issue 15: what a step costs as the lab grows. One session builds `boxes` boxes, each with
/// namespaces of its own (`unshare uts,ipc,net` by default), then takes `steps` hostname steps in
/// the last box; `quit` tears it all down. Each line is a whole Session.execute: the kernel work,
/// the read-back, the tree, the diff and the rendering, as a learner waits for it.
enum ScaleBench {
  /// `reference`, when given, is a second kernel of the same backend: a one-box lab built in it
  /// after the big one, whose `hostname` steps alternate with the big lab's. The ratio of the two
  /// is then taken in the same seconds of the same process, so a neighbour's build on this shared
  /// VM slows both alike (a 1-box session run minutes apart moved the ratio from 1.04x to 1.68x).
  /// It is built last so that its box, like the big lab's last box, is among the newest
  /// namespaces: the kernel finds a new network namespace's /proc/sys entries first (bench/analysis.md,
  /// "Scale"); steps in the big lab's first box, the oldest, are reported apart.
  static func run(
    kernel: any Kernel, reference: (any Kernel)? = nil, group: String, boxes: Int, steps: Int, unshare: String
  ) throws {
    let session = try Session(kernel: kernel)
    var closed = false
    defer { if !closed { session.close() } }
    var build = Samples()
    var failures = 0
    let buildTotal = milliseconds {
      for i in 1...boxes {
        for line in ["box new b\(i)"] + (unshare.isEmpty ? [] : ["unshare " + unshare]) {
          var out: [String] = []
          build.add(milliseconds { out = session.execute(line) })
          if out.contains(where: { $0.hasPrefix("error") }) {
            failures += 1
            say(out.joined(separator: "\n"))
          }
        }
      }
    }
    let small = try reference.map { k throws in try Session(kernel: k) }
    defer { small?.close() }
    for line in ["box new b1"] + (unshare.isEmpty ? [] : ["unshare " + unshare]) {
      if let out = small?.execute(line), out.contains(where: { $0.hasPrefix("error") }) {
        say(out.joined(separator: "\n"))
      }
    }
    var step = Samples(), beside = Samples()
    for k in 0..<steps {
      var out: [String] = []
      // Which lab goes first alternates, so neither always follows the other's step.
      if let small, k % 2 == 1 { beside.add(milliseconds { out = small.execute("hostname h\(k % 2)") }) }
      step.add(milliseconds { out += session.execute("hostname h\(k % 2)") })
      if let small, k % 2 == 0 { beside.add(milliseconds { out += small.execute("hostname h\(k % 2)") }) }
      if out.contains(where: { $0.hasPrefix("error") }) { failures += 1 }
    }
    // The same steps in the first box, the lab's oldest.
    var first = Samples()
    if boxes > 1 {
      _ = session.execute("use b1")
      for k in 0..<steps {
        var out: [String] = []
        first.add(milliseconds { out = session.execute("hostname h\(k % 2)") })
        if out.contains(where: { $0.hasPrefix("error") }) { failures += 1 }
      }
    }
    // Each helper's resident set: the box's host_pid (a volatile value of the tree).
    var helperRSS = Samples()
    for name in session.boxNames {
      guard case .int(let pid)? = session.tree.value(at: StatePath(keys: name, "host_pid"))?.unwrapped
      else { continue }
      if let kb = residentKilobytes(pid: pid) { helperRSS.add(Double(kb)) }
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let teardown = milliseconds { session.close() }
    closed = true
    let tag = [("boxes", String(boxes)), ("unshare", unshare.isEmpty ? "none" : unshare)]
    report(group, "scale: hostname step, \(boxes) boxes", step, tag + [("failures", String(failures))])
    if small != nil { report(group, "scale: hostname step, 1 box beside \(boxes)", beside, tag) }
    if !first.values.isEmpty { report(group, "scale: hostname step in the first box, \(boxes) boxes", first, tag) }
    report(group, "scale: build line (box new, unshare), \(boxes) boxes", build, tag)
    var total = Samples()
    total.add(buildTotal)
    report(group, "scale: build all \(boxes) boxes", total, tag)
    var down = Samples()
    down.add(teardown)
    report(group, "scale: teardown of \(boxes) boxes", down, tag)
    // Not timings: one sample of the REPL's maximum RSS, and each helper's RSS, in kB.
    var rss = Samples()
    rss.add(Double(usage.ru_maxrss))
    report(group, "scale: REPL max RSS kB, \(boxes) boxes", rss, tag + [("maxrss_kb", String(usage.ru_maxrss))])
    if !helperRSS.values.isEmpty { report(group, "scale: helper RSS kB, \(boxes) boxes", helperRSS, tag) }
  }

  /// VmRSS of /proc/PID/status, in kB (proc_pid_status(5)).
  static func residentKilobytes(pid: Int) -> Int? {
    guard let text = SimBench.readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      // "VmRSS:\t     592 kB": a tab, then spaces (proc_pid_status(5)).
      return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
    }
    return nil
  }
}
