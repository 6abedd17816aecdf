import Kernel

/// One thing a cgroup driver did to the cgroup file system, in the order it did it. Every driver
/// operation returns these, so a step can print the system call, the shell command a learner could
/// type instead, and on v1 how a v2 key was translated:
///
///     memory.max 64M -> memory.limit_in_bytes = 67108864
///     write("/sys/fs/cgroup/memory/boxwalk/SESSION/web/memory.limit_in_bytes", "67108864")
///     echo 67108864 > /sys/fs/cgroup/memory/boxwalk/SESSION/web/memory.limit_in_bytes
///
/// Paths are relative to the driver's root (/sys/fs/cgroup), so the same action prints the same
/// whatever directory a test used as the root.
package enum CgroupAction: Equatable, Sendable {
  /// mkdir(2): in a cgroup file system this creates a cgroup, and the kernel fills the new
  /// directory with its interface files.
  case makeDirectory(String)
  /// write(2) of a value to an interface file.
  case write(CgroupWrite)
  /// rmdir(2): removes a cgroup that has no processes and no child cgroups, interface files and all.
  case removeDirectory(String)
  /// kill(2) with SIGKILL, for a process found in cgroup.procs (the v1 way of killing a cgroup).
  case kill(pid: Int32)

  /// The call as strace would print it (shortened: the open(2) before a write is implied).
  package func systemCall(root: String) -> String {
    switch self {
    case .makeDirectory(let path): "mkdir(\"\(Self.join(root, path))\", 0755)"
    case .write(let write): "write(\"\(Self.join(root, write.path))\", \"\(write.value)\")"
    case .removeDirectory(let path): "rmdir(\"\(Self.join(root, path))\")"
    case .kill(let pid): "kill(\(pid), SIGKILL)"
    }
  }

  /// The coreutils command that does the same, its words quoted as the step's shell line quotes
  /// them (ShellWord).
  package func shellCommand(root: String) -> String {
    switch self {
    case .makeDirectory(let path): "mkdir " + ShellWord.quote(Self.join(root, path))
    case .write(let write): "echo \(ShellWord.quote(write.value)) > " + ShellWord.quote(Self.join(root, write.path))
    case .removeDirectory(let path): "rmdir " + ShellWord.quote(Self.join(root, path))
    case .kill(let pid): "kill -KILL \(pid)"
    }
  }

  /// The same action with the session directory `boxwalk/SESSION` written `boxwalk/LABEL`. The
  /// session id holds a host PID, which default output never shows (docs/transcripts.md).
  package func replacingSession(_ session: String, with label: String) -> CgroupAction {
    switch self {
    case .makeDirectory(let path): return .makeDirectory(Self.replace(session, label, in: path))
    case .removeDirectory(let path): return .removeDirectory(Self.replace(session, label, in: path))
    case .write(var write):
      write.path = Self.replace(session, label, in: write.path)
      return .write(write)
    case .kill: return self
    }
  }

  /// The same action with host PIDs written into cgroup.procs shown by label (`<web>`, as the
  /// backend prints a box's host PID), for the same reason. A kill keeps its PID: those are
  /// printed only when asked for.
  package func replacingPIDs(_ labels: [Int32: String]) -> CgroupAction {
    guard case .write(var write) = self, write.file == "cgroup.procs", let pid = Int32(write.value),
      let label = labels[pid]
    else { return self }
    write.value = label
    return .write(write)
  }

  /// How the v2 keys of `cgroup set` became files, one line per setting:
  /// `cpu.max "50000 100000" -> cpu.cfs_period_us = 100000, cpu.cfs_quota_us = 50000`.
  package static func translations(_ actions: [CgroupAction]) -> [String] {
    var lines: [String] = []
    var current: (setting: CgroupSetting, parts: [String])?
    for action in actions {
      guard case .write(let write) = action, let setting = write.setting else { continue }
      let part = "\(write.file) = \(write.value)"
      if let open = current, open.setting == setting {
        current?.parts.append(part)
      } else {
        if let open = current { lines.append("\(open.setting) -> " + open.parts.joined(separator: ", ")) }
        current = (setting, [part])
      }
    }
    if let open = current { lines.append("\(open.setting) -> " + open.parts.joined(separator: ", ")) }
    return lines
  }

  /// `dir/file`, or `file` when `dir` is the hierarchy's top ("").
  static func path(_ dir: String, _ file: String) -> String { dir.isEmpty ? file : dir + "/" + file }

  static func join(_ root: String, _ path: String) -> String {
    path.isEmpty ? root : (root.hasSuffix("/") ? root + path : root + "/" + path)
  }

  static func replace(_ session: String, _ label: String, in path: String) -> String {
    var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    for i in components.indices.dropLast() where components[i] == BoxCgroup.topDirectory && components[i + 1] == session
    {
      components[i + 1] = label
    }
    return components.joined(separator: "/")
  }
}

/// A value written to a cgroup interface file.
package struct CgroupWrite: Equatable, Sendable {
  /// Relative to the driver's root: `memory/boxwalk/SESSION/web/memory.limit_in_bytes` on v1,
  /// `boxwalk/SESSION/web/memory.max` on v2 with cgroup2 at the root.
  package var path: String
  package var value: String
  /// The learner's `cgroup set` this write carries out, if any.
  package var setting: CgroupSetting?

  package init(path: String, value: String, setting: CgroupSetting? = nil) {
    self.path = path
    self.value = value
    self.setting = setting
  }

  /// The interface file's name: `memory.limit_in_bytes`.
  package var file: String { path.split(separator: "/").last.map(String.init) ?? path }
}

extension String {
  /// Every occurrence of `target` replaced (the standard library has no such method without
  /// Foundation).
  fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
