import Glibc
import HostSnapshotSupport
import Kernel
import Lab
import Testing

@testable import CLI

/// Every lesson in lessons/ works on a real backend too: the walkthrough (labs, expects, checks
/// failing before and passing after the solutions), and the runner rebuilding the lab for `back`.
/// On the simulator `lint` proves the same in every run (LessonLintTests).
@Suite(.serialized, .hostUnchanged) struct LessonBackendTests {
  static let catalog = LessonCatalog.load(LessonCommandLineTests.root + "/lessons")

  @Test func theCatalogParses() {
    #expect(Self.catalog.problems == [])
    #expect(Self.catalog.lessons.contains { $0.id == "uts" })
  }

  @Test(arguments: [Backend.sim, .real])
  func everyLessonsSolutionPasses(_ backend: Backend) throws {
    guard backend == .sim || geteuid() == 0 else {
      print("SKIP every lesson on \(backend.rawValue): the real backend needs root")
      return
    }
    for lesson in Self.catalog.lessons {
      let walk = LessonWalkthrough.run(lesson, makeSession: LabStartup.sessionFactory(backend, json: false))
      #expect(walk.findings.isEmpty, "\(walk.findings.map(\.description).joined(separator: "\n"))")
      #expect(walk.completed)
    }
  }

  @Test(arguments: [Backend.sim, .real])
  func backRebuildsTheLab(_ backend: Backend) throws {
    guard backend == .sim || geteuid() == 0 else {
      print("SKIP back on \(backend.rawValue): the real backend needs root")
      return
    }
    let factory = LabStartup.sessionFactory(backend, json: false)
    let runner = LessonRunner(
      session: try factory(), lessons: Self.catalog.lessons, makeSession: factory,
      progress: MemoryLessonProgressStore(welcomed: true))
    defer { runner.close() }
    for line in ["lesson uts", "next", "solution", "next", "solution", "next", "next"] { _ = runner.execute(line) }
    #expect(runner.position?.step == "solo")
    #expect(runner.session.tree.value(at: StatePath(keys: "db", "hostname")) == .string("lab-box"))
    _ = runner.execute("back")
    #expect(runner.position?.step == "join")
    #expect(runner.session.tree.value(at: StatePath(keys: "db")) == nil)
    #expect(runner.session.tree.value(at: StatePath(keys: "web", "hostname")) == .string("lab-box"))
    #expect(runner.failures == 0)
  }
}
