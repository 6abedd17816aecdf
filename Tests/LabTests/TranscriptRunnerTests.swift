import Kernel
import Testing

@testable import Lab

@Suite struct TranscriptRunnerTests {
  static let webPrompts = ["box new web": "boxwalk[web]> "]

  static let utsText = """
    # UTS namespace: a hostname of your own
      boxwalk> box new web
      created box web
      boxwalk[web]> hostname
      {{host:ORIG}}
    #pause the box still has the host's name
    #sleep 200ms
      boxwalk[web]> show host.hostname
      host.hostname = "{{host:ORIG}}"
      boxwalk[web]> ps
      PID CMD
      {{pid:C1}} sh
      1 init (?)

    """

  static let utsScript: [String: [String]] = [
    "box new web": ["created box web"],
    "hostname": ["ci-runner-7"],
    "show host.hostname": ["host.hostname = \"ci-runner-7\""],
    "ps": ["PID   CMD  ", "42    sh", "", ""],
  ]

  @Test func passingFileClosesItsSession() throws {
    let factory = FakeTranscriptFactory(script: Self.utsScript, prompts: Self.webPrompts)
    let file = try parsed(Self.utsText, path: "transcripts/03-uts.transcript")
    let result = TranscriptRunner(factory: factory).run(file: file, backend: .sim)
    #expect(result.outcome == .pass)
    #expect(TranscriptReport.lines(for: result) == ["PASS transcripts/03-uts.transcript [backend=sim]"])
    #expect(factory.sessions.count == 1)
    #expect(factory.sessions.first?.closed == true)
    #expect(factory.sessions.first?.executed == ["box new web", "hostname", "show host.hostname", "ps"])
    #expect(result.steps.last?.bindingsAfter.summary == "ORIG=ci-runner-7 C1=42")
  }

  @Test func failureReportShowsEveryFailingStepWithItsDiffAndBindings() throws {
    var script = Self.utsScript
    script["show host.hostname"] = ["host.hostname = \"lab-box\""]
    script["ps"] = ["PID CMD", "42 sh", "43 sleep"]
    let factory = FakeTranscriptFactory(script: script, prompts: Self.webPrompts)
    let file = try parsed(Self.utsText, path: "transcripts/03-uts.transcript")
    let result = TranscriptRunner(factory: factory).run(file: file, backend: .sim)
    #expect(
      TranscriptReport.lines(for: result) == [
        "FAIL transcripts/03-uts.transcript [backend=sim]",
        "transcripts/03-uts.transcript:8: boxwalk[web]> show host.hostname",
        "--- expected",
        "+++ actual",
        "   boxwalk[web]> show host.hostname",
        "-  host.hostname = \"{{host:ORIG}}\"",
        "+  host.hostname = \"lab-box\"",
        "bindings: ORIG=ci-runner-7",
        "transcripts/03-uts.transcript:10: boxwalk[web]> ps",
        "--- expected",
        "+++ actual",
        "   boxwalk[web]> ps",
        "   PID CMD",
        "   {{pid:C1}} sh",
        "   1 init (?)",
        "+  43 sleep",
        "bindings: ORIG=ci-runner-7 C1=42",
      ])
    // The run went on after the first failure, and the session was still closed.
    #expect(factory.sessions.first?.executed.count == 4)
    #expect(factory.sessions.first?.closed == true)
  }

  @Test func promptIsPartOfTheExpectation() throws {
    let text = "  boxwalk> box new web\n  created box web\n  boxwalk[db]> hostname\n  {{host}}\n"
    let factory = FakeTranscriptFactory(script: Self.utsScript, prompts: Self.webPrompts)
    let result = TranscriptRunner(factory: factory).run(file: try parsed(text), backend: .sim)
    #expect(
      TranscriptReport.lines(for: result) == [
        "FAIL t.transcript [backend=sim]",
        "t.transcript:3: boxwalk[db]> hostname",
        "--- expected",
        "+++ actual",
        "-  boxwalk[db]> hostname",
        "+  boxwalk[web]> hostname",
        "   {{host}}",
      ])
  }

  @Test func unexpectedOutputAndMissingOutputFail() throws {
    let text = "  boxwalk> hostname\n  boxwalk> box new web\n  created box web\n  and more\n"
    let factory = FakeTranscriptFactory(script: Self.utsScript, prompts: Self.webPrompts)
    let result = TranscriptRunner(factory: factory).run(file: try parsed(text), backend: .sim)
    guard case .fail(let failures) = result.outcome else {
      Issue.record("expected a failure, got \(result.outcome)")
      return
    }
    #expect(failures.map(\.line) == [1, 2])
    #expect(failures[0].diff == ["--- expected", "+++ actual", "   boxwalk> hostname", "+  ci-runner-7"])
    #expect(failures[1].diff.suffix(2) == ["   created box web", "-  and more"])
    #expect(failures[1].bindings == "")
  }

  @Test func failedRequireIsASkipWithTheReasonAndRunsNothing() throws {
    let text = "#require cgroup1 overlay\n  boxwalk> hostname\n  ci-runner-7\n"
    let factory = FakeTranscriptFactory(script: Self.utsScript)
    let runner = TranscriptRunner(factory: factory)
    let result = runner.run(file: try parsed(text), backend: .real)
    #expect(result.outcome == .skip("#require cgroup1 (line 1): not available on backend real here"))
    #expect(
      TranscriptReport.lines(for: result) == [
        "SKIP t.transcript [backend=real]: #require cgroup1 (line 1): not available on backend real here"
      ])
    #expect(factory.sessions.isEmpty)
    // On sim neither feature is there.
    #expect(
      runner.run(file: try parsed(text), backend: .sim).outcome
        == .skip("#require cgroup1 overlay (line 1): not available on backend sim here"))
  }

  @Test func requireOfTheBackendItselfHolds() throws {
    let text = "#require sim\n  boxwalk> hostname\n  ci-runner-7\n"
    let factory = FakeTranscriptFactory(script: Self.utsScript, features: [:])
    let runner = TranscriptRunner(factory: factory)
    #expect(runner.run(file: try parsed(text), backend: .sim).outcome == .pass)
    #expect(
      runner.run(file: try parsed(text), backend: .real).outcome
        == .skip("#require sim (line 1): not available on backend real here"))
  }

  @Test func backendsAndUnavailableBackendsSkip() throws {
    let factory = FakeTranscriptFactory(script: Self.utsScript)
    factory.unavailable[.rootless] = "unprivileged user namespaces are disabled"
    let runner = TranscriptRunner(factory: factory)
    let file = try parsed("#backends real, rootless\n  boxwalk> hostname\n  ci-runner-7\n")
    #expect(runner.run(file: file, backend: .sim).outcome == .skip("#backends real, rootless does not include sim"))
    #expect(
      runner.run(file: file, backend: .rootless).outcome
        == .skip("backend rootless unavailable: unprivileged user namespaces are disabled"))
    #expect(runner.run(file: file, backend: .real).outcome == .pass)
    #expect(factory.sessions.count == 1)
  }

  @Test func sessionThatCannotStartIsAFailure() throws {
    let factory = FakeTranscriptFactory(script: Self.utsScript)
    factory.failToStart = true
    let result = TranscriptRunner(factory: factory).run(file: try parsed("  boxwalk> hostname\n"), backend: .sim)
    #expect(result.outcome == .error("could not start a sim session: helper exited with EPERM"))
    #expect(
      TranscriptReport.lines(for: result) == [
        "FAIL t.transcript [backend=sim]: could not start a sim session: helper exited with EPERM"
      ])
    #expect(TranscriptReport.summary([result]) == "0 passed, 1 failed, 0 skipped")
  }

  @Test func ifElseSelectsStepsByFeature() throws {
    let text = """
        boxwalk> box new web
        created box web
      #if cgroup2
        boxwalk[web]> cgroup new
        cgroup v2
      #else
        boxwalk[web]> hostname
        {{host}}
      #endif
      """
    var script = Self.utsScript
    script["cgroup new"] = ["cgroup v2"]
    let factory = FakeTranscriptFactory(script: script, prompts: Self.webPrompts)
    let runner = TranscriptRunner(factory: factory)
    #expect(runner.run(file: try parsed(text), backend: .real).outcome == .pass)
    #expect(runner.run(file: try parsed(text), backend: .sim).outcome == .pass)
    #expect(factory.sessions.map(\.executed) == [["box new web", "cgroup new"], ["box new web", "hostname"]])
  }

  @Test func capturesAreScopedToFileAndBackend() throws {
    let text =
      "  boxwalk> hostname\n  {{host:ORIG}}\n  boxwalk> show host.hostname\n  host.hostname = \"{{host:ORIG}}\"\n"
    let factory = FakeTranscriptFactory(script: Self.utsScript)
    factory.scripts[.real] = [
      "hostname": ["build-host"], "show host.hostname": ["host.hostname = \"build-host\""],
    ]
    let runner = TranscriptRunner(factory: factory)
    let file = try parsed(text)
    let results = [runner.run(file: file, backend: .sim), runner.run(file: file, backend: .real)]
    #expect(results.map(\.outcome) == [.pass, .pass])
    #expect(results.map { $0.steps.last?.bindingsAfter.summary } == ["ORIG=ci-runner-7", "ORIG=build-host"])
  }

  @Test func failedStepStillBindsWhatMatchedSoLaterStepsAreNotBlamed() throws {
    let text = """
        boxwalk> ps
        PID CMD
        {{pid:C1}} sh
        wrong
        boxwalk> kill 42
        killed {{pid:C1}}
      """
    let factory = FakeTranscriptFactory(script: ["ps": ["PID CMD", "42 sh"], "kill 42": ["killed 42"]])
    let result = TranscriptRunner(factory: factory).run(file: try parsed(text), backend: .sim)
    guard case .fail(let failures) = result.outcome else {
      Issue.record("expected a failure")
      return
    }
    #expect(failures.map(\.line) == [1])
    #expect(failures[0].bindings == "C1=42")
  }

  @Test func summaryCountsFileBackendResults() {
    let results = [
      TranscriptResult(path: "a", backend: .sim, outcome: .pass, steps: []),
      TranscriptResult(path: "a", backend: .real, outcome: .skip("no root"), steps: []),
      TranscriptResult(path: "b", backend: .sim, outcome: .fail([]), steps: []),
      TranscriptResult(path: "b", backend: .real, outcome: .pass, steps: []),
      TranscriptResult(path: "c", backend: .sim, outcome: .error("x"), steps: []),
    ]
    #expect(TranscriptReport.summary(results) == "2 passed, 2 failed, 1 skipped")
    #expect(TranscriptReport.summary([]) == "0 passed, 0 failed, 0 skipped")
  }
}
