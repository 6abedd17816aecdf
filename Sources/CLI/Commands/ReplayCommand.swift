import ArgumentParser
import Glibc
import Kernel
import Lab

/// `boxwalk replay FILE [--pace SECONDS] [--pause] [--from N] [--to M]`: a transcript as a
/// classroom demo (README.md, "Command line"). Each command is typed and run live on the chosen
/// backend; narrative lines are captions; `#pause` waits for a key on a terminal. Divergences from
/// the file are marked, never fatal: the exit status is 0 unless the file or the options are bad
/// (2) or the backend cannot run here (3).
struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a transcript as a live demo: type each command, run it, show the real output.")

  @Argument(help: "The transcript to replay.")
  var file: String

  @Option(help: "sim, real or rootless (default: real as root, else rootless when user namespaces work, else sim).")
  var backend: Backend?

  @Option(help: "Seconds per typed character (0 types instantly and skips #sleep).")
  var pace: Double = 0.04

  @Flag(
    help:
      "Before each command wait for a key: Enter runs it, s skips showing it (it runs quietly), l opens a live prompt (resume goes back), q quits (with teardown)."
  )
  var pause = false

  @Option(help: "Start at command N (1 is the first); earlier commands run quietly to set the stage.")
  var from: Int?

  @Option(help: "Stop after command M.")
  var to: Int?

  func run() throws {
    guard pace >= 0, pace <= 5 else {
      throw ExitError(ExitStatus.usage, ["error: --pace takes seconds per character, from 0 to 5, not \(pace)"])
    }
    let transcript = try Self.parse(file)
    let backend = backend ?? BackendChoice.automatic()
    // With a daemon, its host's features and backends count, and the session is the daemon's.
    var client: DaemonClient?
    if let host = DaemonClient.host(option: nil) { client = try DaemonClient.parse(host: host) }
    let factory: any TranscriptSessionFactory = client.map { RemoteSessionFactory(client: $0) } ?? LabSessionFactory()
    let features = factory.features(for: backend).union([backend.rawValue])
    if let reason = factory.unavailableReason(for: backend)
      ?? DemoPlan.unavailableReason(transcript, backend: backend, features: features)
    {
      throw ExitError(
        ExitStatus.precondition,
        [
          "error: \(file) cannot be replayed on the \(backend.rawValue) backend: \(reason)",
          "  fix: boxwalk doctor says what this host lacks; --backend picks another backend",
        ])
    }
    let plan: DemoPlan
    do {
      plan = try DemoPlan(file: transcript, features: features, from: from, to: to)
    } catch {
      throw ExitError(ExitStatus.usage, error.lines)
    }
    let terminal = Terminal.detect()
    LabStartup.installSignalHandling()
    installReplayInterruptHandler()
    // SIGTERM and SIGHUP delete the daemon's session; Ctrl-C stays the player's (it tears down).
    if client != nil { ClientSignals.install(interrupt: false) }
    let session: any LabSession
    // A replay compares each command's output with the file, whose pictures are in the plain
    // style (box drawing, 80 columns) or in the one its `#pictures` names: draw in that style, or
    // every picture would differ.
    let pictures = transcript.pictures ?? .plain
    if let client {
      do {
        session = try client.makeSession(backend: backend, pictures: pictures)
      } catch {
        throw ExitError(ExitStatus.precondition, ["error: \(error.description)"])
      }
    } else {
      LabStartup.cleanUpAfterCrashes(backend, terminal: terminal)
      session = try LabStartup.session(backend, json: false)
    }
    defer { session.close() }
    session.pictureStyle = pictures
    terminal.write([BackendChoice.describe(backend)])
    let keys = KeyReader.detect()
    let player = DemoPlayer(
      path: file, plan: plan, session: session, terminal: terminal, keys: keys,
      lines: keys.enabled ? DemoLineReader() : PlainLineReader(), pace: pace, pauseBeforeCommands: pause)
    let summary = player.play()
    var line = "replay: \(summary.run) command\(summary.run == 1 ? "" : "s") run"
    if summary.skipped > 0 { line += ", \(summary.skipped) skipped" }
    line += summary.differed == 0 ? ", all as in the file" : ", \(summary.differed) differed from the file"
    if summary.quitAt != nil { line += "; stopped early, the lab was torn down" }
    terminal.write([line])
  }

  static func parse(_ path: String) throws(ExitError) -> TranscriptFile {
    let bytes: [UInt8]
    do {
      bytes = try Files.read(path)
    } catch {
      throw ExitError(ExitStatus.usage, ["error: cannot read \(error.message)"])
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw ExitError(ExitStatus.usage, ["error: \(path): not valid UTF-8"])
    }
    do {
      return try TranscriptFile.parse(path: path, text: text)
    } catch {
      throw ExitError(ExitStatus.usage, ["error: \(error)"])
    }
  }
}
