import Kernel
import Simulator
import Testing

@testable import Lab

/// Assertions against state trees: each operator, `@start` and `@prev`, and what a failure says.
@Suite struct LessonAssertionTests {
  func assertion(_ text: String) throws -> LessonAssertion {
    try LessonAssertionParser(path: "p", line: 1, needsMessage: false).parse(text)
  }

  /// host.hostname "h", web in uts:1 named "lab", a list and a map.
  static let now: StateValue = .map(
    StateMap([
      ("host", .map(StateMap([("hostname", .string("h")), ("ns", .map(StateMap([("uts", .string("uts:0"))])))]))),
      (
        "web",
        .map(
          StateMap([
            ("hostname", .string("lab")), ("ns", .map(StateMap([("uts", .string("uts:1"))]))),
            ("host_pid", .volatile(.int(4200))), ("tags", .list([.string("a"), .int(2)])),
            ("mounts", .map(StateMap([("/proc", .map(StateMap([("fstype", .string("proc"))])))]))),
            ("ps", .list([Self.process(1, 0, "sleep 1000"), Self.process(3, 1, "sleep 600")])),
          ]))
      ),
    ]))
  /// One entry of `BOX.pid.ps`, its host PID volatile as in the state tree.
  static func process(_ pid: Int, _ ppid: Int, _ cmd: String) -> StateValue {
    .map(
      StateMap([
        ("pid", .int(pid)), ("ppid", .int(ppid)), ("cmd", .string(cmd)), ("host_pid", .volatile(.int(4200 + pid))),
      ]))
  }
  static let start: StateValue = .map(
    StateMap([
      ("host", .map(StateMap([("hostname", .string("h")), ("ns", .map(StateMap([("uts", .string("uts:0"))])))])))
    ]))
  static let previous: StateValue = .map(
    StateMap([
      ("host", .map(StateMap([("hostname", .string("h"))]))),
      ("web", .map(StateMap([("hostname", .string("h")), ("ns", .map(StateMap([("uts", .string("uts:0"))])))]))),
    ]))

  func holds(_ text: String) throws -> Bool {
    LessonAssertionEvaluator.evaluate(
      try assertion(text), LessonTrees(now: Self.now, start: Self.start, previous: Self.previous)
    ).passed
  }

  @Test(arguments: [
    ("web.hostname == \"lab\"", true), ("web.hostname == \"h\"", false), ("web.hostname != \"h\"", true),
    ("web.host_pid == 4200", true), ("web.host_pid == \"4200\"", false), ("web.host_pid matches \"42[0-9]+\"", true),
    ("web.hostname contains \"la\"", true), ("web.hostname matches \"la\"", false),
    ("web.tags contains 2", true), ("web.tags contains \"b\"", false),
    ("web.mounts contains \"/proc\"", true), ("web.mounts[\"/proc\"].fstype == \"proc\"", true),
    ("web exists", true), ("db exists", false), ("db absent", true), ("web absent", false),
    ("host.hostname == @start", true), ("web.hostname == @start(host.hostname)", false),
    ("web.ns.uts != @start(host.ns.uts)", true), ("web.ns.uts == @prev", false), ("host.hostname == @prev", true),
    ("web.hostname == @prev(host.hostname)", false), ("web.nope == \"x\"", false), ("web.nope != \"x\"", false),
    ("web.hostname == @start", false),
    // Some element has every field asked for, whatever its place and its other fields.
    ("web.ps contains {cmd: \"sleep 600\", ppid: 1}", true), ("web.ps contains {ppid: 0}", true),
    ("web.ps contains {host_pid: 4203, pid: 3}", true), ("web.ps contains {cmd: \"sleep 600\", ppid: 0}", false),
    ("web.ps contains {cmd: \"sleep 700\"}", false), ("web.ps contains {nope: 1}", false),
    ("web.tags contains {a: 1}", false), ("web.hostname contains {cmd: \"lab\"}", false),
  ])
  func operators(_ text: String, _ expected: Bool) throws {
    #expect(try holds(text) == expected, "\(text)")
  }

  @Test func failuresSayWhatTheStateHolds() throws {
    let trees = LessonTrees(now: Self.now, start: Self.start, previous: Self.previous)
    func found(_ text: String) throws -> String {
      LessonAssertionEvaluator.evaluate(try assertion(text), trees).found
    }
    #expect(try found("web.hostname == \"x\"") == "web.hostname is \"lab\"")
    #expect(try found("db exists") == "db does not exist")
    #expect(try found("web.ns.uts == @prev") == "web.ns.uts is \"uts:1\" (@prev was \"uts:0\")")
    #expect(
      try found("web.hostname == @start") == "web.hostname is \"lab\"; web.hostname did not exist at the lesson start")
    #expect(try found("web.mounts == \"x\"") == "web.mounts is {/proc}")
    // Each element by the fields asked for: the host PIDs stay out of the message.
    #expect(
      try found("web.ps contains {cmd: \"sleep 700\", ppid: 1}")
        == "web.ps is [{cmd: \"sleep 1000\", ppid: 0}, {cmd: \"sleep 600\", ppid: 1}] (its cmd and ppid)")
    #expect(
      try found("web.hostname contains {cmd: \"lab\"}") == "web.hostname is \"lab\"; contains with fields needs a list")
  }

  @Test func evaluatesAgainstALiveSession() throws {
    let session = try Session(kernel: SimulatedKernel())
    let start = session.tree
    _ = session.execute("box new web")
    let previous = session.tree
    _ = session.execute("unshare uts")
    _ = session.execute("hostname lab-box")
    let trees = LessonTrees(now: session.tree, start: start, previous: previous)
    for text in [
      "web.hostname == \"lab-box\"", "host.hostname == @start", "web.ns.uts != @prev", "web.ns.uts == \"uts:1\"",
      "web.host_pid exists",
    ] {
      #expect(LessonAssertionEvaluator.evaluate(try assertion(text), trees).passed, "\(text)")
    }
  }
}
