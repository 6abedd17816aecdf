import Kernel
import Testing

@testable import Lab

@Suite struct TranscriptUpdaterTests {
  static let text = """
    # prose stays exactly as it was  
    #require sim
      boxwalk> box new web
      created box web
      boxwalk[web]> hostname
      {{host:ORIG}}

    Now the namespace.
      boxwalk[web]> unshare uts
      ...
      uts:1 (?)
      boxwalk[web]> show web.hostname
      web.hostname = "old"
      boxwalk[web]> ps
      PID CMD
      {{pid:C1}} sh
      boxwalk[web]> net veth
    #if real
      boxwalk[web]> real-only
      stale
    #endif

    """

  static let script: [String: [String]] = [
    "box new web": ["created box web"],
    "hostname": ["ci-runner-7"],
    "unshare uts": ["unshare(CLONE_NEWUTS)", "uts:0 -> uts:1"],
    "show web.hostname": ["web.hostname = \"ci-runner-7\""],
    "ps": ["PID CMD", "4242 sh", "4243 child of 4242"],
    "net veth": ["veth-web <-> eth0", "", "up"],
  ]

  /// Runs `text` on sim, rewrites it, and returns the new text and a run of the new text.
  func update(_ text: String, _ script: [String: [String]]) throws -> (String, TranscriptResult) {
    let factory = FakeTranscriptFactory(script: script, prompts: ["box new web": "boxwalk[web]> "])
    let runner = TranscriptRunner(factory: factory)
    let file = try parsed(text)
    let first = runner.run(file: file, backend: .sim)
    let rewritten = TranscriptUpdater().rewrite(file, using: first)
    return (rewritten, runner.run(file: try parsed(rewritten), backend: .sim))
  }

  @Test func keepsWhatMatchesReexpressesCapturesAndFillsMissingOutput() throws {
    let (rewritten, rerun) = try update(Self.text, Self.script)
    #expect(
      rewritten == """
        # prose stays exactly as it was  
        #require sim
          boxwalk> box new web
          created box web
          boxwalk[web]> hostname
          {{host:ORIG}}

        Now the namespace.
          boxwalk[web]> unshare uts
          ...
          uts:1 (?)
          boxwalk[web]> show web.hostname
          web.hostname = "{{host:ORIG}}"
          boxwalk[web]> ps
          PID CMD
          {{pid:C1}} sh
          4243 child of {{pid:C1}}
          boxwalk[web]> net veth
          veth-web <-> eth0

          up
        #if real
          boxwalk[web]> real-only
          stale
        #endif

        """)
    // What an update writes passes on the same backend.
    #expect(rerun.outcome == .pass)
  }

  @Test func passingFileIsUnchanged() throws {
    let text = "prose\r\n  boxwalk> hostname\n  {{host:H}}"
    let (rewritten, _) = try update(text, Self.script)
    #expect(rewritten == "prose\n  boxwalk> hostname\n  {{host:H}}")
  }

  @Test func skippedRunChangesNothing() throws {
    let text = "#require cgroup1\n  boxwalk> hostname\n  wrong\n"
    let (rewritten, _) = try update(text, Self.script)
    #expect(rewritten == text)
  }

  @Test func wrongPromptIsRewritten() throws {
    let text = "  boxwalk> box new web\n  created box web\n  boxwalk[db]> hostname\n  {{host:H}}\n"
    let (rewritten, rerun) = try update(text, Self.script)
    #expect(rewritten == "  boxwalk> box new web\n  created box web\n  boxwalk[web]> hostname\n  {{host:H}}\n")
    #expect(rerun.outcome == .pass)
  }

  @Test func shortValuesStayLiteralAndValuesOnlyCountWhole() {
    var bindings = TranscriptBindings()
    _ = bindings.bind("ONE", .pid, "1")
    _ = bindings.bind("P", .pid, "4242")
    _ = bindings.bind("IP", .ip4, "10.0.0.1")
    _ = bindings.bind("IP2", .ip4, "10.0.0.12")
    #expect(TranscriptUpdater.express("1 sh 4242 42421 x4242", bindings) == "1 sh {{pid:P}} 42421 x4242")
    #expect(TranscriptUpdater.express("via 10.0.0.12 10.0.0.1.", bindings) == "via {{ip4:IP2}} {{ip4:IP}}.")
  }

  @Test func outputThatLooksLikeSyntaxIsEscapedAndStillMatches() throws {
    let odd = [
      "...", "    ...", "{{not a token}}", "boxwalk> not an input", "boxwalk[web]> nor this", "ends like (?)",
      "\u{1B}[1mbold\u{1B}[0m", "{\"state\": {\"host\": {}}}", "a\ttab", "{{{",
    ]
    let (rewritten, rerun) = try update("  boxwalk> odd\n", ["odd": odd])
    #expect(rerun.outcome == .pass, "\(rewritten)")
    #expect(rewritten.contains("\n  {{re:\\.\\.\\.}}\n"))
    #expect(rewritten.contains("\n      {{re:\\.\\.\\.}}\n"))
    #expect(rewritten.contains("  {{re:b}}oxwalk> not an input\n"))
    #expect(rewritten.contains("  ends like {{re:\\(\\?\\)}}\n"))
    #expect(rewritten.contains("  {{re:\\x{1B}}}[1mbold{{re:\\x{1B}}}[0m\n"))
    #expect(rewritten.contains("  {\"state\": {\"host\": {}}}\n"))
  }

  @Test func captureNextToABraceStaysAToken() throws {
    let text = "  boxwalk> hostname\n  {{host:H}}\n  boxwalk> show\n  old\n"
    let (rewritten, rerun) = try update(text, ["hostname": ["lab-box"], "show": ["{lab-box}"]])
    #expect(rewritten.contains("  {{re:\\{}}{{host:H}}}\n"))
    #expect(rerun.outcome == .pass, "\(rewritten)")
  }
}
