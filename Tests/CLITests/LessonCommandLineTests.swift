import Foundation
import HostSnapshotSupport
import Testing

/// `boxwalk lessons`, `boxwalk lesson ID` and `boxwalk lint` as a learner and a teacher run them:
/// progress saved under $XDG_STATE_HOME and resumed by the next run, exit codes (README.md,
/// "Command line"; lessons/README.md).
@Suite(.serialized, .hostUnchanged) struct LessonCommandLineTests {
  static let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  /// A fresh state directory, so no test sees another's progress.
  static func stateHome() throws -> String {
    let dir = TestScratch.path("state")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  static func run(_ args: [String], input: String = "", state: String) throws -> CommandLineTests.Run {
    try CommandLineTests.boxwalk(
      args, input: input, env: ["XDG_STATE_HOME": state, "BOXWALK_LESSONS": root + "/lessons"])
  }

  @Test func lessonsListsProgressThatLessonSavesAndResumes() throws {
    let state = try Self.stateHome()
    let before = try Self.run(["lessons"], state: state)
    #expect(before.status == 0)
    #expect(before.lines.contains { $0.contains("uts") && $0.hasSuffix("not started") })

    let first = try Self.run(["lesson", "uts", "--backend", "sim"], input: "next\nsolution\nnext\n", state: state)
    #expect(first.status == 0, "\(first.out)")
    #expect(first.out.contains("welcome to boxwalk lessons."))
    #expect(first.lines.contains("boxwalk[web uts/unshare]> solution"))
    #expect(first.lines.contains("step 3 of 7: A name of its own"))
    let file = state + "/boxwalk/progress/uts.progress"
    let saved = try String(contentsOfFile: file, encoding: .utf8)
    #expect(saved.contains("lesson uts\nstep hostname\n"))

    let listed = try Self.run(["lessons"], state: state)
    #expect(listed.lines.contains { $0.contains("uts") && $0.hasSuffix("at step 3 (hostname)") })

    // The next run resumes: the lab is rebuilt, the welcome is not shown again.
    let second = try Self.run(["lesson", "uts", "--backend", "sim"], input: "show web.ns.uts\ncheck\n", state: state)
    #expect(second.status == 0)
    #expect(!second.out.contains("welcome to boxwalk lessons."))
    #expect(second.out.contains("resuming at step 3: the lab was rebuilt by replaying the steps before it"))
    #expect(second.lines.contains("boxwalk[web uts/hostname]> show web.ns.uts"))
    #expect(second.lines.contains("web.ns.uts = \"uts:1\""))
    #expect(second.lines.contains("  not yet: web's hostname is not lab-box yet"))
  }

  @Test func lessonsSummarisesTheCourseAndSaysWhatComesNextAlsoAsJSON() throws {
    let state = try Self.stateHome()
    let total = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/lessons")
      .filter { $0.hasSuffix(".md") && $0 != "README.md" }.count
    let fresh = try Self.run(["lessons"], state: state)
    #expect(fresh.lines.contains("progress: 0/\(total) lessons done (0%)"), "\(fresh.out)")
    #expect(fresh.lines.contains { $0.hasPrefix("next: lesson uts (") })

    // Walk uts to its end: it counts as done, and the next lesson is another one.
    let walk = try Self.run(
      ["lesson", "uts", "--backend", "sim"],
      input: "next\nsolution\nnext\nsolution\nnext\nnext\nsolution\nnext\nnext\nnext\n",
      state: state)
    #expect(walk.out.contains("lesson uts complete"), "\(walk.out)")
    let after = try Self.run(["lessons"], state: state)
    #expect(after.lines.contains("progress: 1/\(total) lessons done (\(100 / total)%)"), "\(after.out)")
    #expect(after.lines.contains { $0.hasPrefix("next: ") && !$0.contains("lesson uts ") })

    let json = try Self.run(["lessons", "--json"], state: state)
    #expect(json.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
    #expect(object?["done"] as? Int == 1)
    #expect(object?["total"] as? Int == total)
    #expect(object?["percent"] as? Int == 100 / total)
    let lessons = object?["lessons"] as? [[String: Any]] ?? []
    #expect(lessons.first { $0["id"] as? String == "uts" }?["state"] as? String == "done")
    #expect((object?["next"] as? String).map { $0 != "uts" } ?? (total == 1))
  }

  @Test func anUnknownLessonIsBadUsage() throws {
    let r = try Self.run(["lesson", "nope", "--backend", "sim"], state: try Self.stateHome())
    #expect(r.status == 2)
    #expect(r.lines.contains("error: no lesson \"nope\""))
  }

  @Test func theRepositoryLessonsLintClean() throws {
    let r = try Self.run(["lint", Self.root + "/lessons", Self.root + "/transcripts"], state: try Self.stateHome())
    #expect(r.status == 0, "\(r.out)")
    #expect(
      r.lines.contains {
        $0.hasPrefix("ok   ") && $0.hasSuffix("01-uts.md: 7 steps, 3 checks fail before their solution and pass after")
      })
    #expect(r.lines.contains { $0.hasPrefix("ok   ") && $0.hasSuffix("01-uts.transcript: 20 commands") })
  }

  @Test func lintExitsTwoForABadFileAndOneForAFinding() throws {
    let bad = try CommandLineTests.temporaryFile("bad.md", "---\nid: x\ntitle: t\nformat: 7\n---\n## S {#s}\n")
    let r = try Self.run(["lint", bad], state: try Self.stateHome())
    #expect(r.status == 2)
    #expect(r.out.contains("\(bad):4:9: unknown lesson format \"7\""))

    let weak = try CommandLineTests.temporaryFile(
      "weak.md", "---\nid: y\ntitle: t\nformat: 1\n---\n## S {#s}\n\n```lab\nbox new web\n```\n")
    let w = try Self.run(["lint", weak], state: try Self.stateHome())
    #expect(w.status == 1)
    #expect(
      w.lines.contains(
        "\(weak):8:1: step s: the lab block has no shell block (the same commands on a real Linux machine)"))
    #expect(w.lines.last { !$0.isEmpty } == "1 file: 0 ok, 1 failed")

    #expect(try Self.run(["lint", "/nonexistent/thing.txt"], state: try Self.stateHome()).status == 2)
  }
}
