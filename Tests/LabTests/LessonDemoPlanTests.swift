import Kernel
import Simulator
import Testing

@testable import Lab

/// What `boxwalk replay` shows and when: captions, pauses, quiet commands before --from, nothing
/// after --to; and divergences found with the transcript matcher.
@Suite struct LessonDemoPlanTests {
  static let text = """
    # Title
    #
    # before one
      boxwalk> box new web
      created box web: one process, sharing every namespace with the host
      ...
    #pause look
      boxwalk[web]> hostname
      {{host:ORIG}}
    # before three
    #sleep 1s
      boxwalk[web]> unshare uts
      ...
    #if real
      boxwalk[web]> box ls
    #endif
    # the end

    """

  func plan(from: Int? = nil, to: Int? = nil) throws -> DemoPlan {
    try DemoPlan(
      file: try TranscriptFile.parse(path: "d.transcript", text: Self.text), features: ["sim"], from: from, to: to)
  }

  func describe(_ plan: DemoPlan) -> [String] {
    plan.events.map { event in
      switch event {
      case .caption(let t): "caption " + t
      case .pause(let t): "pause " + t
      case .sleep(let d): d == .seconds(1) ? "sleep 1s" : "sleep ?"
      case .command(let n, let step, let quiet): "\(quiet ? "quiet" : "command") \(n) \(step.command)"
      }
    }
  }

  @Test func theWholeFile() throws {
    let p = try plan()
    #expect(p.commandCount == 3, "#if real is not selected on sim")
    #expect(
      describe(p) == [
        "caption Title", "caption ", "caption before one", "command 1 box new web", "pause look", "command 2 hostname",
        "caption before three", "sleep 1s", "command 3 unshare uts", "caption the end",
      ])
  }

  @Test func aRange() throws {
    #expect(
      describe(try plan(from: 2, to: 2)) == ["quiet 1 box new web", "pause look", "command 2 hostname"])
    #expect(
      describe(try plan(from: 3)).prefix(3) == ["quiet 1 box new web", "quiet 2 hostname", "caption before three"])
  }

  @Test(arguments: [(0, 3), (4, 3), (1, 4), (3, 2)])
  func aBadRangeIsAnError(_ from: Int, _ to: Int) throws {
    #expect(throws: LabError.self) { try plan(from: from, to: to) }
  }

  @Test func divergencesAreFoundWithCaptures() throws {
    let file = try TranscriptFile.parse(path: "d.transcript", text: Self.text)
    let steps = file.allSteps
    let session = try Session(kernel: SimulatedKernel())
    let checker = DemoChecker()
    for step in steps.prefix(2) {
      let prompt = session.prompt
      #expect(checker.divergence(step, prompt: prompt, printed: session.execute(step.command)) == nil)
    }
    // The same step again: the capture ORIG is bound, and a different value diverges.
    let diff = checker.divergence(steps[1], prompt: "boxwalk[web]> ", printed: ["other-host"])
    #expect(diff?.contains("-  {{host:ORIG}}") == true)
    #expect(diff?.contains("+  other-host") == true)
  }

  @Test func unavailableReasons() throws {
    let file = try TranscriptFile.parse(path: "r.transcript", text: "#require root\n  boxwalk> box ls\n")
    #expect(DemoPlan.unavailableReason(file, backend: .sim, features: ["sim"])?.hasPrefix("#require root") == true)
    #expect(DemoPlan.unavailableReason(file, backend: .real, features: ["root", "real"]) == nil)
  }
}
