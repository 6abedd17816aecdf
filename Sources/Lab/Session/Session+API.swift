import Kernel

/// What the daemon (`boxwalk daemon`, docs/daemon.md) needs of a session: one command line
/// answered both as the text the REPL prints and as the JSON object `--json` prints, from the same
/// single run, so a step is never run twice to get its two forms.
extension Session {
  /// One executed line in both forms.
  public struct APIReply: Sendable {
    /// The lines the REPL prints for the line (never the JSON form, whatever `jsonMode` says).
    public var text: [String]
    /// The `--json` object for the line: prompt, input, ok, the step's kind, system calls, shell
    /// line and changed state paths, and the output again.
    public var json: String
    /// Whether the line succeeded (false for a refusal or a kernel error).
    public var ok: Bool
    /// The prompt the line was typed at.
    public var prompt: String = ""
    /// What the step changed in the state tree (none for a refusal or a command that only reads).
    public var changes: [StateChange] = []
  }

  /// Runs `line` once and returns its text and its JSON form.
  public func executeForAPI(_ line: String) -> APIReply {
    let (prompt, out) = run(line)
    return APIReply(
      text: out.lines,
      json: out.json(prompt: prompt, input: line, backend: kernel.backend, cgroup: kernel.cgroupVersion),
      ok: out.ok, prompt: prompt, changes: out.changes)
  }

  /// The state tree read now, as the JSON `state --json` prints.
  public func stateJSONNow() throws -> String {
    try refresh()
    return stateJSON()
  }
}
