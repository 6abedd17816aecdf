import Foundation  // to walk the source tree
import Testing

/// Every comment that points the reader at a document points at one that is in this repository.
/// A comment that says "see the spec" when the spec is somewhere the next contributor cannot read
/// is worse than none: it looks like an explanation and explains nothing. So comments say the thing
/// in their own words, or cite docs/*.md, README.md, lessons/README.md, bench/analysis.md or a man
/// page. This walks Sources/, Tests/ and scripts/ and fails on a comment that cites a project
/// document kept outside the repository (the contract, the design and style notes, the research
/// notes with their numbered test cases), or a docs/, bench/ or lessons/ Markdown file that does
/// not exist.
@Suite struct DocumentCitationTests {
  /// The repository's root: three levels above this file (Tests/LabTests/ThisFile.swift).
  static let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  /// Citations of documents that are not in the repository. Spelled in pieces, so this file does
  /// not cite them itself.
  static let outsideDocuments: [(pattern: String, what: String)] = [
    (#"\b"# + "SP" + #"EC\b"#, "the contract document"),
    ("DES" + #"IGN\.md"#, "the design document"),
    (#"\b"# + "STY" + #"LE ?[0-9]+"#, "a numbered style rule"),
    (#"\b"# + "no" + #"tes/"#, "a research note"),
    (#"\b(reliability|performance)\.md"#, "a research note"),
    (#"\b[TR][0-9]{1,2}\b"#, "a numbered case of the reliability note"),
  ]

  /// Markdown files cited under these folders must exist.
  static let citedFile = #"\b((docs|bench|lessons)/[A-Za-z0-9_.-]+\.md)\b"#

  /// The comment text of one line: after `//` in Swift and C, after `#` in a shell script (not
  /// the `#!` line). A `//` inside a string literal counts too, which only makes the check stricter.
  static func comment(of line: Substring, script: Bool, markdown: Bool = false) -> Substring? {
    if markdown { return line }
    if script {
      guard let hash = line.firstIndex(of: "#"), !line.hasPrefix("#!") else { return nil }
      return line[line.index(after: hash)...]
    }
    guard let slashes = line.range(of: "//") else { return nil }
    return line[slashes.upperBound...]
  }

  /// The problems in one file's text: `path:line: what`, one per bad citation.
  static func problems(
    in text: String, path: String, script: Bool, markdown: Bool = false, exists: (String) -> Bool
  ) -> [String] {
    var found: [String] = []
    // In prose a letter and a number can be anything (a table cell, a tag), and a lesson file
    // named as an example need not exist: only the named outside documents count there.
    let patterns = markdown ? Array(outsideDocuments.dropLast()) : outsideDocuments
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard let comment = comment(of: line, script: script, markdown: markdown) else { continue }
      let commentText = String(comment)
      for (pattern, what) in patterns where commentText.range(of: pattern, options: .regularExpression) != nil {
        found.append("\(path):\(number + 1): cites \(what), which is not in the repository: \(line)")
      }
      var rest = markdown ? ""[...] : commentText[...]
      while let range = rest.range(of: citedFile, options: .regularExpression) {
        let file = String(rest[range])
        if !exists(file) { found.append("\(path):\(number + 1): cites \(file), which does not exist") }
        rest = rest[range.upperBound...]
      }
    }
    return found
  }

  @Test func theCheckFindsEachKindOfBadCitation() {
    let sample = [
      "/// Labels in order of first appearance (" + "SP" + "EC §5).",
      "// The seam (" + "STY" + "LE 4).",
      "// Kill by cgroup (" + "no" + "tes/relia" + "bility.md R" + "3).",
      "/// See " + "DES" + "IGN.md, \"Process model\".",
      "/// A second teardown does nothing (T" + "17).",
      "/// The format is in docs/" + "missing-page.md.",
      "/// The format is in docs/transcripts.md.",
      "let family = Netlink.AF_UNSPEC  // AF_UNSPEC: any family",
      "let s = \"plain code, no comment\"",
    ].joined(separator: "\n")
    let problems = Self.problems(in: sample, path: "x.swift", script: false) { $0 == "docs/transcripts.md" }
    #expect(problems.map { $0.split(separator: ":")[1] } == ["1", "2", "3", "3", "3", "4", "5", "6"])
    #expect(problems.last?.contains("docs/missing-page.md, which does not exist") == true)
    let script = "#!/usr/bin/env bash\n# read with tools (" + "no" + "tes/x.md)\necho ok\n"
    #expect(Self.problems(in: script, path: "s", script: true) { _ in true }.count == 1)
  }

  /// The repository's own Markdown (README, BENCHMARKS.md, docs/, lessons/, bench/) is read by
  /// people without the project's working documents too: it cites none of them either.
  @Test func theRepositorysMarkdownCitesOnlyDocumentsInIt() throws {
    let manager = FileManager.default
    var files = ["README.md", "BENCHMARKS.md"]
    for folder in ["docs", "lessons", "bench"] {
      let names = (try? manager.contentsOfDirectory(atPath: Self.root + "/" + folder)) ?? []
      files += names.filter { $0.hasSuffix(".md") }.map { folder + "/" + $0 }
    }
    var problems: [String] = []
    for file in files {
      guard let text = try? String(contentsOfFile: Self.root + "/" + file, encoding: .utf8) else { continue }
      problems += Self.problems(in: text, path: file, script: false, markdown: true) {
        manager.fileExists(atPath: Self.root + "/" + $0)
      }
    }
    #expect(files.count > 20, "found too few Markdown files under \(Self.root)")
    #expect(problems.isEmpty, "\(problems.count) bad citations:\n\(problems.joined(separator: "\n"))")
  }

  @Test func everyCommentCitesADocumentThatIsInTheRepository() throws {
    let manager = FileManager.default
    var problems: [String] = []
    var checked = 0
    for folder in ["Sources", "Tests", "scripts"] {
      let base = Self.root + "/" + folder
      guard let walker = manager.enumerator(atPath: base) else {
        Issue.record("cannot list \(base)")
        continue
      }
      for case let relative as String in walker {
        let path = base + "/" + relative
        let name = (relative as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension
        let script = folder == "scripts" && ext.isEmpty
        guard ["swift", "c", "h"].contains(ext) || script else { continue }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
        checked += 1
        problems += Self.problems(in: text, path: folder + "/" + relative, script: script) {
          manager.fileExists(atPath: Self.root + "/" + $0)
        }
      }
    }
    #expect(checked > 100, "the walk found too few files under \(Self.root)")
    #expect(problems.isEmpty, "\(problems.count) bad citations:\n\(problems.joined(separator: "\n"))")
  }
}
