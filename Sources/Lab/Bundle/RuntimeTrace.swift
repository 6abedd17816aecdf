/// What `strace -f -o FILE` recorded of a runtime (crun, runc) starting a bundle, reduced to the
/// calls that build a container (docs/runtimes.md, "boxwalk trace"). Pure: the text in, the
/// calls out, so it is tested on recorded traces.
public enum RuntimeTrace {
  /// The system calls `boxwalk trace` asks strace for.
  public static let traced = [
    "clone", "clone3", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "sethostname", "openat",
    "openat2",
    "mkdir", "mkdirat", "write", "execve", "prctl", "seccomp", "capset", "mknodat", "symlinkat", "fsopen",
    "fsmount", "move_mount", "open_tree", "keyctl", "setgroups", "setresuid", "setresgid",
  ]

  /// One system call as strace printed it, with its pid (`-f`), its arguments' text and result.
  public struct Call: Equatable, Sendable {
    public var pid: Int
    public var name: String
    public var args: String
    public var result: String
    /// For a write(2): the file its descriptor was opened as, when an openat(2) said.
    public var file: String?

    public var succeeded: Bool { !result.hasPrefix("-1") && !result.hasPrefix("?") }

    /// How the comparison prints it: `sethostname("lab-box", 7)`, shortened.
    public var text: String {
      let shown = name + "(" + args + ")"
      let short = shown.count > 110 ? String(shown.prefix(107)) + "..." : shown
      return file.map { short + "   # \($0)" } ?? short
    }

    /// The arguments by position: a quoted string as its text, anything else (NULL, a number,
    /// flags, a structure or an array) nil. For mount(2) and friends.
    public var strings: [String?] {
      var out: [String?] = []
      var i = args.startIndex
      while i < args.endIndex {
        while i < args.endIndex && args[i] == " " { i = args.index(after: i) }
        guard i < args.endIndex else { break }
        if args[i] == "\"" {
          var s = ""
          var j = args.index(after: i)
          while j < args.endIndex && args[j] != "\"" {
            if args[j] == "\\", args.index(after: j) < args.endIndex { j = args.index(after: j) }
            s.append(args[j])
            j = args.index(after: j)
          }
          out.append(s)
          i = j < args.endIndex ? args.index(after: j) : j
        } else {
          out.append(nil)
        }
        // On to the next argument: the next comma outside brackets, braces and quotes.
        var depth = 0
        var quoted = false
        while i < args.endIndex {
          let c = args[i]
          if quoted {
            if c == "\\" { i = args.index(after: i) } else if c == "\"" { quoted = false }
          } else if c == "\"" {
            quoted = true
          } else if "[{(".contains(c) {
            depth += 1
          } else if "]})".contains(c) {
            depth -= 1
          } else if c == "," && depth <= 0 {
            break
          }
          if i < args.endIndex { i = args.index(after: i) }
        }
        if i < args.endIndex { i = args.index(after: i) }
      }
      return out
    }

    /// The path a file call names: openat(2) and mkdirat(2) take a directory first.
    public var path: String? {
      let s = strings
      switch name {
      case "openat", "openat2", "mkdirat", "mknodat": return s.count > 1 ? s[1] : nil
      default: return s.first ?? nil
      }
    }

    /// The namespace kinds among the call's CLONE_NEW* flags.
    public var namespaceKinds: [String] {
      let flags: [(String, String)] = [
        ("CLONE_NEWCGROUP", "cgroup"), ("CLONE_NEWIPC", "ipc"), ("CLONE_NEWNS", "mnt"), ("CLONE_NEWNET", "net"),
        ("CLONE_NEWPID", "pid"), ("CLONE_NEWTIME", "time"), ("CLONE_NEWUSER", "user"), ("CLONE_NEWUTS", "uts"),
      ]
      let words = Set(args.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
      return flags.filter { words.contains($0.0) }.map(\.1)
    }
  }

  /// Parses strace's text: `PID name(args) = result` lines (a `[pid N] ` prefix too), a call
  /// split into `<unfinished ...>` and `<... name resumed>` joined again; signals, exits and
  /// anything else left out. A write(2) is kept only to a file an openat(2) opened for writing
  /// under /proc or /sys (ID maps, cgroup files), and says which.
  public static func parse(_ text: String) -> [Call] {
    var calls: [Call] = []
    var pending: [Int: (name: String, args: String)] = [:]
    var files: [String: String] = [:]  // "fd" -> path, the latest openat that returned it
    for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
      var line = Substring(raw)
      var pid = 0
      if line.hasPrefix("[pid ") {
        line = line.dropFirst(5)
        let digits = line.prefix { $0 == " " || $0.isNumber }
        pid = Int(digits.trimmingSpaces) ?? 0
        line = line.dropFirst(digits.count)
        if line.hasPrefix("] ") { line = line.dropFirst(2) }
      } else if let first = line.first, first.isNumber {
        let digits = line.prefix { $0.isNumber }
        pid = Int(digits) ?? 0
        line = line.dropFirst(digits.count).drop { $0 == " " }
      }
      var name: String
      var body: Substring
      if line.hasPrefix("<... ") {
        let rest = line.dropFirst(5)
        guard let space = rest.firstIndex(of: " "), let started = pending.removeValue(forKey: pid) else { continue }
        name = String(rest[..<space])
        guard let close = rest.firstRange(of: "resumed>") else { continue }
        body = Substring(started.args) + rest[close.upperBound...]
      } else {
        guard let open = line.firstIndex(of: "("), open > line.startIndex,
          line[..<open].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else { continue }
        name = String(line[..<open])
        body = line[line.index(after: open)...]
        if body.hasSuffix("<unfinished ...>") {
          pending[pid] = (name, String(body.dropLast("<unfinished ...>".count)).trimmingSpaces)
          continue
        }
      }
      // strace pads short calls: `pivot_root(".", ".")              = 0`.
      guard let equals = body.ranges(of: " = ").last else { continue }
      let head = body[..<equals.lowerBound].trimmingSpaces
      guard head.hasSuffix(")") else { continue }
      let args = String(head.dropLast())
      let result = String(body[equals.upperBound...]).trimmingSpaces
      var call = Call(pid: pid, name: name, args: args, result: result)
      switch name {
      case "openat", "openat2":
        let fd = result.prefix { $0.isNumber }
        if call.succeeded, !fd.isEmpty, let path = call.path {
          let writes = args.contains("O_WRONLY") || args.contains("O_RDWR")
          files[String(fd)] =
            writes && (path.hasPrefix("/proc") || path.hasPrefix("/sys") || interestingOpen(path)) ? path : nil
          if files[String(fd)] == nil && !interestingOpen(path) { continue }
        } else if !interestingOpen(call.path ?? "") {
          continue
        }
      case "write":
        let fd = String(args.prefix { $0.isNumber })
        guard let path = files[fd] else { continue }
        call.file = path
      default: break
      }
      calls.append(call)
    }
    return calls
  }

  /// The cgroup files a runtime writes limits and its process to, on either version.
  static let cgroupFiles = [
    "pids.max", "memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us",
    "cgroup.procs", "tasks",
  ]

  /// An openat(2) worth showing on its own: ID maps, setgroups, cgroup files, device nodes.
  static func interestingOpen(_ path: String) -> Bool {
    path.hasSuffix("uid_map") || path.hasSuffix("gid_map") || path.hasSuffix("/setgroups")
      || path.hasPrefix("/sys/fs/cgroup")
      || cgroupFiles.contains { path == $0 || path.hasSuffix("/" + $0) }
  }
}

extension StringProtocol {
  var trimmingSpaces: String {
    String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
  }
}
