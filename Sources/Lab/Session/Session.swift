import Kernel

/// A lab session: the host, named boxes, the current box, and a kernel doing the work. It turns
/// command lines into steps, runs them, diffs the state tree before and after, and renders the
/// result. The REPL, transcripts, lessons and demos all feed it lines (docs/architecture.md); it
/// never knows which backend it drives.
public final class Session: TranscriptSession {
  public let kernel: any Kernel
  /// The box commands act on; nil before the first `box new`.
  public internal(set) var current: String?
  /// One JSON object per executed line instead of text (`--json`).
  public var jsonMode: Bool
  /// Set by `quit`: the REPL stops reading and tears down.
  public internal(set) var quitRequested = false
  /// How many commands failed, for the exit status of a piped session.
  public internal(set) var failures = 0

  var builder = StateTreeBuilder()
  /// The state tree after the last step (or read).
  public internal(set) var tree: StateValue
  /// The facts the tree was built from (the network model reads them).
  var facts: KernelFacts
  var last: StepRecord?
  /// The command that failed after `last` ran, if one did: `explain` says so before describing
  /// `last`, so an explanation is never taken for the error's.
  var failedSinceLast: (input: String, headline: String)?
  var watches: [(number: Int, path: StatePath, value: StateValue?)] = []
  /// How `draw` draws: characters, width, ANSI highlights. The REPL sets it from the terminal;
  /// transcripts and lessons keep the plain style, so they print the same everywhere.
  public var pictureStyle = PictureStyle.plain
  /// `pictures on`: draw what each step changed after it.
  var picturesOn = false
  /// The last `ping`, which `draw net` replays on the current state to show its route.
  var lastPing: (NetSide, IPv4Address)?
  var nextWatch = 1
  /// After every step, also read the whole state and fail the step loudly when the tree read
  /// back for the step's reach differs from it (BOXWALK_CHECK_READBACK=1; the tests set it).
  public var checkReadBack = false

  public init(kernel: any Kernel, json: Bool = false) throws(KernelError) {
    self.kernel = kernel
    self.jsonMode = json
    self.tree = .map(StateMap())
    self.facts = try kernel.facts()
    self.tree = builder.build(facts)
  }

  public var prompt: String { current.map { "boxwalk[\($0)]> " } ?? "boxwalk> " }

  /// Box names in creation order, from the kernel's facts (the tree's top-level keys but `host`
  /// and `outside`, which the tree is built from).
  public var boxNames: [String] { facts.boxes.map(\.name) }

  /// Runs one command line and returns what it printed.
  public func execute(_ line: String) -> [String] {
    let (prompt, out) = run(line)
    return jsonMode
      ? [out.json(prompt: prompt, input: line, backend: kernel.backend, cgroup: kernel.cgroupVersion)] : out.lines
  }

  /// Runs one command line: the prompt it was typed at, and everything it produced.
  func run(_ line: String) -> (prompt: String, out: Output) {
    let prompt = self.prompt
    var out = Output()
    // Something died outside any step (a helper killed from outside): say so once, first.
    let notices = kernel.takeNotices()
    if !notices.isEmpty {
      out.lines += notices.map { "note: " + $0 }
      _ = try? refresh()
      if let box = current, !boxNames.contains(box) { current = nil }
    }
    do {
      let words: [String]
      do {
        words = try WordSplitter.split(line)
      } catch {
        throw LabError(
          "the command line has a character boxwalk does not accept",
          [
            ("where", "column \(error.column)"), ("line", escapedForTerminal(line)), ("rule", error.reason),
            LabError.unchanged,
          ])
      }
      if !words.isEmpty { try dispatch(words, line: line, into: &out) }
    } catch let e as LabError {
      failures += 1
      failedSinceLast = (line, e.headline)
      out.ok = false
      out.error = e.headline
      out.errno = e.errno
      out.lines += e.lines
    } catch {
      failures += 1
      out.ok = false
      out.lines.append("error: internal: \(error)")
    }
    return (prompt, out)
  }

  public func close() { kernel.teardown() }

  /// Reads the kernel again (the state may have changed outside a step, e.g. a box's process died).
  @discardableResult
  func refresh() throws -> StateValue {
    do {
      facts = try kernel.facts()
      tree = builder.build(facts)
    } catch {
      throw LabError("could not read the kernel state", [("call", error.description)])
    }
    return tree
  }
}

/// What one command printed, plus the structure `--json` reports.
struct Output {
  var lines: [String] = []
  var ok = true
  var error: String?
  /// The failed system call's errno (LabError.errno).
  var errno: Errno?
  var step: Step?
  /// The step's shell line, made when it ran (StepText.shell).
  var shell: String?
  var changes: [StateChange] = []
  var extra: [(String, StateValue)] = []

  func json(prompt: String, input: String, backend: Backend, cgroup: CgroupVersion) -> String {
    var m = StateMap()
    m["prompt"] = .string(prompt)
    m["input"] = .string(input)
    m["ok"] = .bool(ok)
    if let error { m["error"] = .string(error) }
    if let errno { m["errno"] = .string(errno.name) }
    if let step {
      m["step"] = .string(step.kindName)
      m["calls"] = .list(step.calls.map { .string($0) })
      m["shell"] = .string(shell ?? StepText.shell(step, cgroup: cgroup))
      m["changes"] = .list(
        changes.map { c in
          var e = StateMap()
          e["path"] = .string(c.path.description)
          e["old"] = c.old ?? .string("")
          e["new"] = c.new ?? .string("")
          if c.old == nil { e["old"] = nil }
          if c.new == nil { e["new"] = nil }
          return .map(e)
        })
    }
    for (k, v) in extra { m[k] = v }
    m["output"] = .list(lines.map { .string($0) })
    return JSON.encode(.map(m))
  }
}
