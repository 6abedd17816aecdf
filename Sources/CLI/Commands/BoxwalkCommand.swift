import ArgumentParser
import Glibc
import Kernel

/// The `boxwalk` command line (README.md, "Command line"). With no subcommand it starts the REPL.
struct BoxwalkCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "boxwalk",
    abstract: "A step-through Linux container lab: build a container by hand, one kernel operation at a time.",
    discussion: """
      boxwalk --host unix:///PATH COMMAND (or BOXWALK_HOST=unix:///PATH) makes the REPL, lesson, record, \
      replay and test clients of a boxwalk daemon. --host tcp://127.0.0.1:PORT reaches a daemon started \
      with --listen; the token it printed goes in BOXWALK_TOKEN.
      """,
    version: "0.1.0",
    subcommands: [
      ReplCommand.self, LessonsCommand.self, LessonCommand.self, TestCommand.self, ReplayCommand.self,
      RecordCommand.self, ExportCommand.self, LintCommand.self, DoctorCommand.self, CleanupCommand.self,
      TraceCommand.self,
      ReportCommand.self, ClassCommand.self, ResetCommand.self, DaemonCommand.self,
    ],
    defaultSubcommand: ReplCommand.self)
}

/// The entry point the `boxwalk` executable calls.
public enum BoxwalkCLI {
  public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
    do {
      var command = try BoxwalkCommand.parseAsRoot(DaemonHostOption.apply(arguments))
      try DaemonHostOption.check(command)
      try HostProbe.checkEnvironment()
      try command.run()
      exit(ExitStatus.ok)
    } catch let e as ExitError {
      if !e.lines.isEmpty { Terminal(colour: false).write(e.lines) }
      exit(e.status)
    } catch {
      // ArgumentParser: help and --version exit 0; anything else is bad usage (exit 2, not 64).
      let code = BoxwalkCommand.exitCode(for: error)
      let message = BoxwalkCommand.fullMessage(for: error)
      if code == .success {
        print(message)
        exit(ExitStatus.ok)
      }
      writeStandardError(message + "\n")
      exit(ExitStatus.usage)
    }
  }
}
