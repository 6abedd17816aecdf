import OCI

/// `boxwalk trace crun|runc BUNDLE` (docs/runtimes.md): boxwalk's steps for the bundle's box beside
/// the runtime's system calls that did the same, in the runtime's order, then what the runtime
/// did that the steps leave out, each kind once with why. Pure: config.json and the parsed trace in.
public enum TraceComparison {
  /// One boxwalk step the bundle asks for, and which of the runtime's calls do its work.
  struct Planned {
    var command: String
    var matches: (RuntimeTrace.Call) -> Bool
  }

  static func flags(_ call: RuntimeTrace.Call) -> Set<String> {
    Set(call.args.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
  }

  static func mountType(_ call: RuntimeTrace.Call) -> String? {
    switch call.name {
    case "mount": call.strings.count > 2 ? call.strings[2] : nil
    case "fsopen": call.strings.first ?? nil
    default: nil
    }
  }

  static func target(_ call: RuntimeTrace.Call) -> String {
    guard call.name == "mount" || call.name == "move_mount", call.strings.count > 1 else { return "" }
    return call.strings[1] ?? ""
  }

  /// boxwalk's steps for the box config.json describes, in the order a learner takes them.
  static func plan(_ config: JSONValue, box: String) -> [Planned] {
    var steps: [Planned] = [
      // A plain fork: no namespace flags, and no thread of the runtime's own (CLONE_THREAD).
      Planned(command: "box new \(box)") { call in
        (call.name == "clone" || call.name == "clone3") && call.namespaceKinds.isEmpty
          && !flags(call).contains("CLONE_THREAD")
      }
    ]
    let namespaces = config["linux"]?["namespaces"]?.array ?? []
    let kindOf = ["mount": "mnt", "network": "net"]
    let fresh = namespaces.filter { $0["path"] == nil }.compactMap { $0["type"]?.string }.map { kindOf[$0] ?? $0 }
    if !fresh.isEmpty {
      let mnt = fresh.contains("mnt")
      steps.append(
        Planned(command: "unshare " + fresh.sorted().joined(separator: ",")) { call in
          if !call.namespaceKinds.isEmpty && call.name != "setns" { return true }
          // unshare mnt makes "/" private at once, as runtimes do (rootfsPropagation).
          let f = flags(call)
          return mnt && call.name == "mount" && f.contains("MS_REC")
            && (f.contains("MS_PRIVATE") || f.contains("MS_SLAVE")) && target(call) == "/"
        })
    }
    for ns in namespaces {
      guard let type = ns["type"]?.string, let path = ns["path"]?.string else { continue }
      let kind = kindOf[type] ?? type
      steps.append(
        Planned(command: "join \(kind) (\(path))") { $0.name == "setns" && $0.namespaceKinds.contains(kind) })
    }
    for (key, file) in [("uidMappings", "uid_map"), ("gidMappings", "gid_map")] {
      guard let first = config["linux"]?[key]?.array?.first else { continue }
      let range = ["containerID", "hostID", "size"].map { first[$0]?.int.map(String.init) ?? "?" }
      steps.append(
        Planned(command: "map \(file.prefix(3)) " + range.joined(separator: " ")) { call in
          (call.name == "write" && call.file?.hasSuffix(file) == true)
            || (call.name.hasPrefix("openat") && call.path?.hasSuffix(file) == true)
        })
    }
    if let hostname = config["hostname"]?.string {
      steps.append(Planned(command: "hostname \(hostname)") { $0.name == "sethostname" })
    }
    if let resources = config["linux"]?["resources"] {
      steps.append(
        Planned(command: "cgroup new") { call in
          (call.name == "mkdir" || call.name == "mkdirat")
            && call.path?.hasPrefix("/sys/fs/cgroup/") == true
        })
      let limits: [(String, String, [String])] = [
        ("pids", "limit", ["pids.max"]), ("memory", "limit", ["memory.max", "memory.limit_in_bytes"]),
        ("cpu", "quota", ["cpu.max", "cpu.cfs_quota_us"]),
      ]
      for (controller, key, files) in limits {
        guard let n = resources[controller]?[key]?.int else { continue }
        steps.append(
          Planned(command: "cgroup set \(files[0]) \(n)") { call in
            let path = call.file ?? (call.name.hasPrefix("openat") ? call.path ?? "" : "")
            return files.contains { path.hasSuffix($0) }
          })
      }
    }
    steps.append(
      Planned(command: "rootfs (the bundle's rootfs/)") { call in
        let f = flags(call)
        let s = call.strings
        return call.name == "mount" && f.contains("MS_BIND") && s.count > 1 && s[0] != nil && s[0] == s[1]
      })
    for mount in config["mounts"]?.array ?? [] {
      guard let dest = mount["destination"]?.string, let type = mount["type"]?.string else { continue }
      let bind = (mount["options"]?.array ?? []).contains { $0.string == "rbind" || $0.string == "bind" }
      steps.append(
        Planned(command: bind ? "mount bind \(mount["source"]?.string ?? "?") \(dest)" : "mount \(type) \(dest)") {
          call in
          if bind { return call.name == "mount" && flags(call).contains("MS_BIND") && target(call).hasSuffix(dest) }
          // The target is often /proc/self/fd/N, a descriptor of the place: the type decides.
          return mountType(call) == type
        })
    }
    steps.append(
      Planned(command: "pivot-root") { call in
        call.name == "pivot_root"
          || (call.name == "umount2" && call.args.contains("MNT_DETACH")
            && ["/", "."].contains(call.strings.first ?? nil))
      })
    let args = config["process"]?["args"]?.array?.compactMap(\.string) ?? ["/bin/sh"]
    steps.append(
      Planned(command: "run " + args.joined(separator: " ")) { call in
        call.name == "execve" && (call.strings.first ?? nil) == args.first
      })
    return steps
  }

  /// What a call the steps left out is for, by kind: nil for the runtime's own bookkeeping.
  static func extra(_ call: RuntimeTrace.Call) -> (kind: String, why: String)? {
    let f = flags(call)
    let s = call.strings
    switch call.name {
    case "seccomp" where f.contains("SECCOMP_SET_MODE_FILTER"):
      return ("seccomp", "a filter the kernel runs on every system call: calls a container never needs fail")
    case "prctl" where f.contains("PR_SET_SECCOMP"):
      return ("seccomp", "a filter the kernel runs on every system call: calls a container never needs fail")
    case "prctl" where f.contains("PR_SET_NO_NEW_PRIVS"):
      return (
        "no_new_privs", "execve(2) can never raise privileges again: setuid files and file capabilities do nothing"
      )
    case "capset",
      "prctl" where f.contains("PR_CAPBSET_DROP") || f.contains("PR_CAP_AMBIENT"):
      return ("capabilities", "the sets the process keeps (config.json process.capabilities), set before execve(2)")
    case "keyctl":
      return ("session keyring", "a kernel keyring of the container's own, so it cannot read the host's keys")
    case "setresuid", "setresgid", "setgroups":
      return ("user and groups", "the process becomes config.json's process.user, supplementary groups cleared")
    case "mknodat" where call.args.contains("S_IFCHR") || call.args.contains("S_IFBLK"):
      return ("/dev setup", "device nodes made in the container's own /dev, never the host's /dev")
    case "symlinkat" where s.contains { $0?.contains("/dev") == true || $0?.hasPrefix("/proc/self/fd") == true }:
      return ("/dev setup", "the links a shell expects in /dev (fd, stdin, stdout, stderr, ptmx)")
    case "mount":
      let source = s.first ?? nil
      let dest = target(call)
      if source == "/proc/self/exe" || dest.contains("/crun.") || dest.contains("/runc.") {
        return (
          "runtime binary",
          "the runtime's own binary bound read-only, so a container cannot overwrite it (CVE-2019-5736)"
        )
      }
      if source == "/dev/null" {
        return ("masked paths", "host kernel files under /proc and /sys hidden (/dev/null bound over them)")
      }
      if f.contains("MS_REMOUNT") && f.contains("MS_RDONLY") {
        return ("read-only remounts", "mounts made read-only after they are made (a mount's \"ro\", readonlyPaths)")
      }
      if dest.contains("/dev") || mountType(call) == "devpts" {
        return ("/dev setup", "a tmpfs /dev with the default devices bound in, /dev/pts and /dev/shm")
      }
      if f.contains("MS_MOVE") { return ("root switch", "the root filesystem moved into place around pivot_root(2)") }
      if f.contains("MS_PRIVATE") || f.contains("MS_SLAVE") || f.contains("MS_SHARED") {
        return ("propagation", "mount propagation set on the container's mounts (rootfsPropagation)")
      }
      if let type = mountType(call) {
        return ("mount \(type)", "a \(type) the config or the runtime's defaults ask for")
      }
      return ("other mounts", "bind mounts and remounts the runtime makes for its own files")
    case "sethostname": return ("hostname", "the hostname, set again")
    case "umount2" where (s.first ?? nil)?.contains("/crun.") == true || (s.first ?? nil)?.contains("/runc.") == true:
      return (
        "runtime binary", "the runtime's own binary bound read-only, so a container cannot overwrite it (CVE-2019-5736)"
      )
    case "umount2" where call.succeeded:
      return ("unmounts", "the runtime's own temporary mounts taken away again")
    case "execve":
      let path = s.first ?? nil
      if path?.hasSuffix("runc") == true || path == "/proc/self/exe" || call.args.contains("init") {
        return ("re-exec", "the runtime runs itself again inside the new namespaces to finish from there")
      }
      return nil
    default: return nil
    }
  }

  /// The comparison's lines. `calls` nil: no trace (the simulator): boxwalk's side alone.
  public static func lines(runtime: String, config: JSONValue, box: String, calls: [RuntimeTrace.Call]?) -> [String] {
    let steps = plan(config, box: box)
    let width = max(30, (steps.map(\.command.count).max() ?? 0) + 2)
    func pad(_ s: String) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
    guard let calls else {
      return ["boxwalk's steps for this bundle (\(steps.count)):"] + steps.map { "  " + $0.command }
        + [
          "\(runtime)'s side needs the real backend: boxwalk trace runs \(runtime) on the bundle under strace(1), as root"
        ]
    }
    var used = Set<Int>()
    var out = [
      "  " + pad("boxwalk's steps") + "\(runtime)'s system calls that do the same (#: order in \(runtime)'s trace)"
    ]
    let succeeded = calls.enumerated().filter { $0.element.succeeded }
    for step in steps {
      let hits = succeeded.filter { !used.contains($0.offset) && step.matches($0.element) }
      hits.forEach { used.insert($0.offset) }
      guard let first = hits.first else {
        out.append("  " + pad(step.command) + "-   (\(runtime) made no such call)")
        continue
      }
      out.append("  " + pad(step.command) + "#\(first.offset + 1)  " + first.element.text)
      for hit in hits.dropFirst().prefix(2) {
        out.append("  " + pad("") + "#\(hit.offset + 1)  " + hit.element.text)
      }
      if hits.count > 3 { out.append("  " + pad("") + "... and \(hits.count - 3) more") }
    }
    var kinds: [(kind: String, why: String, calls: [Int])] = []
    for (i, call) in succeeded where !used.contains(i) {
      guard let e = extra(call) else { continue }
      if let k = kinds.firstIndex(where: { $0.kind == e.kind }) {
        kinds[k].calls.append(i)
      } else {
        kinds.append((e.kind, e.why, [i]))
      }
    }
    out.append("what \(runtime) did that the steps left out:")
    if kinds.isEmpty { out.append("  nothing boxwalk knows a name for") }
    for k in kinds {
      out.append(
        "  \(k.kind): \(k.why) (\(k.calls.count) call\(k.calls.count == 1 ? "" : "s"), first #\(k.calls[0] + 1) "
          + calls[k.calls[0]].text + ")")
    }
    return out
  }
}
