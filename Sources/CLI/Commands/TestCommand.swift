import ArgumentParser
import Kernel
import Lab

/// `boxwalk test [PATH...] [--backend sim|real|rootless|both] [--update]`: replays transcripts as
/// golden tests (docs/transcripts.md). Exit 0 only when nothing failed; the last line is always
/// `N passed, N failed, N skipped`.
struct TestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Replay transcripts as golden tests; prints 'N passed, N failed, N skipped' last.")

  @Argument(help: "Transcript files or directories (default: transcripts/).")
  var paths: [String] = []

  @Option(help: "sim, real, rootless or both (sim and real).")
  var backend: String = "sim"

  @Flag(help: "Rewrite expectations from a sim run; the run still exits non-zero.")
  var update = false

  @Option(
    help:
      "Run every transcript through the daemon at unix:///PATH, or tcp://127.0.0.1:PORT with its token in $BOXWALK_TOKEN (default: $BOXWALK_HOST, else in-process)."
  )
  var host: String?

  func run() throws {
    let backends: [Backend]
    switch backend {
    case "both": backends = [.sim, .real]
    default:
      guard let b = Backend(rawValue: backend) else {
        throw ExitError(ExitStatus.usage, ["error: --backend takes sim, real, rootless or both, not \(backend)"])
      }
      backends = [b]
    }
    let files = try Self.transcriptFiles(paths.isEmpty ? ["transcripts"] : paths)
    // A file that cannot be read or parsed is reported, and the others still run: one bad file
    // in a directory of transcripts should not hide what the rest would have shown. The run then
    // exits 2, and the summary counts the file as failed.
    var parsed: [TranscriptFile] = []
    var unreadable: [String] = []
    for path in files {
      do {
        parsed.append(try Self.load(path))
      } catch {
        unreadable += error.lines
      }
    }
    let terminal = Terminal.detect()
    terminal.write(unreadable)
    // With a daemon, each session is the daemon's and each line one request; the report is the
    // same text either way.
    let factory: any TranscriptSessionFactory =
      try DaemonClient.host(option: host).map { RemoteSessionFactory(client: try DaemonClient.parse(host: $0)) }
      ?? LabSessionFactory()
    // Each transcript's session lives in the daemon: Ctrl-C, SIGTERM or SIGHUP delete it there.
    if let remote = factory as? RemoteSessionFactory {
      try remote.client.ping()
      ClientSignals.install(interrupt: true)
    }
    let runner = TranscriptRunner(factory: factory)
    var results: [TranscriptResult] = []
    for file in parsed {
      for b in (update ? [.sim] : backends) {
        let result = runner.run(file: file, backend: b)
        results.append(result)
        terminal.write(TranscriptReport.lines(for: result))
        if update, case .fail = result.outcome {
          let text = TranscriptUpdater().rewrite(file, using: result)
          do {
            try Files.write(file.path, text)
            terminal.write(["updated \(file.path) from the sim run: review it with git diff"])
          } catch {
            throw ExitError(ExitStatus.failed, ["error: cannot write \(error.message)"])
          }
        }
      }
    }
    terminal.write([TranscriptReport.summary(results, unreadable: unreadable.count)])
    if !unreadable.isEmpty { throw ExitError(ExitStatus.usage, []) }
    let failed = TranscriptReport.counts(results).failed
    // An update never passes silently: the run that rewrote files still fails
    // (docs/transcripts.md).
    if failed > 0 { throw ExitError(ExitStatus.failed, []) }
  }

  /// One transcript file read and parsed, or the one-line error that says why it cannot run.
  static func load(_ path: String) throws(ExitError) -> TranscriptFile {
    let text: String
    do {
      let bytes = try Files.read(path)
      guard let decoded = String(validating: bytes, as: UTF8.self) else {
        throw ExitError(ExitStatus.usage, ["error: \(path): not valid UTF-8"])
      }
      text = decoded
    } catch let e as Files.Failure {
      throw ExitError(ExitStatus.usage, ["error: cannot read \(e.message)"])
    } catch let e as ExitError {
      throw e
    } catch {
      throw ExitError(ExitStatus.usage, ["error: cannot read \(path): \(error)"])
    }
    let file: TranscriptFile
    do {
      file = try TranscriptFile.parse(path: path, text: text)
    } catch {
      throw ExitError(ExitStatus.usage, ["error: \(error)"])
    }
    // A transcript with nothing to run would pass without testing anything.
    guard !file.allSteps.isEmpty else {
      throw ExitError(
        ExitStatus.usage, ["error: \(path): no steps: a transcript needs at least one `  boxwalk> COMMAND` line"])
    }
    return file
  }

  /// Files as given, and every *.transcript in a directory, sorted.
  static func transcriptFiles(_ paths: [String]) throws(ExitError) -> [String] {
    var out: [String] = []
    for p in paths {
      if Files.isDirectory(p) {
        do {
          let dir = p.hasSuffix("/") ? String(p.dropLast()) : p
          out += try Files.list(dir, suffix: ".transcript").map { dir + "/" + $0 }
        } catch {
          throw ExitError(ExitStatus.usage, ["error: cannot read \(error.message)"])
        }
      } else {
        out.append(p)
      }
    }
    return out
  }
}
