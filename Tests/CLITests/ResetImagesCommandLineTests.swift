import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk reset --all --images` removes the image store (where BOXWALK_HOME points); without
/// --images the store is left as it was (docs/lessons.md, "Resetting a machine between classes").
@Suite(.serialized, .hostUnchanged) struct ResetImagesCommandLineTests {
  @Test func resetAllKeepsTheImageStoreAndWithImagesRemovesIt() throws {
    let state = try ClassroomCommandLineTests.scratch("state")
    let store = try ClassroomCommandLineTests.scratch("store")
    let blob = store + "/oci/blobs/sha256/0123"
    try FileManager.default.createDirectory(atPath: store + "/oci/blobs/sha256", withIntermediateDirectories: true)
    try Data("layer".utf8).write(to: URL(fileURLWithPath: blob))
    try Data("{}".utf8).write(to: URL(fileURLWithPath: store + "/oci/index.json"))
    func reset(_ args: [String]) throws -> CommandLineTests.Run {
      try CommandLineTests.boxwalk(
        ["reset", "--all", "--yes"] + args,
        env: ["XDG_STATE_HOME": state, "XDG_RUNTIME_DIR": state + "/run", "BOXWALK_HOME": store])
    }

    let kept = try reset([])
    #expect(kept.status == 0, "\(kept.out)")
    #expect(!kept.out.contains("image store"), "\(kept.out)")
    #expect(FileManager.default.fileExists(atPath: blob), "without --images the store stays")

    let removed = try reset(["--images"])
    #expect(removed.status == 0, "\(removed.out)")
    #expect(removed.lines.contains("  the image store   \(store)"), "the plan names the store: \(removed.out)")
    #expect(
      removed.lines.contains("removed the image store \(store) (the busybox image is built again at first use)"),
      "\(removed.out)")
    #expect(!FileManager.default.fileExists(atPath: store), "the store is gone, directory and all")

    let again = try reset(["--images"])
    #expect(again.status == 0, "\(again.out)")
    #expect(again.lines.contains("no image store at \(store): nothing to remove"), "\(again.out)")
  }
}
