import Kernel

/// The programs the simulator runs, with the output busybox and the kernel give on a real box.
///
/// In a box whose root filesystem is the busybox image (after `pivot-root` or `chroot`), the
/// simulator finds a program the way execvp(3) does, in the image's /bin, /usr/bin, /sbin and
/// /usr/sbin, and runs these applets as busybox would: `ls`, `cat`, `echo`, `id`, `hostname`,
/// `uname`, `sleep`, `true`, `false`, `sh` (and `sh -c` with these), `mount` with no
/// arguments, `ip addr` in a namespace that still has only its own lo, and `stat -c %u|%g`.
/// A program that is not in the image fails with ENOENT, as on Linux. Anything else (another
/// applet, an option the simulator does not model, a file the learner wrote) prints one line
/// saying the simulator does not run it and the real backend does. `ps` with no proc mounted at
/// /proc finds no process and prints its header alone; with a proc of the box's own pid
/// namespace it lists the namespace's processes as busybox ps does (PID, user, command line),
/// the shell that runs it included. `sh -c` forks each command that is not a builtin and not
/// the script's last one (each costs a PID); the last one replaces the shell (execve(2)), or,
/// for busybox's NOEXEC applets such as ps, runs in the shell's process under the applet's name.
/// `ipcs` too where busybox has it; but a name the image links and this machine's busybox has no
/// applet for (Debian's has no ipcs) prints busybox's "applet not found", as on Linux.
///
/// A box that still shares the host's files runs the host's programs on Linux, and the
/// simulator cannot see those files. It runs there only what prints the same on every Linux
/// host: `true`, `false`, `echo`, `sleep`, `hostname`, `id -u`, `id -g`, `stat -c %u|%g PATH` and
/// `sh -c` with these (dash's wording, Debian's /bin/sh). A path outside the directories every
/// distribution has fails with ENOENT; anything else gets the one line.
struct SimPrograms {
  /// The machine's names, as uname(2) reports them (the CLI passes this host's).
  struct Machine: Sendable {
    var release = "6.1.0-sim"
    var version = "#1 SMP PREEMPT_DYNAMIC"
    var machine = "x86_64"
  }

  /// The box's root filesystem as a running program sees it.
  struct Files {
    /// The entry at an absolute path (symbolic links not followed), nil when there is none.
    var lookup: (String) -> LayerEntryKind?
    /// Names in a directory, nil when the path is not a directory.
    var list: (String) -> [String]?
    /// What /proc/mounts lists, nil when no proc is mounted at /proc. An entry's options are
    /// nil when they depend on the host (an overlay's lowerdir is a host path).
    var mounts: [(source: String, target: String, fstype: String, options: String?)]?
    /// Only lo, down, without addresses: what a new network namespace starts with.
    var freshNetwork = false
    /// /proc/uptime's line, when a proc is mounted at /proc: the box's CLOCK_BOOTTIME, shifted
    /// by its time namespace's offset.
    var uptime: String?
    /// mqueue mounts by mount point: the queue names each lists (one file per queue).
    var mqueues: [String: [String]] = [:]
  }

  /// What a running program can see.
  struct Context {
    /// The program's own PID in the box's view.
    var pid: Int
    var hostname: String
    var machine = Machine()
    /// The PIDs /proc lists inside the box, when the box has a proc of its own pid namespace.
    var procPIDs: [Int]?
    /// The other processes that proc lists (the box's programs still running), with their
    /// command lines, when it is a proc of the pid namespace the program runs in.
    var procTasks: [(pid: Int, argv: [String])]?
    /// The processes of this `run` while the program runs: the program itself last, and the
    /// shell that forked it before it. `comm` is the name the process runs under when it
    /// differs from its command line's (an applet run inside the shell's process).
    var running: [(pid: Int, argv: [String], comm: String?)] = []
    /// The program's IDs, and the host's root (owner of every file) as the box sees them.
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var fileUID: UInt32 = 0
    var fileGID: UInt32 = 0
    /// nil: the box sees the host's files, which the simulator does not know.
    var files: Files?
    /// The applets the busybox binary of the image has (`busybox --list` on this machine), nil
    /// when unknown. The image links more names than some builds have (Debian's has no ipcs).
    var installedApplets: Set<String>?
    /// How many more processes the box's cgroup admits while the program runs (pids.max less
    /// pids.current, the program itself counted); nil without a limit.
    var forksLeft: Int?
  }

  struct Outcome {
    var output: [String] = []
    var status: Int32 = 0
    /// Still running when started in the background (sleep with a positive time).
    var keepsRunning = false
    /// Set when the simulator does not run the program: the one line it prints instead.
    var notSimulated: String?
    /// Jobs a shell started in the background (`sleep 9 &`) that still run when it exits: their
    /// command lines, how many PIDs after the shell's own each got, and how many PIDs after the
    /// shell's own their parent got: 0 for the shell itself, more for a shell it forked, which
    /// has exited by the time the run ends (so its job is an orphan by then).
    var backgroundJobs: [(pidOffset: Int, argv: [String], parentOffset: Int)] = []
    /// Processes a shell forked for its commands, each with a PID of its own.
    var forks = 0
    /// The command line the process ends with when a shell replaced itself by its last
    /// command (execve(2)); nil when it kept its own.
    var execArgv: [String]?
    /// Forks the pids controller refused (pids.events counts them).
    var forksRefused = 0
  }

  /// What busybox ash prints when fork(2) fails with EAGAIN (forkshell and vforkexec in
  /// shell/ash.c: the message and strerror); the shell then exits with status 2, as for any
  /// error it raises in a script.
  static let cannotFork = "sh: can't fork: Resource temporarily unavailable"

  /// busybox applets that a shell runs by name without execve(2) (NOEXEC in busybox's applet
  /// table): in a forked child, or in the shell's own process for the last command, so /proc
  /// shows the shell's command line under the applet's name (`{ps} sh -c ...`).
  static let noExecApplets: Set<String> = ["ps"]

  /// Shell builtins of busybox ash and dash among the commands the simulator runs: no fork.
  static let shellBuiltins: Set<String> = ["echo", "true", "false", "exit", "cd", "exec", "printf", "test", "["]

  /// How a program name resolves before anything is forked.
  enum Resolution: Equatable {
    /// An applet the simulator models.
    case modelled(String)
    /// execvp(3) finds nothing: ENOENT.
    case missing
    /// It exists, but the simulator does not run it: the line to print.
    case notSimulated(String)
  }

  /// Applets the simulator models in the busybox image.
  static let busyboxApplets: Set<String> = [
    "ls", "cat", "echo", "id", "hostname", "uname", "sleep", "true", "false", "sh", "mount", "ip", "stat", "ps",
  ]
  /// Programs whose output is the same on every Linux host, run in a box on the host's files.
  static let hostIndependent: Set<String> = ["true", "false", "echo", "sleep", "hostname", "sh", "id", "stat"]
  /// execvp(3)'s search path in a box (boxwalk-helper sets PATH to this).
  static let path = ["/bin", "/usr/bin", "/sbin", "/usr/sbin"]

  static func notRun(_ what: String) -> String {
    "the simulator does not run \(what); --backend real does"
  }

  static func hostFiles(_ name: String) -> String {
    "the simulator does not run \(name) here: this box still uses the host's files, which the simulator cannot see "
      + "(rootfs busybox gives the box files it knows; --backend real runs the host's \(name))"
  }

  /// execvp(3): a name with a slash is a path, anything else is looked up in PATH.
  static func resolve(_ argv0: String, _ context: Context) -> Resolution {
    guard let files = context.files else {
      // The host's files: only the top-level directories every distribution has are known.
      let name = argv0.split(separator: "/").last.map(String.init) ?? argv0
      if argv0.contains("/") {
        let top = argv0.split(separator: "/").first.map(String.init) ?? ""
        guard argv0.hasPrefix("/"), SimHostTree.directories.contains("/" + top) || ["sbin", "lib"].contains(top) else {
          return .missing
        }
        guard ["/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/"].contains(where: { argv0 == $0 + name }) else {
          return .notSimulated(hostFiles(quoted(argv0)))
        }
      }
      return hostIndependent.contains(name) ? .modelled(name) : .notSimulated(hostFiles(quoted(argv0)))
    }
    for candidate in searched(argv0) {
      guard let kind = files.lookup(candidate) else { continue }
      switch kind {
      case .symlink(let target) where target == "busybox" || target == "/bin/busybox":
        // busybox picks the applet by the name it was run as.
        let name = String(candidate.split(separator: "/").last ?? "")
        if let installed = context.installedApplets, !installed.contains(name) { return .modelled(name) }
        return busyboxApplets.contains(name) ? .modelled(name) : .notSimulated(notRun(quoted(argv0)))
      case .directory: return .notSimulated(notRun(quoted(argv0)))
      default: return .notSimulated(notRun(quoted(argv0)))
      }
    }
    return .missing
  }

  static func quoted(_ s: String) -> String { "`" + s + "`" }

  /// The paths execvp(3) tries for a name: the name itself when it holds a slash, else each
  /// directory of the box's PATH in turn.
  static func searched(_ argv0: String) -> [String] {
    argv0.contains("/") ? [absolute(argv0)] : path.map { $0 + "/" + argv0 }
  }

  /// `busybox APPLET ARGS...`: the binary itself, given the applet's name as its first argument,
  /// runs that applet (busybox's own dispatch, libbb/appletlib.c), exactly as the link of that
  /// name would. nil when argv is not that (busybox alone prints its help: not modelled).
  static func busyboxByName(_ argv: [String], _ context: Context) -> Outcome? {
    guard argv.count > 1, let files = context.files, !argv[1].contains("/") else { return nil }
    guard let found = searched(argv[0]).first(where: { files.lookup($0) != nil }), found == "/bin/busybox",
      case .file = files.lookup(found)
    else { return nil }
    let name = argv[1]
    let missing = context.installedApplets.map { !$0.contains(name) } ?? false
    guard missing || busyboxApplets.contains(name) else {
      return Outcome(notSimulated: notRun(quoted(argv.joined(separator: " "))))
    }
    return applet(name, Array(argv.dropFirst()), context)
  }

  static func absolute(_ path: String) -> String {
    let joined = path.hasPrefix("/") ? path : "/" + path
    var parts: [Substring] = []
    for part in joined.split(separator: "/") {
      if part == "." { continue }
      if part == ".." {
        _ = parts.popLast()
        continue
      }
      parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
  }

  static func run(_ argv: [String], _ context: Context) -> Outcome {
    guard let first = argv.first else { return Outcome(status: 127) }
    var context = context
    if context.running.isEmpty { context.running = [(context.pid, argv, nil)] }
    if let outcome = busyboxByName(argv, context) { return outcome }
    switch resolve(first, context) {
    case .missing: return Outcome(status: 127)
    case .notSimulated(let line): return Outcome(notSimulated: line)
    case .modelled(let name): return applet(name, argv, context)
    }
  }

  /// Runs applet `name`, found by `run` (or by the shell) in the image or on the host's files.
  /// Each applet with more to it than a line has a function of its own, which answers nil for
  /// what it does not model; that, and every other applet, prints the one "not simulated" line.
  static func applet(_ name: String, _ argv: [String], _ context: Context) -> Outcome {
    let args = Array(argv.dropFirst())
    let busybox = context.files != nil
    if busybox, let installed = context.installedApplets, !installed.contains(name) {
      // busybox run by a name it has no applet for: its own words on stderr, and POSIX's
      // "command not found" status (run_applet_and_exit in libbb/appletlib.c).
      return Outcome(output: ["\(name): applet not found"], status: 127)
    }
    let shown = quoted(argv.joined(separator: " "))
    let unmodelled = Outcome(notSimulated: busybox ? notRun(shown) : hostFiles(shown))
    switch name {
    case "true": return Outcome()
    case "false": return Outcome(status: 1)
    case "echo":
      if args.first == "-n" { return Outcome(output: [args.dropFirst().joined(separator: " ")]) }
      if args.first.map({ $0.hasPrefix("-") && $0.count > 1 }) == true { return unmodelled }
      return Outcome(output: [args.joined(separator: " ")])
    case "hostname":
      return args.isEmpty ? Outcome(output: [context.hostname]) : unmodelled
    case "id": return id(args, context) ?? unmodelled
    case "stat": return stat(args, context) ?? unmodelled
    case "cat": return cat(args, context) ?? unmodelled
    case "ls": return ls(args, context) ?? unmodelled
    case "uname": return uname(args, context) ?? unmodelled
    case "sleep":
      guard args.count == 1, let seconds = Double(args[0]), seconds >= 0 else { return unmodelled }
      return Outcome(keepsRunning: seconds > 0)
    case "mount": return mount(args, context) ?? unmodelled
    case "ps": return ps(args, context) ?? unmodelled
    case "ip":
      guard args == ["addr"] || args == ["a"] || args == ["addr", "show"], let files = context.files, files.freshNetwork
      else { return unmodelled }
      // A new network namespace has only its loopback device, down (network_namespaces(7)).
      return Outcome(
        output: [
          "1: lo: <LOOPBACK> mtu 65536 qdisc noop qlen 1000",
          "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        ])
    case "sh": return sh(args, argv, context) ?? unmodelled
    default:
      return unmodelled
    }
  }

  /// `stat -c %u|%g PATH`: the owner or group of a file, which is the host's root as the box
  /// sees it (the ID it maps to, or the overflow ID 65534 when unmapped: user_namespaces(7)).
  /// A path the image does not have gets busybox stat's words and status 1.
  static func stat(_ args: [String], _ context: Context) -> Outcome? {
    guard args.count == 3, args[0] == "-c", ["%u", "%g"].contains(args[1]), args[2].hasPrefix("/") else {
      return nil
    }
    if let files = context.files, files.lookup(absolute(args[2])) == nil, args[2] != "/" {
      return Outcome(output: ["stat: can't stat '\(args[2])': No such file or directory"], status: 1)
    }
    return Outcome(output: [String(args[1] == "%u" ? context.fileUID : context.fileGID)])
  }

  /// busybox `cat FILE...`: each file's lines in turn; /proc/uptime as the box's clock reads it,
  /// /dev/null as empty, a missing file as busybox says it. Anything else (a directory, a
  /// device, an option) is not modelled.
  static func cat(_ args: [String], _ context: Context) -> Outcome? {
    guard let files = context.files, !args.isEmpty, !args.contains(where: { $0.hasPrefix("-") }) else {
      return nil
    }
    var outcome = Outcome()
    for path in args {
      if absolute(path) == "/proc/uptime", let uptime = files.uptime {
        outcome.output.append(uptime)
        continue
      }
      switch files.lookup(absolute(path)) {
      case .file(let bytes)?:
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
          String(decoding: $0, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        outcome.output += lines
      case .special("char device")? where absolute(path) == "/dev/null":
        // The null device reads as end of file at once (null(4)).
        continue
      case nil, .whiteout?:
        // busybox cat's words for a file it cannot open.
        outcome.output.append("cat: can't open '\(path)': No such file or directory")
        outcome.status = 1
      default:
        return nil
      }
    }
    return outcome
  }

  /// busybox `mount` with no arguments: /proc/mounts, one "SOURCE on TARGET type FSTYPE (OPTIONS)"
  /// line each (proc(5)); without a proc at /proc, busybox finds nothing to read.
  static func mount(_ args: [String], _ context: Context) -> Outcome? {
    guard args.isEmpty, let files = context.files else { return nil }
    guard let mounts = files.mounts else { return Outcome(output: ["mount: no /proc/mounts"], status: 1) }
    if mounts.contains(where: { $0.options == nil }) {
      // The overlay's options name host directories: print what the simulator knows.
      return Outcome(
        output: mounts.map { m in
          "\(m.source) on \(m.target) type \(m.fstype) (\(m.options ?? "options name this host's directories: not modelled"))"
        })
    }
    return Outcome(output: mounts.map { "\($0.source) on \($0.target) type \($0.fstype) (\($0.options ?? ""))" })
  }

  /// busybox `ps` (or `ps -ef`), which reads /proc: with no proc mounted there (the image's /proc
  /// is an empty directory) it finds no process and prints its header alone. With a proc of the
  /// box's own pid namespace it lists every process there, by PID: the box's programs still
  /// running, and this run's (the shell, and ps itself). Another proc (the host's, or one of
  /// another pid namespace) lists processes the simulator does not know: not modelled.
  static func ps(_ args: [String], _ context: Context) -> Outcome? {
    guard args.isEmpty || args == ["-ef"], let files = context.files else { return nil }
    let header = "PID   USER     COMMAND"
    guard files.mounts != nil else { return Outcome(output: [header]) }
    guard let others = context.procTasks else { return nil }
    let user = userName(context.uid, context) ?? String(context.uid)
    let mine = context.running.map { ($0.pid, $0.argv, $0.comm) }
    let listed = (others.map { ($0.pid, $0.argv, String?.none) } + mine).sorted { $0.0 < $1.0 }
    return Outcome(output: [header] + listed.map { psLine($0.0, user, $0.1, $0.2) })
  }

  /// `sh` with no script reads its standard input, which is /dev/null, so it exits 0 at once;
  /// `sh -c SCRIPT` runs the script (`shell`). A missing script gets the shell's own words:
  /// busybox ash's in the image, dash's on the host's files.
  static func sh(_ args: [String], _ argv: [String], _ context: Context) -> Outcome? {
    if args.isEmpty { return Outcome() }  // stdin is /dev/null: the shell reads end of file and exits 0
    guard args[0] == "-c" else { return nil }
    guard args.count >= 2 else {
      return context.files != nil
        ? Outcome(output: ["sh: -c requires an argument"], status: 2)
        : Outcome(output: ["sh: 0: -c requires an argument"], status: 2)
    }
    return shell(args[1], argv, context)
  }

  /// One line of busybox ps: "%5u %-8.8s %s", the command line with its arguments joined by
  /// spaces, and `{comm}` before it when the process runs under another name than its
  /// command line's first word (procps/ps.c, read_cmdline in libbb/procps.c).
  static func psLine(_ pid: Int, _ user: String, _ argv: [String], _ comm: String?) -> String {
    let pidText = String(pid)
    let padded = String(repeating: " ", count: max(0, 5 - pidText.count)) + pidText
    let name = String(user.prefix(8))
    let column = name + String(repeating: " ", count: 8 - name.count)
    var command = argv.joined(separator: " ")
    if let comm, let first = argv.first, !(first.split(separator: "/").last.map(String.init) ?? first).hasPrefix(comm) {
      command = "{\(comm)} " + command
    }
    return "\(padded) \(column) \(command)"
  }

  /// busybox id: `uid=0(root) gid=0(root)`, names from the image's /etc/passwd and /etc/group.
  /// On the host's files only -u and -g, which print the same everywhere.
  static func id(_ args: [String], _ context: Context) -> Outcome? {
    switch args {
    case ["-u"]: return Outcome(output: [String(context.uid)])
    case ["-g"]: return Outcome(output: [String(context.gid)])
    default: break
    }
    guard context.files != nil else { return nil }
    switch args {
    case []:
      func named(_ id: UInt32, _ name: String?) -> String { name.map { "\(id)(\($0))" } ?? String(id) }
      return Outcome(
        output: [
          "uid=\(named(context.uid, userName(context.uid, context))) gid=\(named(context.gid, groupName(context.gid, context)))"
        ])
    case ["-un"], ["-nu"]:
      guard let name = userName(context.uid, context) else { return nil }
      return Outcome(output: [name])
    case ["-gn"], ["-ng"]:
      guard let name = groupName(context.gid, context) else { return nil }
      return Outcome(output: [name])
    default: return nil
    }
  }

  static func userName(_ id: UInt32, _ context: Context) -> String? { entryName(id, "/etc/passwd", context) }
  static func groupName(_ id: UInt32, _ context: Context) -> String? { entryName(id, "/etc/group", context) }

  /// The first name with this ID in a passwd(5) or group(5) file (NAME:x:ID:...).
  static func entryName(_ id: UInt32, _ file: String, _ context: Context) -> String? {
    guard case .file(let bytes)? = context.files?.lookup(file) else { return nil }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      if fields.count > 2, UInt32(fields[2]) == id { return String(fields[0]) }
    }
    return nil
  }

  /// busybox ls without options, output not a terminal: one name per line, sorted, no dot files;
  /// files named on the command line first, then each directory under a `DIR:` heading.
  static func ls(_ args: [String], _ context: Context) -> Outcome? {
    guard let files = context.files, !args.contains(where: { $0.hasPrefix("-") }) else { return nil }
    let targets = args.isEmpty ? ["."] : args
    var outcome = Outcome()
    var plain: [String] = []
    var directories: [(String, [String])] = []
    for target in targets {
      let path = absolute(target)
      // proc and sysfs list what the kernel has: not modelled.
      if path == "/proc" || path.hasPrefix("/proc/") || path == "/sys" || path.hasPrefix("/sys/") { return nil }
      if let queues = files.mqueues[path] {
        directories.append((target, queues.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }))
      } else if path == "/" || files.lookup(path)?.isDirectory == true {
        guard let names = files.list(path) else { return nil }
        directories.append(
          (target, names.filter { !$0.hasPrefix(".") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }))
      } else if let kind = files.lookup(path), kind != .whiteout {
        plain.append(target)
      } else {
        outcome.output.append("ls: \(target): No such file or directory")
        outcome.status = 1
      }
    }
    outcome.output += plain.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    let headed = targets.count > 1
    for (i, (name, names)) in directories.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
      if headed {
        if i > 0 || !plain.isEmpty { outcome.output.append("") }
        outcome.output.append("\(name):")
      }
      outcome.output += names
    }
    return outcome
  }

  /// uname(1): -s (the default) -n -r -v -m, -a for all of them and the operating system.
  static func uname(_ args: [String], _ context: Context) -> Outcome? {
    var wanted: Set<Character> = []
    for arg in args {
      guard arg.hasPrefix("-"), arg.count > 1 else { return nil }
      for c in arg.dropFirst() {
        guard "snrvmao".contains(c) else { return nil }
        wanted.insert(c)
      }
    }
    if wanted.isEmpty { wanted = ["s"] }
    if wanted.contains("a") { wanted = ["s", "n", "r", "v", "m", "o"] }
    let fields: [(Character, String)] = [
      ("s", "Linux"), ("n", context.hostname), ("r", context.machine.release), ("v", context.machine.version),
      ("m", context.machine.machine), ("o", "GNU/Linux"),
    ]
    return Outcome(output: [fields.filter { wanted.contains($0.0) }.map(\.1).joined(separator: " ")])
  }

  /// A very small POSIX shell: simple commands joined by `;`, `&&` and `||`, `exit N`, `$$` and
  /// the glob `/proc/[0-9]*`. busybox ash in the image, dash on the host's files.
  ///
  /// Each command that is not a builtin forks a child (one PID) unless it is the script's last
  /// command: that one replaces the shell (busybox ash and dash evaluate the last command of a
  /// -c script with EV_EXIT), by execve(2), or in the shell's own process for a NOEXEC applet.
  /// A name PATH does not have costs no fork: the shell searches before it forks.
  static func shell(_ script: String, _ shellArgv: [String], _ context: Context) -> Outcome {
    // What the shell says of a script it cannot model: that it does not run it, not half of it.
    let notRunScript = Outcome(notSimulated: notRun(quoted("sh -c " + script)))
    // Command substitution runs a second shell whose output becomes words: not modelled, so said
    // plainly rather than printed unexpanded (`echo on $(hostname)` would show the `$(`).
    if hasCommandSubstitution(script) { return notRunScript }
    var outcome = Outcome()
    let commands = splitCommands(script)
    // The shell's own PID and command line, as the caller runs it.
    let shell = ShellProcess(
      pid: context.running.last?.pid ?? context.pid, argv: shellArgv, parents: Array(context.running.dropLast()))
    // Lines a background child prints whenever it runs: after what the shell printed meanwhile.
    var lateLines: [String] = []
    for (index, (command, conjunction)) in commands.enumerated() {
      if conjunction == "&&" && outcome.status != 0 { continue }
      if conjunction == "||" && outcome.status == 0 { continue }
      var unmodelledGlob = false
      let words = expand(command, context, unmodelledGlob: &unmodelledGlob)
      // A pattern the shell would match against files (pathname expansion, sh(1)) other than
      // /proc's PIDs: the simulator does not expand it, so it does not pretend to run it.
      if unmodelledGlob { return notRunScript }
      guard let first = words.first else { continue }
      if isBackground(index, commands) {
        if let end = background(words, context, &outcome, &lateLines, notRun: notRunScript) { return end }
        continue
      }
      if first == "exit" {
        outcome.status = words.count > 1 ? Int32(words[1]) ?? 2 : outcome.status
        return outcome
      }
      let last = index == commands.count - 1
      if let end = foreground(words, last: last, shell, context, &outcome, lateLines, notRun: notRunScript) {
        return end
      }
    }
    outcome.output += lateLines
    return outcome
  }

  /// The process running `sh -c`: its PID, its command line, and the processes above it in
  /// this run (none when `run` started the shell itself).
  struct ShellProcess {
    var pid: Int
    var argv: [String]
    var parents: [(pid: Int, argv: [String], comm: String?)]
  }

  /// `COMMAND &`: the shell forks, and in the child, with no job control (sh -c), points stdin
  /// at /dev/null before it runs the command (busybox ash, forkchild in shell/ash.c; POSIX
  /// "Asynchronous Lists"). No /dev/null (a root filesystem without a /dev): the child says so
  /// on stderr and exits, and the command never runs. The child's line comes whenever the child
  /// runs: after what the shell printed meanwhile, usually. Only a job that prints nothing
  /// (`sleep N`) is modelled, since its output would race the shell's. Answers the outcome the
  /// whole script ends with, if this ends it (a refused fork, a job not modelled), else nil.
  static func background(
    _ words: [String], _ context: Context, _ outcome: inout Outcome, _ lateLines: inout [String], notRun: Outcome
  ) -> Outcome? {
    // The children forked so far took the PIDs after the shell's own; this one takes the next.
    outcome.forks += 1
    if refusesFork(context, running: outcome.backgroundJobs.count) {
      return refusedFork(outcome, lateLines)
    }
    guard context.files?.lookup("/dev/null") != nil else {
      lateLines.append("sh: can't open '/dev/null': No such file or directory")
      outcome.status = 0
      return nil
    }
    // Only a job that prints nothing is modelled: its output would race the shell's.
    guard words.count == 2, words[0] == "sleep", case .modelled = resolve(words[0], context) else {
      return notRun
    }
    let r = applet("sleep", words, context)
    if r.notSimulated != nil { return notRun }
    if r.keepsRunning { outcome.backgroundJobs.append((outcome.forks, words, 0)) }
    outcome.status = 0
    return nil
  }

  /// A command in the foreground: a builtin runs in the shell; another command runs in a forked
  /// child (the next PID), unless it is the script's last, which replaces the shell by
  /// execve(2) or, for a NOEXEC applet, runs in the shell's process under the applet's name. A
  /// name PATH does not have costs no fork: the shell searches before it forks, and prints its
  /// "not found" with status 127. Answers the outcome the whole script ends with, if this ends
  /// it, else nil.
  static func foreground(
    _ words: [String], last: Bool, _ shell: ShellProcess, _ context: Context, _ outcome: inout Outcome,
    _ lateLines: [String], notRun: Outcome
  ) -> Outcome? {
    let first = words[0]
    // Where the command runs: a child of the shell, or the shell's process at the end.
    let builtin = shellBuiltins.contains(first)
    let noExec = !first.contains("/") && noExecApplets.contains(first)
    var inner = context
    var forked = false
    if !builtin {
      if case .missing = resolve(first, context), busyboxByName(words, context) == nil {
      } else if last {
        inner.pid = shell.pid
        inner.running = shell.parents + [(shell.pid, noExec ? shell.argv : words, noExec ? first : nil)]
      } else {
        if refusesFork(context, running: outcome.backgroundJobs.count) {
          outcome.forks += 1
          return refusedFork(outcome, lateLines)
        }
        forked = true
        inner.pid = shell.pid + outcome.forks + 1
        inner.running =
          shell.parents + [
            (shell.pid, shell.argv, nil), (inner.pid, noExec ? shell.argv : words, noExec ? first : nil),
          ]
      }
    }
    let r: Outcome
    if let byName = busyboxByName(words, inner) {
      r = byName
    } else {
      switch resolve(first, context) {
      case .missing:
        outcome.output.append(context.files != nil ? "sh: \(first): not found" : "sh: 1: \(first): not found")
        outcome.status = 127
        return nil
      case .notSimulated: return notRun
      case .modelled(let name): r = applet(name, words, inner)
      }
    }
    if r.notSimulated != nil { return notRun }
    // Jobs a shell run by this one left behind (`sh -c "sleep 9 &"`): their PIDs and their
    // parent's counted from this shell's. The forked shell has exited when its command is done.
    let shift = inner.pid - shell.pid
    outcome.backgroundJobs += r.backgroundJobs.map { ($0.pidOffset + shift, $0.argv, $0.parentOffset + shift) }
    if forked { outcome.forks += 1 }
    outcome.forks += r.forks
    if last && !builtin && !noExec { outcome.execArgv = r.execArgv ?? words }
    outcome.output += r.output
    outcome.status = r.status
    // A command that blocks (sleep) keeps the shell running: started in the background, the
    // shell is still there when the step ends, as on Linux, where `sh -c 'sleep 1000'`
    // waits in its child (or is replaced by it) and its PID stays alive.
    if r.keepsRunning { outcome.keepsRunning = true }
    return nil
  }

  /// Whether the box's cgroup refuses the shell's next fork: the pids controller counts every
  /// process of the cgroup, the shell and the jobs it left running included, and fork(2) fails
  /// with EAGAIN once pids.current has reached pids.max (Documentation/admin-guide/cgroup-v1/
  /// pids.rst). A foreground child has exited before the next command forks.
  static func refusesFork(_ context: Context, running jobs: Int) -> Bool {
    guard let left = context.forksLeft else { return false }
    return jobs >= left
  }

  /// The shell after a refused fork: it says so on stderr and exits with status 2. The PID the
  /// kernel had already given the child is freed, and the next fork takes the one after it
  /// (alloc_pid comes before the cgroup's check in copy_process, kernel/fork.c).
  static func refusedFork(_ outcome: Outcome, _ lateLines: [String]) -> Outcome {
    var outcome = outcome
    outcome.output += lateLines + [cannotFork]
    outcome.status = 2
    outcome.forksRefused += 1
    return outcome
  }

  /// Whether command `n` of a split script ends with `&` (the next one starts after a lone `&`).
  static func isBackground(_ n: Int, _ commands: [(String, String)]) -> Bool {
    n + 1 < commands.count && commands[n + 1].1 == "&"
  }

  /// `$(...)` or a backquote outside single quotes: sh(1) "Command Substitution".
  static func hasCommandSubstitution(_ script: String) -> Bool {
    var inSingle = false
    var previous: Character = " "
    for c in script {
      if c == "'" { inSingle.toggle() }
      if !inSingle, c == "`" || (previous == "$" && c == "(") { return true }
      previous = c
    }
    return false
  }

  /// Splits at `;`, `&&` and `||` outside quotes; each command carries the operator before it.
  static func splitCommands(_ script: String) -> [(String, String)] {
    var out: [(String, String)] = []
    var current = ""
    var before = ";"
    var quote: Character?
    let chars = Array(script)
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
      } else if (c == "&" || c == "|"), i + 1 < chars.count, chars[i + 1] == c {
        out.append((current, before))
        current = ""
        before = String([c, c])
        i += 1
      } else if c == "&" {
        // A lone `&`: the command before it runs in the background; the next one follows.
        out.append((current, before))
        current = ""
        before = "&"
      } else {
        current.append(c)
      }
      i += 1
    }
    out.append((current, before))
    // A script that ends with `&` keeps an empty last command, which marks the one before it.
    var kept: [(String, String)] = []
    for (n, command) in out.enumerated() {
      let blank = command.0.allSatisfy { $0 == " " }
      if !blank || (command.1 == "&" && n == out.count - 1) { kept.append(command) }
    }
    return kept
  }

  /// Word splitting with quotes, `$$` expansion (not inside single quotes) and the one glob.
  /// `unmodelledGlob` is set when a word is a pattern other than `/proc/[0-9]*`.
  static func expand(_ command: String, _ context: Context, unmodelledGlob: inout Bool) -> [String] {
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
        } else if globbable && word != "/proc/[0-9]*" {
          unmodelledGlob = true
          words.append(word)
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
