import Glibc
import Kernel
import Lab

/// Issue 15: what a step costs as the lab grows. One session builds `boxes` boxes, each with
/// namespaces of its own (`unshare uts,ipc,net` by default), then takes `steps` hostname steps in
/// the last box; `quit` tears it all down. Each line is a whole Session.execute: the kernel work,
/// the read-back, the tree, the diff and the rendering, as a learner waits for it.
enum ScaleBench {
  static func run(kernel: any Kernel, group: String, boxes: Int, steps: Int, unshare: String) throws {
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
    var step = Samples()
    for k in 0..<steps {
      var out: [String] = []
      step.add(milliseconds { out = session.execute("hostname h\(k % 2)") })
      if out.contains(where: { $0.hasPrefix("error") }) { failures += 1 }
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
      return Int(line.dropFirst(6).split(separator: " ").first ?? "")
    }
    return nil
  }
}
