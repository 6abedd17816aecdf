import Foundation
import HostSnapshotSupport
import Testing

/// A demo must run again on the machine it ran on: replaying 06-layers twice on one image store
/// (the persistent one `boxwalk replay` uses, not `boxwalk test`'s throwaway one) prints the file's
/// text both times. Before `image rm`, the second run's `commit web-v1` was refused: the first
/// run's image was still in the store.
@Suite(.serialized, .hostUnchanged) struct LayersReplayTwiceTests {
  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func replayingTheLayersDemoTwiceOnOneStorePrintsTheFileBothTimes() throws {
    let home = TestScratch.path("store")
    let file = LessonCommandLineTests.root + "/transcripts/06-layers.transcript"
    for round in 1...2 {
      let run = try CommandLineTests.boxwalk(
        ["replay", file, "--backend", "real", "--pace", "0"], env: ["BOXWALK_HOME": home])
      #expect(run.status == 0, "round \(round): \(run.out)")
      #expect(run.out.contains("all as in the file"), "round \(round): \(run.out.suffix(3000))")
    }
  }
}
