import Glibc
import HostSnapshotSupport
import Kernel
import Lab
import Testing

@testable import CLI

/// A lesson's lab is rebuilt by replaying its commands (`lesson`, `back`, `reset`, `lint`), so
/// each lab the lesson engine makes starts with an image store of its own, holding busybox
/// alone, on every backend: an image committed in one lab is not in the next. With the
/// machine's store, replaying a lesson that commits `web-v1` failed the second time ("an image
/// or layer named web-v1 exists"), and a check that the image exists passed before the learner
/// made it.
@Suite(.serialized, .hostUnchanged) struct LessonLabImagesTests {
  @Test(arguments: [Backend.sim, .real, .rootless])
  func eachLabStartsWithBusyboxAlone(_ backend: Backend) throws {
    guard backend == .sim || geteuid() == 0 else {
      print("SKIP lesson labs on \(backend.rawValue): it needs root")
      return
    }
    if let reason = LabSessionFactory().unavailableReason(for: backend) {
      print("SKIP lesson labs on \(backend.rawValue): \(reason)")
      return
    }
    let factory = LabStartup.sessionFactory(backend, json: false)
    let images = StatePath(keys: "host", "images")
    func imageNames(_ session: Session) -> [String] {
      guard case .map(let m)? = session.tree.value(at: images) else { return [] }
      return m.keys
    }
    let first = try factory()
    for line in ["box new a", "unshare mnt", "overlay busybox", "write /probe.txt hi", "commit lab-probe"] {
      _ = first.execute(line)
    }
    #expect(first.failures == 0)
    #expect(imageNames(first) == ["busybox", "lab-probe"])
    first.close()

    let second = try factory()
    defer { second.close() }
    #expect(imageNames(second) == ["busybox"])
    _ = second.execute("box new a")
    _ = second.execute("unshare mnt")
    _ = second.execute("overlay busybox")
    _ = second.execute("commit lab-probe")
    #expect(second.failures == 0, "the same commit in a new lab must work again")
  }
}
