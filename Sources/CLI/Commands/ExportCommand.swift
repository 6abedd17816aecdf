import ArgumentParser
import Kernel
import Lab

/// `boxwalk export FILE.transcript --html OUT.html [--cast OUT.cast] [--backend B]` and
/// `boxwalk export LESSON.md --html OUT.html [--solutions]`: a transcript or a lesson as one
/// self-contained page with the pictures as inline SVG, and a transcript as an asciicast v2
/// recording (docs/pictures.md). The commands run on a fresh lab (sim unless --backend says
/// otherwise), so the page shows the states they make, and the lab is torn down afterwards.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write a transcript or a lesson as a self-contained HTML page with diagrams, or as an asciicast.")

  @Argument(help: "A transcript (.transcript) or a lesson (.md).")
  var file: String

  @Option(help: "Write the page here.")
  var html: String?

  @Option(help: "Write an asciicast v2 recording here, one marker per step (transcripts and lessons).")
  var cast: String?

  @Option(help: "sim, real or rootless: the backend the commands run on (default sim).")
  var backend: Backend = .sim

  @Flag(help: "For a lesson: show the exercises' solutions (they run either way).")
  var solutions = false

  func run() throws {
    guard html != nil || cast != nil else {
      throw ExitError(
        ExitStatus.usage,
        [
          "error: export needs somewhere to write: --html OUT.html, --cast OUT.cast or both",
          "  example: boxwalk export transcripts/08-net.transcript --html 08-net.html",
        ])
    }
    let isLesson = file.hasSuffix(".md")
    if solutions && !isLesson {
      throw ExitError(ExitStatus.usage, ["error: --solutions is for lessons (.md); a transcript has no exercises"])
    }
    let bytes: [UInt8]
    do {
      bytes = try Files.read(file)
    } catch {
      throw ExitError(ExitStatus.usage, ["error: cannot read \(error.message)"])
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw ExitError(ExitStatus.usage, ["error: \(file): not valid UTF-8"])
    }
    let factory = LabSessionFactory()
    if let reason = factory.unavailableReason(for: backend) {
      throw ExitError(ExitStatus.precondition, ["error: the \(backend.rawValue) backend cannot run here: \(reason)"])
    }
    let title: String
    let parsed: Either
    do {
      if isLesson {
        let lesson = try Lesson.parse(path: file, text: text)
        title = lesson.title
        parsed = .lesson(lesson)
      } else {
        let transcript = try TranscriptFile.parse(path: file, text: text)
        if let backends = transcript.backends, !backends.contains(backend) {
          throw ExitError(
            ExitStatus.precondition,
            [
              "error: \(file) runs only on \(backends.map(\.rawValue).joined(separator: ", ")), not \(backend.rawValue)",
              "  fix: --backend \(backends[0].rawValue)",
            ])
        }
        title = Exporter.title(of: transcript) ?? file
        parsed = .transcript(transcript)
      }
    } catch let error as ExitError {
      throw error
    } catch {
      throw ExitError(ExitStatus.usage, ["error: \(error)"])
    }
    LabStartup.installSignalHandling()
    let made: any TranscriptSession
    do {
      made = try factory.makeSession(backend: backend)
    } catch {
      throw ExitError(ExitStatus.precondition, ["error: could not start a lab on \(backend.rawValue): \(error)"])
    }
    defer { made.close() }
    guard let session = made as? Session else {
      throw ExitError(ExitStatus.internalError, ["error: internal: the lab session cannot draw"])
    }
    let items: [ExportItem]
    switch parsed {
    case .lesson(let lesson): items = Exporter.lesson(lesson, session: session, solutions: solutions)
    case .transcript(let transcript):
      items = Exporter.transcript(transcript, features: factory.features(for: backend), session: session)
    }
    var written: [String] = []
    do {
      if let html {
        try Files.write(
          html, ExportPage.html(title: title, source: file, backend: backend.rawValue, items: items))
        written.append(html)
      }
      if let cast {
        try Files.write(cast, ExportCast.cast(title: title, items: items))
        written.append(cast)
      }
    } catch {
      throw ExitError(ExitStatus.failed, ["error: cannot write \(error.message)"])
    }
    let steps = items.filter { if case .step = $0 { true } else { false } }.count
    Terminal(colour: false).write([
      "exported \(file) (\(steps) commands run on \(backend.rawValue)): " + written.joined(separator: " ")
    ])
  }

  enum Either {
    case lesson(Lesson)
    case transcript(TranscriptFile)
  }
}
