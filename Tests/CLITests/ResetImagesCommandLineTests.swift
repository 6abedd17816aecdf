import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk reset --all --images` removes the image store (where BOXWALK_HOME points); without
/// --images the store is left as it was (docs/lessons.md, "Resetting a machine between classes").
/// Everything the command could reach is the test's own: XDG_STATE_HOME, XDG_RUNTIME_DIR,
/// XDG_DATA_HOME, HOME and BOXWALK_HOME all point into scratch directories, and the store the
/// calling user would have without them is checked to be as it was. As root the command also
/// runs `boxwalk cleanup` on /run/boxwalk (dead sessions only): run this suite under the host
/// lock, as a real-backend test.
@Suite(.serialized, .hostUnchanged) struct ResetImagesCommandLineTests {
  /// What is in a directory, recursively, with each file's size and mtime: nil when it is absent.
  static func fingerprint(_ path: String) -> [String]? {
    let fm = FileManager.default
    guard fm.fileExists(atPath: path) else { return nil }
    return (fm.subpaths(atPath: path) ?? []).sorted().map { sub in
      let a = try? fm.attributesOfItem(atPath: path + "/" + sub)
      return "\(sub) \(a?[.size] ?? "") \((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
    }
  }

  @Test func resetAllKeepsTheImageStoreAndWithImagesRemovesIt() throws {
    let state = try ClassroomCommandLineTests.scratch("state")
    let home = try ClassroomCommandLineTests.scratch("home")
    let store = try ClassroomCommandLineTests.scratch("store")
    let blob = store + "/oci/blobs/sha256/0123"
    try FileManager.default.createDirectory(atPath: store + "/oci/blobs/sha256", withIntermediateDirectories: true)
    try Data("layer".utf8).write(to: URL(fileURLWithPath: blob))
    try Data("{}".utf8).write(to: URL(fileURLWithPath: store + "/oci/index.json"))
    // The stores the calling user has without the overrides: root's, and the rootless one.
    let userHome = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    let userStores = ["/var/lib/boxwalk", userHome + "/.local/share/boxwalk"]
    let before = userStores.map(Self.fingerprint)
    func reset(_ args: [String]) throws -> CommandLineTests.Run {
      try CommandLineTests.boxwalk(
        ["reset", "--all", "--yes"] + args,
        env: [
          "XDG_STATE_HOME": state, "XDG_RUNTIME_DIR": state + "/run", "XDG_DATA_HOME": home + "/data",
          "HOME": home, "BOXWALK_HOME": store,
        ])
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
    #expect(userStores.map(Self.fingerprint) == before, "the calling user's own image stores are untouched")
  }
}
