import Glibc
import HostSnapshotSupport
import Kernel
import Lab
import Testing

@testable import CLI

/// The lesson runner on a real backend: rebuilding the lab for `back`. Every lesson's walkthrough
/// (labs, expects, checks failing before and passing after the solutions) is `boxwalk lint`'s job:
/// LessonLintTests on the simulator, and scripts/test runs `lint lessons/ --backend real` (and
/// rootless as nobody), so the suite does not walk them on the kernel a second time.
@Suite(.serialized, .hostUnchanged) struct LessonBackendTests {
  static let catalog = LessonCatalog.load(LessonCommandLineTests.root + "/lessons")

  @Test func theCatalogParses() {
    #expect(Self.catalog.problems == [])
    #expect(Self.catalog.lessons.contains { $0.id == "uts" })
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
