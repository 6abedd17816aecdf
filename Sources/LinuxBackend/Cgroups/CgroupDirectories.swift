import Kernel
import Glibc

/// Making cgroup directories, shared by both drivers. In a cgroup file system mkdir(2) is how a
/// cgroup is created: the kernel fills the directory with the interface files of the hierarchy's
/// controllers (cgroups(7), "Creating cgroups and moving processes").
enum CgroupDirectories {
  /// mkdir(2) unless it is there: `boxwalk/` and `boxwalk/SESSION` are shared by every box.
  static func ensure(
    _ dir: String, files: any CgroupFileSystem, root: String, into actions: inout [CgroupAction]
  ) throws(CgroupError) {
    do {
      try files.makeDirectory(CgroupAction.join(root, dir))
      actions.append(.makeDirectory(dir))
    } catch  where error.errno == EEXIST && files.isDirectory(CgroupAction.join(root, dir)) == true {
      return
    } catch {
      throw CgroupError(error, explanation: "could not make the cgroup directory \(dir)")
    }
  }

  /// mkdir(2) of the box's own cgroup, which must be new: a directory already there was not made
  /// by this box, and boxwalk never adopts what it did not make (runc refuses
  /// a non-empty or frozen pre-existing cgroup for the same reason).
  static func makeBox(
    _ dir: String, files: any CgroupFileSystem, root: String, into actions: inout [CgroupAction]
  ) throws(CgroupError) {
    do {
      try files.makeDirectory(CgroupAction.join(root, dir))
      actions.append(.makeDirectory(dir))
    } catch  where error.errno == EEXIST {
      let isCgroup = files.isDirectory(CgroupAction.join(root, dir)) == true
      throw CgroupError(
        error,
        explanation: isCgroup
          ? "the box's cgroup already exists; boxwalk does not adopt a cgroup it did not make"
          : "an interface file of the parent cgroup has this name; give the box another name")
    } catch {
      throw CgroupError(error, explanation: "could not make the box's cgroup")
    }
  }

  /// The box's cgroup must exist to be read.
  static func requireExisting(_ dir: String, files: any CgroupFileSystem, root: String) throws(CgroupError) {
    guard files.isDirectory(CgroupAction.join(root, dir)) == true else {
      throw CgroupError(
        call: "open(\(SmallFiles.quoted(CgroupAction.join(root, dir))))", errno: .ENOENT,
        explanation: "the box has no cgroup; make one with cgroup new")
    }
  }

  /// A cgroup path as /proc/PID/cgroup prints it (`/user.slice/x.scope`, `/` for the root),
  /// relative to the hierarchy's root: `user.slice/x.scope`, "". nil when it is not absolute or
  /// climbs (`/../x`: the process is outside the reader's cgroup namespace) or has empty parts.
  static func inside(_ path: String) -> String? {
    guard path.hasPrefix("/") else { return nil }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    if parts.count == 1 && parts.first == "" { return "" }
    guard parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
    return parts.joined(separator: "/")
  }

  /// `a/b/c` -> `a/b`; `a` -> "".
  static func parent(of dir: String) -> String {
    guard let slash = dir.lastIndex(of: "/") else { return "" }
    return String(dir[..<slash])
  }
}

extension BoxCgroup {
  /// A session id used as a directory name must pass the same check as a box name.
  static func requireValidSession(_ session: String) throws(CgroupError) {
    guard isValidName(session) else {
      throw CgroupError(
        call: "rmdir(\"\(sessionPath(session))\")", errno: .EINVAL,
        explanation: "\"\(session)\" is not a boxwalk session id")
    }
  }
}
