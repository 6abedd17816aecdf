import Glibc
import HostSnapshotSupport
import Kernel
import Lab
import Testing

@testable import CLI

/// Every transcript in transcripts/ is a golden test: on the simulator in every run, and on the
/// real kernel when the tests run as root (docs/transcripts.md). A skip is reported as a skip.
@Suite(.serialized, .hostUnchanged) struct TranscriptReplayTests {
  static let root: String = {
    // Tests/CLITests/ThisFile.swift -> the package root.
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  static let files: [String] = (try? TestCommand.transcriptFiles([root + "/transcripts"])) ?? []

  static func parse(_ path: String) throws -> TranscriptFile {
    let bytes = try Files.read(path)
    return try TranscriptFile.parse(path: path, text: String(decoding: bytes, as: UTF8.self))
  }

  @Test func thereAreTranscripts() {
    #expect(Self.files.contains { $0.hasSuffix("/01-uts.transcript") })
  }

  @Test(arguments: files)
  func passesOnTheSimulator(_ path: String) throws {
    try check(path, .sim)
  }

  @Test(.enabled(if: geteuid() == 0, "the real backend needs root"), arguments: files)
  func passesOnTheRealKernel(_ path: String) throws {
    try check(path, .real)
  }

  func check(_ path: String, _ backend: Backend) throws {
    let result = TranscriptRunner(factory: LabSessionFactory()).run(file: try Self.parse(path), backend: backend)
    switch result.outcome {
    case .fail, .error:
      Issue.record(Comment(rawValue: TranscriptReport.lines(for: result).joined(separator: "\n")))
    case .skip(let reason):
      // Swift Testing cannot skip from inside a test; say so rather than pass silently.
      print("SKIP \(path) [backend=\(backend.rawValue)]: \(reason)")
    case .pass:
      break
    }
  }
}
