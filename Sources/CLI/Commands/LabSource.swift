import Glibc
import Kernel
import Lab

/// Where the REPL's lab sessions come from: this process (a kernel of its own), or a boxwalk
/// daemon (`--host`, BOXWALK_HOST), where each session is made by POST /v1/sessions and each line
/// is one request. The REPL, `lesson` and `record` print the same text either way.
struct LabSource {
  /// The daemon, or nil for sessions in this process.
  let client: DaemonClient?
  /// Makes a fresh session on the chosen backend: the first one, and the lesson engine's rebuilds.
  let factory: () throws -> any LabSession
  /// What the backend offers, for a lesson's `requires:` (the daemon's host's with a daemon).
  let features: Set<String>
  let makeFirst: () throws(ExitError) -> any LabSession

  func first() throws(ExitError) -> any LabSession { try makeFirst() }

  static func choose(_ backend: Backend, json: Bool, terminal: Terminal) throws(ExitError) -> LabSource {
    guard let host = DaemonClient.host(option: nil) else {
      return LabSource(
        client: nil, factory: LabStartup.sessionFactory(backend, json: json),
        features: LabSessionFactory().features(for: backend),
        makeFirst: { () throws(ExitError) in try LabStartup.session(backend, json: json) })
    }
    let client = try DaemonClient.parse(host: host)
    // Pictures follow this terminal, the client's: the daemon draws in the style it is sent.
    let style = PictureStyle.detect(terminal: terminal)
    let make = { () throws(DaemonClient.Failure) -> any LabSession in
      let session = try client.makeSession(backend: backend, pictures: style)
      session.jsonMode = json
      return session
    }
    return LabSource(
      client: client,
      factory: {
        do throws(DaemonClient.Failure) {
          return try make()
        } catch {
          throw LabError("could not start a fresh lab in the daemon", [("error", error.description)])
        }
      },
      features: client.backendInfo(backend).features.union(["client"]),
      makeFirst: { () throws(ExitError) in
        do throws(DaemonClient.Failure) {
          return try make()
        } catch {
          throw ExitError(ExitStatus.precondition, ["error: \(error.description)"])
        }
      })
  }
}
