// boxwalk-difftest: the differential tester. Runs seeded random REPL sessions on the simulator
// and on the real kernel, compares what they print exactly as `boxwalk test` compares a
// transcript, shrinks every difference to a minimal session and writes it as a transcript
// recorded from the real run (docs/difftest.md).
//
//   boxwalk-difftest [--seeds A..B] [--min N] [--max N] [--out DIR] [--timeout S] [--no-shrink]
//                    [--host-snapshot SCRIPT] [--boxwalk PATH] [--scratch DIR] [--without VERB,...]
//                    [--jobs N] [--batch N] [--lock FILE] [--host-check session|batch]
//   boxwalk-difftest --show SEED          print the session a seed generates
//   boxwalk-difftest --commands FILE      run the commands of FILE (one a line) on both backends
//
// The real backend needs root; run it as scripts/difftest does, under the real-kernel lock.
import Glibc

struct Arguments {
  var seeds: ClosedRange<UInt64> = 1...20
  var minCommands = 5
  var maxCommands = 40
  var out = ".build/difftest"
  var timeout = 30.0
  var shrink = true
  var hostSnapshot: String? = "scripts/host-snapshot"
  var boxwalk: String
  var scratch = "/tmp/boxwalk-difftest"
  var show: UInt64?
  var commandsFile: String?
  var shrinkBudget = 60
  /// Command names (as classes name them: `run`, `net addr`) left out of every session.
  var without: Set<String> = []
  /// Concurrent REPLs: 1 runs each session's two halves one after the other; N > 1 runs the
  /// simulated halves on N - 1 threads beside the real ones (real sessions stay one at a time).
  var jobs = 1
  /// Sessions per batch; 0 runs every seed as one batch.
  var batch = 0
  /// The real-kernel lock file, taken per batch (nil: the caller holds it, or nobody needs to).
  var lock: String?
  /// Compare the host after every session (it names the session that leaked) or only at the
  /// end of each batch (cheaper: a snapshot reads the whole mount table, links and /proc).
  var checkEverySession = true

  init(_ words: [String]) throws {
    let exe = CommandLine.arguments[0]
    let dir = exe.lastIndex(of: "/").map { String(exe[..<$0]) } ?? "."
    boxwalk = dir + "/boxwalk"
    var i = 0
    func value() throws -> String {
      i += 1
      guard i < words.count else { throw DiffTestError("\(words[i - 1]) needs a value") }
      return words[i]
    }
    while i < words.count {
      switch words[i] {
      case "--seeds":
        let text = try value()
        let parts = text.split(separator: ".", omittingEmptySubsequences: true)
        guard (1...2).contains(parts.count), let a = UInt64(parts[0]), let b = parts.last.flatMap({ UInt64($0) }),
          a <= b
        else {
          throw DiffTestError("--seeds takes A..B (e.g. 1..100) or one seed, not \(text)")
        }
        seeds = a...b
      case "--min": minCommands = Int(try value()) ?? minCommands
      case "--max": maxCommands = Int(try value()) ?? maxCommands
      case "--out": out = try value()
      case "--timeout": timeout = Double(try value()) ?? timeout
      case "--no-shrink": shrink = false
      case "--shrink-budget": shrinkBudget = Int(try value()) ?? shrinkBudget
      case "--host-snapshot": hostSnapshot = try value()
      case "--no-host-check": hostSnapshot = nil
      case "--boxwalk": boxwalk = try value()
      case "--scratch": scratch = try value()
      case "--show":
        guard let s = UInt64(try value()) else { throw DiffTestError("--show takes a seed") }
        show = s
      case "--commands": commandsFile = try value()
      case "--jobs":
        guard let n = Int(try value()), n >= 1 else { throw DiffTestError("--jobs takes a number >= 1") }
        jobs = n
      case "--batch":
        guard let n = Int(try value()), n >= 0 else { throw DiffTestError("--batch takes a number >= 0") }
        batch = n
      case "--lock": lock = try value()
      case "--host-check":
        switch try value() {
        case "session": checkEverySession = true
        case "batch": checkEverySession = false
        case let other: throw DiffTestError("--host-check takes session or batch, not \(other)")
        }
      case "--without": without.formUnion(try value().split(separator: ",").map(String.init))
      default: throw DiffTestError("unknown argument \(words[i])")
      }
      i += 1
    }
    guard minCommands >= 1, minCommands <= maxCommands else { throw DiffTestError("--min must be 1..--max") }
  }
}

func readCommands(_ path: String) -> [String]? {
  guard let f = fopen(path, "r") else { return nil }
  defer { fclose(f) }
  var lines: [String] = []
  var buffer: UnsafeMutablePointer<CChar>?
  var size = 0
  while getline(&buffer, &size, f) >= 0 {
    var line = buffer.map { String(cString: $0) } ?? ""
    while line.hasSuffix("\n") { line.removeLast() }
    if !line.isEmpty { lines.append(line) }
  }
  free(buffer)
  return lines
}

func main() -> Int32 {
  // A REPL that has ended (quit, or a crash) closes its end of the pipe: writing to it must fail
  // with EPIPE, which the tester reports, not kill the tester.
  signal(SIGPIPE, SIG_IGN)
  var args: Arguments
  do {
    args = try Arguments(Array(CommandLine.arguments.dropFirst()))
  } catch {
    say("error: \(error)")
    return 2
  }
  if let seed = args.show {
    for c in SessionGenerator.session(seed: seed, minCommands: args.minCommands, maxCommands: args.maxCommands)
    where !args.without.contains(Differential.verb(c)) {
      say(c)
    }
    return 0
  }
  guard geteuid() == 0 else {
    say("error: the real backend needs root: run scripts/difftest as root")
    return 3
  }
  // Absolute: each REPL starts in a scratch directory of its own.
  guard access(args.boxwalk, X_OK) == 0, let resolved = realpath(args.boxwalk, nil) else {
    say("error: no boxwalk executable at \(args.boxwalk): build it (swift build) or pass --boxwalk PATH")
    return 2
  }
  args.boxwalk = String(cString: resolved)
  free(resolved)
  // A fresh template store per run: the one a previous build of boxwalk left may differ.
  Shell.removeTree(args.scratch + "/template")
  var campaign = Campaign(args: args)
  if let file = args.commandsFile {
    guard let commands = readCommands(file) else {
      say("error: cannot read \(file)")
      return 2
    }
    var lock = args.lock.map(RealKernelLock.init(path:))
    do {
      try lock?.acquire()
    } catch {
      say("error: \(error)")
      return 2
    }
    defer { lock?.release() }
    return campaign.runOne(commands, seed: nil) ? 0 : 1
  }
  return campaign.runSeeds()
}

exit(main())
