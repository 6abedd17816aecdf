import Kernel
import Lab

/// A scripted REPL for transcript tests: each command prints its scripted lines, and a command in
/// `prompts` changes the prompt afterwards (as `box new web` makes `boxwalk[web]> `).
final class FakeTranscriptSession: TranscriptSession {
  var prompt: String
  let script: [String: [String]]
  let prompts: [String: String]
  private(set) var executed: [String] = []
  private(set) var closed = false

  init(script: [String: [String]], prompts: [String: String] = [:], prompt: String = "boxwalk> ") {
    self.script = script
    self.prompts = prompts
    self.prompt = prompt
  }

  func execute(_ line: String) -> [String] {
    executed.append(line)
    if let next = prompts[line] { prompt = next }
    return script[line] ?? ["error: unknown command \(line)"]
  }

  func close() { closed = true }
}

struct FakeStartError: Error, CustomStringConvertible {
  var description: String { "helper exited with EPERM" }
}

/// Hands out fake sessions, one script per backend, and records them for inspection.
final class FakeTranscriptFactory: TranscriptSessionFactory {
  var scripts: [Backend: [String: [String]]]
  var prompts: [String: String]
  var featureSets: [Backend: Set<String>]
  var unavailable: [Backend: String] = [:]
  var failToStart = false
  private(set) var sessions: [FakeTranscriptSession] = []

  init(
    script: [String: [String]], prompts: [String: String] = [:],
    features: [Backend: Set<String>] = [.sim: ["sim"], .real: ["real", "root", "cgroup2", "overlay"]]
  ) {
    self.scripts = [.sim: script, .real: script, .rootless: script]
    self.prompts = prompts
    self.featureSets = features
  }

  func features(for backend: Backend) -> Set<String> { featureSets[backend] ?? [] }
  func unavailableReason(for backend: Backend) -> String? { unavailable[backend] }

  func makeSession(backend: Backend) throws -> any TranscriptSession {
    if failToStart { throw FakeStartError() }
    let session = FakeTranscriptSession(script: scripts[backend] ?? [:], prompts: prompts)
    sessions.append(session)
    return session
  }
}

/// Parses test text, failing the test with the parse error's text if it does not parse.
func parsed(_ text: String, path: String = "t.transcript") throws -> TranscriptFile {
  try TranscriptFile.parse(path: path, text: text)
}

/// The parse error for `text`, or nil when it parses.
func parseError(_ text: String) -> TranscriptParseError? {
  do {
    _ = try TranscriptFile.parse(path: "t.transcript", text: text)
    return nil
  } catch {
    return error
  }
}
