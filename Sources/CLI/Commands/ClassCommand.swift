import ArgumentParser
import Glibc
import Kernel
import Lab

/// `boxwalk class`: what a teacher runs (docs/lessons.md, "Progress and reports").
struct ClassCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "class",
    abstract: "Teacher's tools: collect the learners' reports.",
    subcommands: [CollectCommand.self])
}

/// `boxwalk class collect DIR|FILE... [--csv OUT]`: reads the reports learners wrote with
/// `boxwalk report` and prints one table; `--csv` also writes it for a gradebook. A report whose
/// digest does not match its content is listed as altered, never dropped. A file that is not a
/// report gets one error line and the others are still read; the exit status is then 1.
struct CollectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "collect",
    abstract: "Merge learners' report files into one table, and a CSV with --csv.")

  @Argument(help: "Report files, or directories whose *.json files are reports.")
  var paths: [String]

  @Option(help: "Also write the table as CSV (RFC 4180) to this file, for a gradebook.")
  var csv: String?

  func validate() throws {
    guard !paths.isEmpty else { throw ValidationError("name at least one report file or directory") }
  }

  func run() throws {
    var files: [String] = []
    var errors: [String] = []
    for path in paths {
      if Files.isDirectory(path) {
        do {
          let names = try Files.list(path, suffix: ".json")
          if names.isEmpty { errors.append("error: \(escapedForTerminal(path)): no *.json report files in it") }
          files += names.map { path + "/" + $0 }
        } catch {
          errors.append("error: cannot read \(escapedForTerminal(error.message))")
        }
      } else {
        files.append(path)
      }
    }
    var reports: [LearnerReport.Collected] = []
    for file in files {
      do {
        let bytes = try Files.read(file)
        reports.append(try LearnerReport.read(bytes, file: file))
      } catch let e as Files.Failure {
        errors.append("error: cannot read \(escapedForTerminal(e.message))")
      } catch let e as LearnerReport.Unreadable {
        errors.append("error: \(escapedForTerminal(file)): \(escapedForTerminal(e.reason)); left out")
      }
    }
    var lines = ClassGradebook.table(reports)
    if let csv {
      do {
        try Files.write(csv, ClassGradebook.csv(reports))
        lines.append(
          "wrote \(escapedForTerminal(csv)): \(reports.count) row\(reports.count == 1 ? "" : "s") and a header")
      } catch {
        errors.append("error: cannot write the CSV: \(escapedForTerminal(error.message))")
      }
    }
    Terminal.detect().write(lines)
    if !errors.isEmpty { throw ExitError(ExitStatus.failed, errors) }
  }
}
