import ArgumentParser
import Foundation
import Glibc

/// `boxwalk --host unix:///PATH COMMAND`: the leading option, as docker's `-H`, sets the daemon
/// for the command that follows. It is the same as BOXWALK_HOST in the environment (as
/// DOCKER_HOST), so it is handed on that way.
enum DaemonHostOption {
  /// Removes a leading `--host VALUE` or `--host=VALUE` and exports it as BOXWALK_HOST.
  static func apply(_ arguments: [String]) -> [String] {
    guard let first = arguments.first else { return arguments }
    if first == "--host", arguments.count >= 2 {
      setenv("BOXWALK_HOST", arguments[1], 1)
      return Array(arguments.dropFirst(2))
    }
    if first.hasPrefix("--host=") {
      setenv("BOXWALK_HOST", String(first.dropFirst("--host=".count)), 1)
      return Array(arguments.dropFirst())
    }
    return arguments
  }

  /// The REPL, `lesson`, `record`, `replay` and `test` are daemon clients. The other commands
  /// that run a lab session in-process refuse a host rather than quietly ignore it.
  static func check(_ command: any ParsableCommand) throws(ExitError) {
    guard DaemonClient.host(option: nil) != nil else { return }
    let name: String
    switch command {
    case is LintCommand: name = "lint"
    case is ExportCommand: name = "export"
    default: return
    }
    throw ExitError(
      ExitStatus.usage,
      [
        "error: \(name) does not run as a daemon client: the REPL, lesson, record, replay and test do",
        "  rule:    --host and BOXWALK_HOST are never ignored quietly",
        "  fix:     unset BOXWALK_HOST (or drop --host) to run \(name) in-process",
        "  state:   nothing was changed",
      ])
  }
}
