import Foundation
import HostSnapshotSupport
import Testing

/// The consistency check of the incremental read-back (BOXWALK_CHECK_READBACK=1): after every
/// step of every transcript and regression, the state read back for the step's reach must be the
/// state a full read gives; a difference fails the step loudly, so the transcript fails.
@Suite(.serialized, .hostUnchanged) struct ReadBackCheckTests {
  static let check = ["BOXWALK_CHECK_READBACK": "1"]

  static func expectAllPass(_ r: CommandLineTests.Run) {
    #expect(r.status == 0, Comment(rawValue: r.out))
    let summary = r.lines.last { !$0.isEmpty } ?? ""
    #expect(summary.contains(" passed, 0 failed, "), Comment(rawValue: r.out))
    // Every transcript and regression ran: a check that skips them is no test.
    #expect((Int(summary.split(separator: " ").first ?? "") ?? 0) >= 40, Comment(rawValue: summary))
    #expect(!r.out.contains("differs from a full read"), Comment(rawValue: r.out))
  }

  @Test func everyTranscriptReadsBackWhatAFullReadSeesOnSim() throws {
    Self.expectAllPass(
      try CommandLineTests.boxwalk(
        ["test", "transcripts/", "transcripts/regressions/", "--backend", "sim"], env: Self.check))
  }

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"))
  func everyTranscriptReadsBackWhatAFullReadSeesOnReal() throws {
    Self.expectAllPass(
      try CommandLineTests.boxwalk(
        ["test", "transcripts/", "transcripts/regressions/", "--backend", "real"], env: Self.check))
  }
}
