import Kernel

/// The teaching text around each step: the shell command a learner would type on a real Linux
/// machine for the same effect, and why the kernel behaves as it does. `<web>` stands for web's
/// host PID, which is volatile (`show web.host_pid` prints it).
enum StepText {
  /// The equivalent command with util-linux (unshare(1), nsenter(1)) and coreutils.
  static func shell(_ step: Step) -> String {
    switch step {
    case .boxNew:
      return "sleep infinity &    # any process can hold namespaces; boxwalk's is boxwalk-helper"
    case .boxRemove(let box):
      return "kill -KILL <\(box)>"
    case .unshare(_, let kinds):
      var opts = kinds.map(\.utilLinuxOption)
      if kinds.contains(.pid) || kinds.contains(.time) { opts.append("--fork") }
      return "unshare " + opts.joined(separator: " ")
    case .join(_, let kind, let target):
      return "nsenter --target <\(target)> \(kind.utilLinuxOption)"
    case .setHostname(let box, let name):
      return "nsenter --target <\(box)> --uts hostname \(shellQuote(name))"
    case .setDomainname(let box, let name):
      return "nsenter --target <\(box)> --uts domainname \(shellQuote(name))"
    }
  }

  /// Why the kernel does this, with the man page to read next.
  static func why(_ step: Step) -> [String] {
    switch step {
    case .boxNew:
      return [
        "A container starts as an ordinary process. boxwalk forks boxwalk-helper, a small process",
        "that holds this box's namespaces (like containerd-shim or conmon). PR_SET_PDEATHSIG asks",
        "the kernel to kill it if boxwalk dies. Until you unshare, it sees what the host sees.",
        "See fork(2), prctl(2), execve(2).",
      ]
    case .boxRemove:
      return [
        "A namespace lives as long as a process (or an open file or bind mount) uses it. Killing",
        "the box's last process frees every namespace that only it used. See namespaces(7).",
      ]
    case .unshare(_, let kinds):
      var lines = [
        "unshare(2) gives the calling process new namespaces of these kinds, so it stops sharing",
        "them with the host. The new namespaces start as copies of the old ones.",
      ]
      for kind in kinds { lines.append("\(kind.rawValue): isolates \(kind.isolates).") }
      if kinds.contains(.pid) || kinds.contains(.time) {
        lines.append(
          "pid and time namespaces take effect for children only: the caller stays where it is, and"
        )
        lines.append("the next process it starts is the first in the new namespace (pid_namespaces(7)).")
      }
      if kinds.contains(.mnt) {
        lines.append("After CLONE_NEWNS boxwalk makes / private, so mounts in the box never propagate to")
        lines.append("the host (mount_namespaces(7), shared subtrees).")
      }
      if kinds.contains(.user) {
        lines.append("A new user namespace gives the box every capability inside it, none outside; the")
        lines.append("other namespaces it creates from now on are owned by it (user_namespaces(7)).")
      }
      return lines
    case .join(_, let kind, let target):
      return [
        "setns(2) moves a process into an existing namespace, found as /proc/PID/ns/\(kind.procEntry)",
        "of a process inside it (here \(target)'s). nsenter(1) and `docker exec` work this way.",
      ]
    case .setHostname, .setDomainname:
      return [
        "sethostname(2) and setdomainname(2) change the names stored in the UTS namespace the caller",
        "is in. Processes in that namespace see the new name; every other UTS namespace keeps its own.",
        "It needs CAP_SYS_ADMIN in the user namespace that owns the UTS namespace. See uts_namespaces(7).",
      ]
    }
  }

  /// Quotes a word for a POSIX shell when it needs it.
  static func shellQuote(_ s: String) -> String {
    let safe =
      !s.isEmpty
      && s.unicodeScalars.allSatisfy {
        ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
          || "-_.,:/=@+".unicodeScalars.contains($0)
      }
    return safe ? s : "'" + s.replacingAll("'", with: "'\\''") + "'"
  }

  /// What an errno means for this step, when there is something specific to teach.
  static func errnoHint(_ step: Step, _ errno: Errno) -> String? {
    switch (step, errno) {
    case (.unshare(_, let kinds), .EINVAL) where kinds.contains(.pid):
      return "the box already has a new pid namespace that no process has entered yet; the kernel allows one at a time"
    case (.setHostname, .EPERM), (.setDomainname, .EPERM):
      return
        "the box's UTS namespace belongs to a user namespace where the box has no CAP_SYS_ADMIN (it was created before `unshare user`); unshare uts again"
    case (.join(_, .user, _), .EINVAL):
      return "the box is already in that user namespace; a process cannot re-enter its own user namespace"
    case (.join, .EACCES):
      return "the box is in a user namespace of its own, so it has no capabilities on the host, and the kernel will not let it open another process's /proc/PID/ns files (ptrace access check, proc(5))"
    case (.join(_, .pid, _), .ENOENT):
      return "no process has entered that pid namespace yet, so the kernel cannot hand it out through pid_for_children"
    case (.join, .EPERM):
      return
        "setns needs CAP_SYS_ADMIN in the user namespace that owns the target; the box has capabilities only in its own user namespace and below"
    case (.join(_, .pid, _), .EINVAL):
      return "a process may only move its children into its own pid namespace or one below it"
    default:
      return nil
    }
  }
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
