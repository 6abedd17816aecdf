import Kernel

/// The programs the simulator can run, modelled on what busybox and dash print, so a transcript
/// that runs them passes on both kernels: `true`, `false`, `echo`, `sleep`, `hostname`, and
/// `id -u`, `id -g`, `stat -c %u|%g PATH` (every file the simulator knows belongs to the host's
/// root, seen through the box's ID maps), and
/// `sh -c SCRIPT` where SCRIPT is simple commands joined by `;` or `&&`, with `$$` (the shell's
/// own PID) and the glob `/proc/[0-9]*` (the PIDs the box's /proc shows), and `cat FILE...` on
/// the box's root filesystem once it has entered it. Anything else does not exist in the simulator: execvp fails with ENOENT, as it would for a missing program.
struct SimPrograms {
  /// What a running program can see.
  struct Context {
    /// The program's own PID in the box's view.
    var pid: Int
    var hostname: String
    /// The PIDs /proc lists inside the box, when the box has a proc of its own pid namespace.
    var procPIDs: [Int]?
    /// The program's IDs, and the host's root (owner of every file) as the box sees them.
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var fileUID: UInt32 = 0
    var fileGID: UInt32 = 0
    /// A file's bytes as the program sees it (nil: no such file), for `cat`.
    var readFile: (String) -> [UInt8]? = { _ in nil }
  }

  struct Outcome {
    var output: [String] = []
    var status: Int32 = 0
    /// Still running when started in the background (sleep with a positive time).
    var keepsRunning = false
  }

  static let known: Set<String> = ["true", "false", "echo", "sleep", "hostname", "sh", "id", "stat", "cat"]

  /// The program name without a /bin/ or /usr/bin/ prefix, or nil if the simulator has none.
  static func resolve(_ argv0: String) -> String? {
    for prefix in ["", "/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/"] where argv0.hasPrefix(prefix) {
      let name = String(argv0.dropFirst(prefix.count))
      if !name.contains("/"), known.contains(name) { return name }
    }
    return nil
  }

  static func run(_ argv: [String], _ context: Context) -> Outcome {
    guard let name = argv.first.flatMap(resolve) else { return Outcome(output: [], status: 127) }
    let args = Array(argv.dropFirst())
    switch name {
    case "true": return Outcome()
    case "false": return Outcome(status: 1)
    case "echo": return Outcome(output: [args.joined(separator: " ")])
    case "hostname": return Outcome(output: [context.hostname])
    case "id":
      switch args {
      case ["-u"]: return Outcome(output: [String(context.uid)])
      case ["-g"]: return Outcome(output: [String(context.gid)])
      default: return Outcome(output: ["id: the simulator models only id -u and id -g"], status: 1)
      }
    case "stat":
      guard args.count == 3, args[0] == "-c", ["%u", "%g"].contains(args[1]), args[2].hasPrefix("/") else {
        return Outcome(output: ["stat: the simulator models only stat -c %u|%g PATH"], status: 1)
      }
      return Outcome(output: [String(args[1] == "%u" ? context.fileUID : context.fileGID)])
    case "cat":
      // busybox cat's words for a file it cannot open.
      var outcome = Outcome()
      for path in args {
        guard let bytes = context.readFile(path) else {
          outcome.output.append("cat: can't open '\(path)': No such file or directory")
          outcome.status = 1
          continue
        }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
          String(decoding: $0, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        outcome.output += lines
      }
      return outcome
    case "sleep":
      let seconds = args.first.flatMap { Double($0) } ?? 0
      return Outcome(keepsRunning: seconds > 0)
    case "sh":
      guard args.count >= 2, args[0] == "-c" else { return Outcome(output: [], status: 2) }
      return shell(args[1], context)
    default:
      return Outcome(status: 127)
    }
  }

  /// A very small POSIX shell: enough for `echo pid=$$` and `echo /proc/[0-9]*`.
  static func shell(_ script: String, _ context: Context) -> Outcome {
    var outcome = Outcome()
    for (command, conjunction) in splitCommands(script) {
      if conjunction == "&&" && outcome.status != 0 { continue }
      let words = expand(command, context)
      guard let first = words.first else { continue }
      switch first {
      case "exit":
        outcome.status = words.count > 1 ? Int32(words[1]) ?? 2 : outcome.status
        return outcome
      case "echo", "true", "false", "hostname", "sleep", "id", "stat", "cat":
        let r = run(words, context)
        outcome.output += r.output
        outcome.status = r.status
      default:
        outcome.output.append("sh: 1: \(first): not found")
        outcome.status = 127
      }
    }
    return outcome
  }

  /// Splits at `;` and `&&` outside quotes; each command carries the operator before it.
  static func splitCommands(_ script: String) -> [(String, String)] {
    var out: [(String, String)] = []
    var current = ""
    var before = ";"
    var quote: Character?
    var chars = Array(script)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      if let q = quote {
        if c == q { quote = nil }
        current.append(c)
      } else if c == "'" || c == "\"" {
        quote = c
        current.append(c)
      } else if c == ";" {
        out.append((current, before))
        current = ""
        before = ";"
      } else if c == "&", i + 1 < chars.count, chars[i + 1] == "&" {
        out.append((current, before))
        current = ""
        before = "&&"
        i += 1
      } else {
        current.append(c)
      }
      i += 1
    }
    out.append((current, before))
    chars.removeAll()
    return out.filter { !$0.0.allSatisfy { $0 == " " } }
  }

  /// Word splitting with quotes, `$$` expansion (not inside single quotes) and the one glob.
  static func expand(_ command: String, _ context: Context) -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var quote: Character?
    var globbable = false
    let chars = Array(command)
    var i = 0
    func finish() {
      if inWord {
        if globbable, word == "/proc/[0-9]*", let pids = context.procPIDs, !pids.isEmpty {
          words += pids.sorted().map { "/proc/\($0)" }
        } else {
          words.append(word)
        }
      }
      word = ""
      inWord = false
      globbable = false
    }
    while i < chars.count {
      let c = chars[i]
      if quote == "'" {
        if c == "'" { quote = nil } else { word.append(c) }
      } else if c == "$", i + 1 < chars.count, chars[i + 1] == "$" {
        word += String(context.pid)
        inWord = true
        i += 1
      } else if quote == "\"" {
        if c == "\"" { quote = nil } else { word.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        inWord = true
      } else if c == " " || c == "\t" {
        finish()
      } else {
        word.append(c)
        inWord = true
        if c == "*" || c == "[" { globbable = true }
      }
      i += 1
    }
    finish()
    return words
  }
}
