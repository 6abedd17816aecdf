import Kernel
import Lab
import Simulator
import Testing

/// The transcript engine driving the real `Session` on the simulator, through the same seam the
/// CLI uses: the prompt check and captures against the REPL's own text.
@Suite struct TranscriptSimulatorTests {
  struct SimFactory: TranscriptSessionFactory {
    func features(for backend: Backend) -> Set<String> { [backend.rawValue] }
    func unavailableReason(for backend: Backend) -> String? { backend == .sim ? nil : "sim only in this test" }
    func makeSession(backend: Backend) throws -> any TranscriptSession { try Session(kernel: SimulatedKernel()) }
  }

  static let text = """
    # The host's name, seen from a box that shares its UTS namespace.
      boxwalk> box new web
      created box web{{*}}
      ...
      boxwalk[web]> hostname
      {{host:ORIG}}
      boxwalk[web]> show host.hostname
      host.hostname = "{{host:ORIG}}"

    """

  @Test func passesOnTheSimulator() throws {
    let result = TranscriptRunner(factory: SimFactory()).run(file: try parsed(Self.text), backend: .sim)
    #expect(result.outcome == .pass, "\(TranscriptReport.lines(for: result).joined(separator: "\n"))")
    #expect(result.steps.last?.bindingsAfter["ORIG"]?.value.isEmpty == false)
  }

  @Test func aWrongBoxInThePromptFails() throws {
    let text = Self.text.replacing("boxwalk[web]> hostname", with: "boxwalk[db]> hostname")
    let result = TranscriptRunner(factory: SimFactory()).run(file: try parsed(text), backend: .sim)
    guard case .fail(let failures) = result.outcome else {
      Issue.record("expected a failure, got \(result.outcome)")
      return
    }
    #expect(failures.map(\.line) == [5])
    #expect(
      failures.first?.diff.prefix(4) == [
        "--- expected", "+++ actual", "-  boxwalk[db]> hostname", "+  boxwalk[web]> hostname",
      ])
  }

  @Test func otherBackendsSkipHere() throws {
    let result = TranscriptRunner(factory: SimFactory()).run(file: try parsed(Self.text), backend: .real)
    #expect(result.outcome == .skip("backend real unavailable: sim only in this test"))
  }
}
