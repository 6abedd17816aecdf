import ArgumentParser
import Glibc
import Lab
import LinuxBackend
import OCI

/// `boxwalk trace crun|runc BUNDLE` (docs/runtimes.md): the runtime starts the bundle under
/// strace(1), and its system calls are set beside boxwalk's steps for the same box. On the
/// simulator (or without root) boxwalk's side alone.
struct TraceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trace",
    abstract: "Run crun or runc on an OCI bundle under strace and set its system calls beside boxwalk's steps.")

  @Argument(help: "crun or runc") var runtime: String
  @Argument(help: "the bundle directory (box export NAME DIR writes one)") var bundle: String
  @Option(help: "real (run the runtime; needs root) or sim (boxwalk's side only)") var backend: String?

  func run() throws {
    guard runtime == "crun" || runtime == "runc" else {
      throw ExitError(ExitStatus.usage, ["error: boxwalk trace takes crun or runc, not \(runtime)"])
    }
    let configPath = bundle + "/config.json"
    let bytes: [UInt8]
    do {
      bytes = try Files.read(configPath)
    } catch {
      throw ExitError(
        ExitStatus.usage, ["error: cannot read \(error.message)", "  fix: box export NAME DIR writes a bundle"])
    }
    let config: JSONValue
    do {
      config = try JSONValue.parse(bytes)
    } catch {
      throw ExitError(ExitStatus.usage, ["error: \(configPath) is not JSON (at byte \(error.offset))"])
    }
    let box = Self.boxName(bundle)
    let real = (backend ?? (geteuid() == 0 ? "real" : "sim")) == "real"
    guard real else {
      Terminal(colour: false).write(TraceComparison.lines(runtime: runtime, config: config, box: box, calls: nil))
      return
    }
    guard geteuid() == 0 else {
      throw ExitError(
        ExitStatus.precondition, ["error: boxwalk trace on the real backend needs root, as \(runtime) does"])
    }
    guard let (status, text) = RuntimeRunner.trace(runtime: runtime, bundle: bundle, calls: RuntimeTrace.traced) else {
      throw ExitError(ExitStatus.precondition, ["error: mkdtemp(/tmp/boxwalk-trace-XXXXXX) failed"])
    }
    var lines = ["\(runtime) run exited with status \(status); its trace: \(text.split(separator: "\n").count) lines"]
    lines += TraceComparison.lines(runtime: runtime, config: config, box: box, calls: RuntimeTrace.parse(text))
    Terminal(colour: false).write(lines)
  }

  /// The box's name, as the bundle directory's last name says it (`/tmp/web-bundle`: web).
  static func boxName(_ bundle: String) -> String {
    let last = bundle.split(separator: "/").last.map(String.init) ?? "box"
    return last.hasSuffix("-bundle") ? String(last.dropLast("-bundle".count)) : last
  }
}
