import Glibc
import Kernel
import Lab
import Testing

@testable import CLI

/// Every transcript in transcripts/ is a golden test (docs/transcripts.md). Here, in process, on the
/// simulator, one test case per transcript. The real kernel's run is ReadBackCheckTests: the same
/// transcripts and the regressions through `boxwalk test --backend real`, with the read-back check
/// on, which is this comparison and more; running them twice on the kernel only cost CI time.
/// A skip is reported as a skip.
@Suite struct TranscriptReplayTests {
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
